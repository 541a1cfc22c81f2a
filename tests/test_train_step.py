"""One optimisation step: the batch loss, the objective, and a step equal to hand-written torch."""
import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403
from netgraph.train.losses import LossTerm
from netgraph.train.step import (
    apply_mirroring,
    eager_step,
    make_objective,
    port_loss,
    port_losses,
    train_step,
)


def test_port_loss_means_over_the_batch_and_sums_arrays():
    t = torch.tensor([1.0, 2.0, 3.0])
    assert port_loss(t).item() == 2.0
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])                  # (batch, 2)
    assert port_loss(a).item() == 5.0                          # (3 + 7) / 2


def test_objective_weights_and_zero_weights():
    out = {"A": torch.tensor([1.0, 3.0]), "B": torch.tensor([10.0, 10.0]),
           "C": torch.tensor([float("nan")] * 2)}
    terms = [LossTerm("A", "A", 1.0), LossTerm("B", "B", 0.5), LossTerm("C", "C", 0.0)]
    assert make_objective(terms)(out).item() == 2.0 + 5.0      # C is computed, not summed
    assert make_objective(terms[:1])(out).item() == 2.0
    losses = port_losses(terms, out)
    assert losses["A"] == 2.0 and losses["B"] == 10.0 and np.isnan(losses["C"])
    with pytest.raises(TrainingError, match="every loss has weight 0"):
        make_objective([LossTerm("A", "A", 0.0)])


def model_and_copy():
    torch.manual_seed(0)
    m = torch.nn.Linear(3, 1)
    ref = torch.nn.Linear(3, 1)
    ref.load_state_dict(m.state_dict())
    return m, ref


def test_train_step_equals_hand_written_torch():
    m, ref = model_and_copy()
    x, y = torch.randn(8, 3), torch.randn(8)
    opt = torch.optim.Adam(m.parameters(), 0.01, fused=True)
    ref_opt = torch.optim.Adam(ref.parameters(), 0.01)

    def forward(Input, Output):  # noqa: N803 - port names
        return {"OutputLoss": torch.square(m(Input)[:, 0] - Output)}
    objective = make_objective([LossTerm("OutputLoss", "Output", 1.0)])
    for _ in range(3):
        value, out = train_step(eager_step(forward, objective), opt, opt.step,
                                {"Input": x, "Output": y})
        loss = torch.square(ref(x)[:, 0] - y).mean()
        assert value == pytest.approx(loss.item(), rel=1e-6)
        ref_opt.zero_grad()
        loss.backward()
        ref_opt.step()
    assert torch.allclose(m.weight, ref.weight, atol=1e-6)
    assert set(out) == {"OutputLoss"}


def test_non_finite_loss_leaves_the_weights_alone():
    m, _ = model_and_copy()
    before = m.weight.detach().clone()
    opt = torch.optim.SGD(m.parameters(), 0.1)

    def forward(Input):  # noqa: N803
        return {"L": m(Input)[:, 0] * float("inf")}
    run = eager_step(forward, make_objective([LossTerm("L", "L", 1.0)]))
    value, _ = train_step(run, opt, opt.step, {"Input": torch.ones(2, 3)})
    assert not np.isfinite(value)
    assert torch.equal(m.weight, before)


def test_mirroring_hook_keeps_the_module():
    m = torch.nn.Linear(2, 2)
    for mode in (True, False, Automatic):
        assert apply_mirroring(m, mode) is m

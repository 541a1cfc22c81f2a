"""NetPairEmbeddingOperator, NetGANOperator (layers/training_ops.py, backend/training_ops.py)
and TrainingUpdateSchedule (train/schedule.py): against hand-written torch, batch == one at a
time, Export/Import, and small trainings with stated results."""
import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403
from netgraph.backend.lower import lower

RNG = np.random.default_rng(0)


def embed():
    return NetChain([LinearLayer(4), Tanh, LinearLayer(2)], Input=3)


def hand_embed(net, x):
    w1, b1 = (torch.tensor(NetExtract(net, ("Net", 1, k))) for k in ("Weights", "Biases"))
    w3, b3 = (torch.tensor(NetExtract(net, ("Net", 3, k))) for k in ("Weights", "Biases"))
    return torch.tanh(x @ w1.T + b1) @ w3.T + b3


def test_pair_embedding_distances_against_torch():
    x = RNG.normal(size=(5, 2, 3)).astype(np.float32)
    for dist in (EuclideanDistance, CosineDistance):
        op = NetInitialize(NetPairEmbeddingOperator(embed(), DistanceFunction=dist))
        e = hand_embed(op, torch.tensor(x))                       # (5, 2, 2)
        u, v = e[:, 0], e[:, 1]
        want = ((u - v) ** 2).sum(-1) if dist is EuclideanDistance else \
            1 - torch.nn.functional.cosine_similarity(u, v, dim=-1)
        np.testing.assert_allclose(op(x), want.numpy(), rtol=1e-5, atol=1e-6)
        for i in range(5):
            np.testing.assert_allclose(op(x[i]), op(x)[i], rtol=1e-5, atol=1e-6)
    op = NetPairEmbeddingOperator(embed())
    assert Information(op, "InputPorts") == {"Input": (2, 3)}
    assert NetExtract(op, "Net").head == "NetChain"
    assert "DistanceFunction=CosineDistance" in repr(
        NetPairEmbeddingOperator(embed(), DistanceFunction=CosineDistance))


def test_pair_embedding_errors():
    with pytest.raises(LayerError, match="DistanceFunction to be EuclideanDistance or "
                       "CosineDistance, but received ManhattanDistance"):
        NetPairEmbeddingOperator(embed(), DistanceFunction="ManhattanDistance")
    with pytest.raises(LayerError, match="one input and one output"):
        NetPairEmbeddingOperator(NetGraph([LinearLayer(2), LinearLayer(2)], []))
    with pytest.raises(ShapeError, match="a pair"):
        NetPairEmbeddingOperator(embed(), Input=(3, 3))


def test_pair_embedding_trains_with_the_contrastive_loss():
    """Two clusters; pairs True when the clusters differ (WL's {a, b} -> True form). Stated
    result: after training, a distance threshold of 0.25 (half the margin) tells same-cluster
    from different-cluster pairs for at least 90% of 200 new pairs (about 50% untrained)."""
    x = np.concatenate([RNG.normal(-1, 0.3, (30, 3)), RNG.normal(1, 0.3, (30, 3))])
    y = np.repeat([0, 1], 30)
    idx = RNG.integers(0, 60, (300, 2))
    data = [([x[i], x[j]], bool(y[i] != y[j])) for i, j in idx]
    r = NetTrain(NetPairEmbeddingOperator(embed()), data, All, MaxTrainingRounds=15,
                 TrainingProgressReporting=None)
    assert NetExtract(r["TrainingNet"], "OutputLoss").head == "ContrastiveLossLayer"
    net = r["TrainedNet"]
    test = RNG.integers(0, 60, (200, 2))
    d = net(np.stack([[x[i], x[j]] for i, j in test]))
    accuracy = np.mean((d > 0.25) == (y[test[:, 0]] != y[test[:, 1]]))
    assert accuracy >= 0.9, accuracy


def gan(loss=Automatic):
    g = NetChain([LinearLayer(3), Tanh, LinearLayer(2)], Input=1)
    d = NetChain([LinearLayer(4), Tanh, LinearLayer(1), LogisticSigmoid])
    return NetInitialize(NetGANOperator([g, d], loss))


def test_gan_losses_against_torch_and_the_sign_flipped_gradient():
    s = torch.tensor(RNG.normal(size=(6, 2)), dtype=torch.float32)
    z = torch.tensor(RNG.normal(size=(6, 1)), dtype=torch.float32)
    for loss in ("JensenShannon", "Wasserstein"):
        net = gan(loss)
        gw = {(i, k): torch.tensor(NetExtract(net, ("Generator", i, k)), requires_grad=True)
              for i in (1, 3) for k in ("Weights", "Biases")}
        dw = [torch.tensor(NetExtract(net, ("Discriminator", i, k))) for i in (1, 3)
              for k in ("Weights", "Biases")]

        fake = torch.tanh(z @ gw[1, "Weights"].T + gw[1, "Biases"]) @ gw[3, "Weights"].T \
            + gw[3, "Biases"]
        d_real, d_fake = (torch.sigmoid(torch.tanh(x @ dw[0].T + dw[1]) @ dw[2].T + dw[3])[:, 0]
                          for x in (s, fake))
        real_loss, fake_loss = (-torch.log(d_real), -torch.log(1 - d_fake)) \
            if loss == "JensenShannon" else (-d_real, d_fake)
        out = net({"Sample": s.numpy(), "Latent": z.numpy()})
        np.testing.assert_allclose(out["LossReal"], real_loss.detach(), rtol=1e-5)
        np.testing.assert_allclose(out["LossFake"], fake_loss.detach(), rtol=1e-5)
        np.testing.assert_allclose(out["GeneratedFake"], fake.detach(), rtol=1e-5)
        one = net({"Sample": s.numpy()[2], "Latent": z.numpy()[2]})
        np.testing.assert_allclose(one["LossFake"], out["LossFake"][2], rtol=1e-5)
        # the generator receives minus the gradient of LossFake
        m = lower(net).train()
        o = m(s, z)
        (o["LossReal"].mean() + o["LossFake"].mean()).backward()
        fake_loss.mean().backward()
        np.testing.assert_allclose(m.layers["1"].inner["Generator"].layers["1"].Weights.grad,
                                   -gw[1, "Weights"].grad, rtol=1e-4, atol=1e-7)


def test_gan_ports_loss_choice_and_errors():
    g = LinearLayer(2, Input=1)
    assert NetGANOperator([g, NetChain([LinearLayer(1), LogisticSigmoid])]).params["loss"] \
        == "JensenShannon"
    w = NetGANOperator([g, LinearLayer("Real")])
    assert w.params["loss"] == "Wasserstein"
    assert Information(w, "InputPorts") == {"Sample": 2, "Latent": 1}
    assert Information(w, "OutputPorts") == {"LossReal": "Real", "LossFake": "Real",
                                             "GeneratedFake": 2}
    with pytest.raises(LayerError, match=r"expected \[generator, discriminator\]"):
        NetGANOperator(g)
    with pytest.raises(LayerError, match='"JensenShannon" or "Wasserstein", but received '
                       "'Hinge'"):
        NetGANOperator([g, LinearLayer("Real")], "Hinge")
    with pytest.raises(ShapeError, match="a discriminator that gives one number"):
        NetGANOperator([g, LinearLayer(3)])


def test_update_schedule_alternates_exactly():
    net = gan()
    data = {"Sample": RNG.normal(size=(8, 2)), "Latent": RNG.normal(size=(8, 1))}
    trainer, (gen, _) = NetTrain(net, data, ["$Trainer", "$TrainingGenerator"], BatchSize=8,
                                 TrainingUpdateSchedule=["Discriminator", ("Generator", 2)],
                                 TrainingProgressReporting=None,
                                 TrainingProgressFunction=lambda info: "StopTraining")
    done = trainer["AbsoluteBatch"]   # steps NetTrain ran before it stopped
    seen = [trainer["Net"]]
    for _ in range(4):
        TrainerUpdate(trainer, gen(1))
        TrainerCurrentLoss(trainer)
        seen.append(trainer["Net"])

    def moved(a, b, part):
        return not np.array_equal(NetExtract(a, (part, 1, "Weights")),
                                  NetExtract(b, (part, 1, "Weights")))
    steps = [(moved(a, b, "Discriminator"), moved(a, b, "Generator"))
             for a, b in zip(seen, seen[1:], strict=False)]
    cycle = [(True, False), (False, True), (False, True)]   # D, then G for 2 steps
    assert steps == [cycle[(done + k) % 3] for k in range(4)], (done, steps)


def test_update_schedule_holds_unlisted_arrays_and_checks_its_forms():
    chain = NetChain([LinearLayer(3), Tanh, LinearLayer(1)], Input=2)
    x = RNG.normal(size=(16, 2))
    data = {"Input": x, "Output": x.sum(1, keepdims=True)}
    net = NetInitialize(chain)
    out = NetTrain(net, data, MaxTrainingRounds=2, BatchSize=4, TrainingProgressReporting=None,
                   TrainingUpdateSchedule=[(1, "Biases"), [3]])
    assert np.array_equal(NetExtract(out, (1, "Weights")), NetExtract(net, (1, "Weights")))
    assert not np.array_equal(NetExtract(out, (1, "Biases")), NetExtract(net, (1, "Biases")))
    assert not np.array_equal(NetExtract(out, (3, "Weights")), NetExtract(net, (3, "Weights")))
    with pytest.raises(TrainingError, match="group 'Nope' selects no array"):
        NetTrain(net, data, MaxTrainingRounds=1, TrainingProgressReporting=None,
                 TrainingUpdateSchedule=["Nope"])
    with pytest.raises(OptionError, match="non-empty list of array groups"):
        NetTrain(net, data, TrainingUpdateSchedule="Discriminator")
    with pytest.raises(OptionError, match="positive number of steps"):
        NetTrain(net, data, TrainingUpdateSchedule=[(1, 0)])
    with pytest.raises(OptionError, match="each TrainingUpdateSchedule group"):
        NetTrain(net, data, TrainingUpdateSchedule=[1.5])


def test_gan_trains_towards_the_real_mean():
    """Stated result: real samples ~ N(3, 0.5); the generator (an affine map of the latent,
    initially centred near 0) moves its mean to within 0.75 of 3 in 200 alternating steps."""
    real = RNG.normal(3.0, 0.5, (256, 1))
    gan1 = NetGANOperator([LinearLayer(1, Input=1),
                           NetChain([LinearLayer(8), Tanh, LinearLayer(1), LogisticSigmoid])])
    start = NetExtract(NetInitialize(gan1, RandomSeeding=1), "Generator")
    r = NetTrain(gan1, {"Sample": real, "Latent": RNG.normal(size=(256, 1))}, All,
                 MaxTrainingRounds=25, BatchSize=32, RandomSeeding=1,
                 TrainingUpdateSchedule=["Discriminator", "Generator"],
                 Method=("ADAM", {"LearningRate": 0.05}), TrainingProgressReporting=None)
    z = RNG.normal(size=(2000, 1))
    assert abs(start(z).mean()) < 1.0
    assert abs(NetExtract(r["TrainedNet"], "Generator")(z).mean() - 3.0) < 0.75
    assert set(r["FinalRoundLoss"] if isinstance(r["FinalRoundLoss"], dict) else {}) <= {
        "LossReal", "LossFake"}


def test_operators_export_import(tmp_path):
    for net in (NetInitialize(NetPairEmbeddingOperator(embed(), DistanceFunction=CosineDistance)),
                gan("Wasserstein")):
        back = Import(Export(str(tmp_path / "op.netgraph"), net))
        assert back.params == net.params or repr(back) == repr(net)
        x = {"Input": RNG.normal(size=(2, 3))} if "Input" in net.input_ports() else {
            "Sample": RNG.normal(size=2), "Latent": RNG.normal(size=1)}
        a, b = net(x), back(x)
        for k in (a if isinstance(a, dict) else {"": a}):
            np.testing.assert_allclose(a[k] if k else a, b[k] if k else b, rtol=1e-6)


def test_operators_export_to_onnx(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    pair = NetInitialize(NetPairEmbeddingOperator(embed()))
    cases = [(pair, {"Input": RNG.normal(size=(3, 2, 3)).astype(np.float32)}),
             (gan("JensenShannon"), {"Sample": RNG.normal(size=(3, 2)).astype(np.float32),
                                     "Latent": RNG.normal(size=(3, 1)).astype(np.float32)})]
    for net, feeds in cases:
        s = ort.InferenceSession(Export(str(tmp_path / "op.onnx"), net))
        want = net(feeds)
        want = want if isinstance(want, dict) else {"Output": want}
        for o, got in zip(s.get_outputs(), s.run(None, feeds), strict=True):
            np.testing.assert_allclose(got, want[o.name], rtol=1e-5, atol=1e-6)

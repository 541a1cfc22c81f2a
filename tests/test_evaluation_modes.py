"""Nothing given to evaluation or a layer is silently ignored: NetEvaluationMode, RandomSeeding,
recurrent Dropout; NetGraphError keeps its head and message apart."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from netgraph import (
    Automatic,
    BatchNormalizationLayer,
    DropoutLayer,
    EvaluationError,
    GatedRecurrentLayer,
    LayerError,
    LinearLayer,
    LongShortTermMemoryLayer,
    NetChain,
    NetGraphError,
    NetInitialize,
    OptionError,
    TrainingError,
)
from netgraph.backend.init import seed_of

X = np.linspace(1.0, 2.0, 64, dtype=np.float32)


def test_dropout_drops_in_train_mode_as_torch_does_with_the_same_seed():
    layer = DropoutLayer(0.9, Input=64)
    assert np.array_equal(layer(X), X)                                   # "Test": identity
    assert np.array_equal(layer(X, NetEvaluationMode="Test"), X)
    got = layer(X, NetEvaluationMode="Train", RandomSeeding=7)
    torch.manual_seed(seed_of(7))
    want = F.dropout(torch.tensor(X)[None], 0.9, training=True)[0].numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert 0 < np.count_nonzero(got) < 64 and set(np.round(got[got != 0] / X[got != 0], 4)) == {10}


def test_batch_normalization_uses_the_batch_statistics_in_train_mode():
    c = 3
    arrays = {"Scaling": np.array([1.0, 2.0, 0.5]), "Biases": np.array([0.0, 1.0, -1.0]),
              "MovingMean": np.array([5.0, 5.0, 5.0]), "MovingVariance": np.array([4.0, 4.0, 4.0])}
    net = BatchNormalizationLayer(Input=c, **arrays)
    xs = np.array([[1.0, 2.0, 3.0], [3.0, 0.0, 1.0], [2.0, 4.0, 8.0]], np.float32)
    mean, var = xs.mean(0), xs.var(0)                                    # biased, as WL
    want = (xs - mean) / np.sqrt(var + 0.001) * arrays["Scaling"] + arrays["Biases"]
    np.testing.assert_allclose(net(xs, NetEvaluationMode="Train"), want, rtol=1e-5, atol=1e-6)
    test = (xs - 5.0) / np.sqrt(4.001) * arrays["Scaling"] + arrays["Biases"]
    np.testing.assert_allclose(net(xs), test, rtol=1e-5, atol=1e-6)      # "Test": moving ones
    np.testing.assert_allclose(net(xs), net(xs, NetEvaluationMode="Test"), rtol=1e-6)
    assert np.array_equal(net.arrays["MovingMean"], [5.0, 5.0, 5.0])    # the value is unchanged
    np.testing.assert_allclose(net(xs, NetEvaluationMode="Train"), want, rtol=1e-5, atol=1e-6)


def test_random_seeding_makes_train_mode_reproducible_and_leaves_torch_alone():
    net = NetInitialize(NetChain([DropoutLayer(0.5), LinearLayer(4)], Input=64), RandomSeeding=1)
    state = torch.get_rng_state()
    a = net(X, NetEvaluationMode="Train", RandomSeeding=11)
    b = net(X, NetEvaluationMode="Train", RandomSeeding=11)
    c = net(X, NetEvaluationMode="Train", RandomSeeding="eleven")
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert torch.equal(torch.get_rng_state(), state)
    fresh = [net(X, NetEvaluationMode="Train", RandomSeeding=Automatic) for _ in range(3)]
    assert not all(np.array_equal(fresh[0], f) for f in fresh[1:])
    np.testing.assert_allclose(net(X, RandomSeeding=11), net(X), rtol=1e-6)  # "Test": no noise


@pytest.mark.parametrize("options, match", [
    ({"NetEvaluationMode": "Banana"},
     'DropoutLayer: expected NetEvaluationMode to be "Test" or "Train", but received \'Banana\''),
    ({"RandomSeeding": 1.5}, "DropoutLayer: expected RandomSeeding to be an integer, a string"),
])
def test_bad_evaluation_options_are_refused(options, match):
    with pytest.raises(OptionError, match=match):
        DropoutLayer(Input=2)([1.0, 2.0], **options)


@pytest.mark.parametrize("make", [lambda d: LongShortTermMemoryLayer(3, Dropout=d),
                                  lambda d: GatedRecurrentLayer(3, Dropout=d)])
@pytest.mark.parametrize("dropout", [0.3, "banana", {"VariationalInput": 0.2}])
def test_recurrent_dropout_is_refused_not_ignored(make, dropout):
    with pytest.raises(LayerError, match=r'recurrent dropout \(the "Dropout" option.*is not '
                                         r"supported; expected Dropout=None, but received"):
        make(dropout)


def test_recurrent_dropout_is_refused_on_every_construction_path():
    lstm = LongShortTermMemoryLayer(3)
    assert lstm.params["dropout"] is None
    with pytest.raises(LayerError, match="recurrent dropout"):
        lstm._replace(params={**lstm.params, "dropout": 0.5})


def test_an_error_keeps_its_head_and_message_apart():
    e = EvaluationError("NetGraph", 'port "Input" expects a vector of size 3.')
    assert (e.head, e.message) == ("NetGraph", 'port "Input" expects a vector of size 3.')
    assert str(e) == 'NetGraph: port "Input" expects a vector of size 3.'
    again = TrainingError("NetTrain", e.message)
    assert str(again) == 'NetTrain: port "Input" expects a vector of size 3.'
    assert isinstance(again, NetGraphError)


def test_an_evaluation_error_names_its_head_apart_from_its_message():
    net = NetInitialize(LinearLayer(2, Input=3))
    with pytest.raises(EvaluationError) as info:
        net([1.0, 2.0])
    assert info.value.head == "LinearLayer" and info.value.message.startswith('port "Input"')

"""ConvolutionLayer, DeconvolutionLayer and PoolingLayer against hand-written torch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from netgraph import *  # noqa: F403

RNG = np.random.default_rng(1)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def T(a):
    return torch.tensor(np.asarray(a))


def check_batch(net, xs):
    batch = net(xs)
    for i, x in enumerate(xs):
        np.testing.assert_allclose(batch[i], net(x), rtol=1e-5, atol=1e-5)


def conv_ref(net, x, d, stride=1, padding=0, dilation=1, groups=1):
    w, b = NetExtract(net, "Weights"), NetExtract(net, "Biases")
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[d]
    return conv(T(x), T(w), None if b is Automatic else T(b), stride, padding, dilation,
                groups).numpy()


# -- ConvolutionLayer -----------------------------------------------------------------------

@pytest.mark.parametrize("d", [1, 2, 3])
def test_convolution_each_dimensionality(d):
    shape = (2,) + (6,) * d
    net = NetInitialize(ConvolutionLayer(3, 3, Stride=2, Dilation=1, PaddingSize=1, Input=shape))
    xs = rand(2, *shape)
    np.testing.assert_allclose(net(xs), conv_ref(net, xs, d, 2, 1), rtol=1e-5, atol=1e-5)
    assert NetExtract(net, "Weights").shape == (3, 2) + (3,) * d
    check_batch(net, xs)


def test_convolution_dilation_groups_and_rectangular_kernel():
    net = NetInitialize(ConvolutionLayer(4, (3, 2), Stride=(1, 2), Dilation=(2, 1),
                                         ChannelGroups=2, PaddingSize=(1, 0), Input=(6, 9, 8)))
    assert NetExtract(net, "Weights").shape == (4, 3, 3, 2)
    xs = rand(3, 6, 9, 8)
    want = conv_ref(net, xs, 2, (1, 2), (1, 0), (2, 1), 2)
    assert Information(net, "OutputPorts") == {"Output": want.shape[1:]}
    np.testing.assert_allclose(net(xs), want, rtol=1e-5, atol=1e-5)


def test_convolution_asymmetric_and_same_padding():
    net = NetInitialize(ConvolutionLayer(2, 3, PaddingSize=((2, 0), (0, 1)), Input=(1, 5, 5)))
    xs = rand(2, 1, 5, 5)
    padded = F.pad(T(xs), (0, 1, 2, 0)).numpy()
    np.testing.assert_allclose(net(xs), conv_ref(net, padded, 2), rtol=1e-5, atol=1e-5)
    net = NetInitialize(ConvolutionLayer(2, 4, Stride=2, PaddingSize="Same", Input=(1, 7)))
    assert Information(net, "OutputPorts") == {"Output": (2, 4)}
    xs = rand(2, 1, 7)
    padded = F.pad(T(xs), (1, 2)).numpy()                   # total 3 = (4-1)*2 + 4 - 7
    np.testing.assert_allclose(net(xs), conv_ref(net, padded, 1, 2), rtol=1e-5, atol=1e-5)


def test_convolution_without_biases_and_given_weights():
    w = rand(2, 3, 2)
    net = ConvolutionLayer(2, 2, Weights=w, Biases=None, Input=(3, 5))
    assert net.is_initialized() and "Biases" not in net.arrays
    xs = rand(2, 3, 5)
    np.testing.assert_allclose(net(xs), F.conv1d(T(xs), T(w)).numpy(), rtol=1e-5, atol=1e-5)


def test_convolution_infers_input_channels_from_weights():
    net = NetChain([ConvolutionLayer(2, 2, Weights=rand(2, 3, 2))], Input=(Automatic, 5))
    assert Information(net, "InputPorts") == {"Input": (3, 5)}
    grouped = ConvolutionLayer(4, 2, ChannelGroups=2, Weights=rand(4, 3, 2, 2))
    assert grouped.params["in_channels"] == 6 and grouped.params["dim"] == 2


def test_convolution_interleaving_on_sequences():
    net = NetInitialize(ConvolutionLayer(4, 3, Interleaving=True, Input=("Varying", 5)))
    assert Information(net, "OutputPorts") == {"Output": ("Varying", 4)}
    x = rand(6, 5)
    want = conv_ref(net, x.T[None], 1)[0].T
    np.testing.assert_allclose(net(x), want, rtol=1e-5, atol=1e-5)
    seqs = [rand(6, 5), rand(4, 5), rand(6, 5)]
    out = net(seqs)
    for s, o in zip(seqs, out, strict=True):
        np.testing.assert_allclose(o, net(s), rtol=1e-5, atol=1e-5)


def test_convolution_backward_inference():
    net = ConvolutionLayer(4, 3, PaddingSize=1, Dilation=2, Output=(4, 6, 6))
    assert net.in_types["Input"].dims == (None, 8, 8)
    net = ConvolutionLayer(4, 3, Stride=2, Output=(4, 3))
    assert net.in_types["Input"].dims == (None, None)


def test_convolution_in_a_chain_with_batchnorm_and_pooling():
    chain = NetInitialize(NetChain([ConvolutionLayer(3, 3), BatchNormalizationLayer(), Ramp,
                                    PoolingLayer(2, 2), LinearLayer(2)], Input=(1, 6, 6)))
    assert Information(chain, "OutputPorts") == {"Output": 2}
    xs = rand(3, 1, 6, 6)
    h = torch.relu(T(conv_ref(chain[1], xs, 2)) / np.sqrt(1 + 1e-3))   # fresh BN arrays
    h = F.max_pool2d(h, 2, 2).reshape(3, -1)
    want = F.linear(h, T(NetExtract(chain, (5, "Weights"))), T(NetExtract(chain, (5, "Biases"))))
    np.testing.assert_allclose(chain(xs), want.numpy(), rtol=1e-4, atol=1e-5)
    check_batch(chain, xs)


def test_convolution_repr():
    assert repr(ConvolutionLayer(4, (3, 3), Stride=2, PaddingSize="Same")).startswith(
        'ConvolutionLayer(4, (3, 3), Stride=2, PaddingSize="Same")')


@pytest.mark.parametrize("make, match", [
    (lambda: ConvolutionLayer(4, 3, Input=(2, 2, 2)),
     r'port "Input" expects spatial dimensions of at least the \(dilated\) kernel size \[3, 3\] '
     r"after padding, but received an array of dimensions \{2, 2, 2\}"),
    (lambda: ConvolutionLayer(4, (3, 3), Input=(2, 5)),
     'port "Input" expects an array of channels and 2 spatial dimensions, but received a 2.5 '
     "matrix"),
    (lambda: ConvolutionLayer(4, 3, Input=(1, 2, 3, 4, 5)),
     'port "Input" expects an array of channels and 1 to 3 spatial dimensions'),
    (lambda: ConvolutionLayer(4, 3, ChannelGroups=2, Input=(3, 5)),
     r'port "Input" expects a number of channels divisible by ChannelGroups \(2\), but received '
     "a 3.5 matrix"),
    (lambda: ConvolutionLayer(4, 3, Weights=np.zeros((4, 2, 3)), Input=(3, 6)),
     r'port "Input" expects 2 channels \(from its weights\), but received a 3.6 matrix'),
    (lambda: ConvolutionLayer(4, 3, Interleaving=True, Input=(5, "Varying")),
     'port "Input" expects a fixed number of channels'),
])
def test_convolution_shape_errors(make, match):
    with pytest.raises(ShapeError, match="ConvolutionLayer: " + match):
        make()


def test_convolution_error_in_a_graph_names_the_layer():
    with pytest.raises(ShapeError, match=r'NetChain: NetPort\(2, "Input"\) \(ConvolutionLayer\) '
                       r'expects an array of rank 3 .* but NetPort\(1, "Output"\) '
                       r"\(LinearLayer\) gives a vector of size 5"):
        NetChain([LinearLayer(5), ConvolutionLayer(2, (2, 2))], Input=3)


@pytest.mark.parametrize("make, match", [
    (lambda: ConvolutionLayer(0, 3), "expected the number of output channels n to be a positive"),
    (lambda: ConvolutionLayer(2, 0), "expected the kernel size to be a positive integer"),
    (lambda: ConvolutionLayer(2, 3, Stride=(1, 0)), "expected Stride to be a positive integer"),
    (lambda: ConvolutionLayer(2, 3, PaddingSize=-1), "expected PaddingSize to be n"),
    (lambda: ConvolutionLayer(2, 3, PaddingSize=((1, 2, 3),)), "expected PaddingSize to be n"),
    (lambda: ConvolutionLayer(3, 3, ChannelGroups=2),
     r"expected n \(3\) to be a multiple of ChannelGroups \(2\)"),
    (lambda: ConvolutionLayer(2, 3, ChannelGroups=0), "expected ChannelGroups to be a positive"),
    (lambda: ConvolutionLayer(2, (3, 3), Stride=(1, 1, 1)),
     "expected the kernel, Stride, Dilation, PaddingSize and Dimensionality to agree"),
    (lambda: ConvolutionLayer(2, 3, Dimensionality=4), "expected 1 to 3 spatial dimensions"),
    (lambda: ConvolutionLayer(2, 3, Dimensionality="x"), "expected Dimensionality to be"),
    (lambda: ConvolutionLayer(2, 3, Interleaving=1), "expected Interleaving to be True or False"),
    (lambda: ConvolutionLayer(4, 3, Weights=np.zeros((4, 2, 2))),
     r'expected "Weights" of dimensions \{4, c/g, 3\}, but received an array of dimensions '
     r"\[4, 2, 2\]"),
    (lambda: ConvolutionLayer(4, 3, Biases=np.zeros(3)),
     'expected "Biases" to be a vector of length 4'),
])
def test_convolution_parameter_errors(make, match):
    with pytest.raises(LayerError, match="ConvolutionLayer: " + match):
        make()


# -- DeconvolutionLayer ---------------------------------------------------------------------

def deconv_ref(net, x, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    w, b = NetExtract(net, "Weights"), NetExtract(net, "Biases")
    return F.conv_transpose2d(T(x), T(w), T(b), stride, padding, output_padding, groups,
                              dilation).numpy()


def test_deconvolution_stride_padding_groups_dilation():
    net = NetInitialize(DeconvolutionLayer(4, 3, Stride=2, PaddingSize=1, ChannelGroups=2,
                                           Dilation=2, Input=(2, 4, 5)))
    assert NetExtract(net, "Weights").shape == (2, 2, 3, 3)
    xs = rand(2, 2, 4, 5)
    want = deconv_ref(net, xs, 2, 1, 0, 2, 2)
    assert Information(net, "OutputPorts") == {"Output": want.shape[1:]}
    np.testing.assert_allclose(net(xs), want, rtol=1e-5, atol=1e-5)
    check_batch(net, xs)


def test_deconvolution_same_and_asymmetric_crops():
    net = NetInitialize(DeconvolutionLayer(2, 2, Stride=3, PaddingSize="Same", Input=(1, 3, 2)))
    assert Information(net, "OutputPorts") == {"Output": (2, 9, 6)}
    xs = rand(2, 1, 3, 2)
    np.testing.assert_allclose(net(xs), deconv_ref(net, xs, 3, 0, 1), rtol=1e-5, atol=1e-5)
    net = NetInitialize(DeconvolutionLayer(2, 3, PaddingSize=((1, 0), (0, 2)), Input=(1, 3, 4)))
    full = deconv_ref(net, xs := rand(2, 1, 3, 4))
    np.testing.assert_allclose(net(xs), full[:, :, 1:, :-2], rtol=1e-5, atol=1e-5)


def test_deconvolution_infers_input_from_output():
    net = DeconvolutionLayer(2, 3, Stride=2, Output=(2, 9, 9))
    assert net.in_types["Input"].dims == (None, 4, 4)
    assert DeconvolutionLayer(2, 3, Weights=rand(5, 2, 3)).params["in_channels"] == 5


def test_deconvolution_errors():
    with pytest.raises(ShapeError, match=r'DeconvolutionLayer: port "Output" expects a size that '
                       r"DeconvolutionLayer can produce in spatial dimension 1 \(stride 2\), but "
                       "received size 8"):
        DeconvolutionLayer(2, 3, Stride=2, Output=(2, 8, 8))
    with pytest.raises(ShapeError, match='DeconvolutionLayer: port "Input" expects spatial '
                       "dimensions large enough"):
        DeconvolutionLayer(2, 2, PaddingSize=2, Input=(1, 1))
    with pytest.raises(LayerError, match=r'DeconvolutionLayer: expected "Weights" of dimensions '
                       r"\{c, 2, 3\}"):
        DeconvolutionLayer(2, 3, Weights=rand(5, 3, 3))


# -- PoolingLayer ---------------------------------------------------------------------------

@pytest.mark.parametrize("function, torch_pool", [
    (Max, lambda x, k, s: F.max_pool2d(x, k, s)),
    (Mean, lambda x, k, s: F.avg_pool2d(x, k, s)),
    (Total, lambda x, k, s: F.avg_pool2d(x, k, s) * 6),
])
def test_pooling_functions(function, torch_pool):
    net = PoolingLayer((2, 3), (2, 1), Function=function, Input=(3, 6, 7))
    xs = rand(2, 3, 6, 7)
    want = torch_pool(T(xs), (2, 3), (2, 1)).numpy()
    assert Information(net, "OutputPorts") == {"Output": want.shape[1:]}
    np.testing.assert_allclose(net(xs), want, rtol=1e-5, atol=1e-5)
    check_batch(net, xs)


def test_pooling_padding():
    xs = -np.abs(rand(2, 2, 5)) - 1                      # all negative: zero padding would show
    net = PoolingLayer(3, 2, PaddingSize=1, Input=(2, 5))
    np.testing.assert_allclose(net(xs), F.max_pool1d(T(xs), 3, 2, 1).numpy(), rtol=1e-6)
    net = PoolingLayer(3, 2, PaddingSize=1, Function=Mean, Input=(2, 5))
    np.testing.assert_allclose(net(xs), F.avg_pool1d(T(xs), 3, 2, 1).numpy(), rtol=1e-5)
    net = PoolingLayer(2, 2, PaddingSize="Same", Function="Total", Input=(2, 5))
    want = F.avg_pool1d(F.pad(T(xs), (0, 1)), 2, 2).numpy() * 2
    np.testing.assert_allclose(net(xs), want, rtol=1e-5)


def test_pooling_defaults_3d_interleaving_and_backward():
    assert PoolingLayer(2).params["stride"] == 1
    net = PoolingLayer(2, 2, Interleaving=True, Input=(4, 4, 4, 3))
    assert Information(net, "OutputPorts") == {"Output": (2, 2, 2, 3)}
    xs = rand(2, 4, 4, 4, 3)
    want = F.max_pool3d(T(xs).movedim(-1, 1), 2, 2).movedim(1, -1).numpy()
    np.testing.assert_allclose(net(xs), want, rtol=1e-6)
    assert PoolingLayer(3, Output=(2, 5)).in_types["Input"].dims == (2, 7)
    assert repr(PoolingLayer(2, 2, Function=Mean)).startswith("PoolingLayer(2, 2, Function=Mean)")


@pytest.mark.parametrize("make, match", [
    (lambda: PoolingLayer(2, Function=Min), "expected Function to be Max, Mean or Total"),
    (lambda: PoolingLayer(2, 2, Stride=2), "expected the stride once"),
    (lambda: PoolingLayer((2, 2), Input=(3, 1, 5)), "kernel size"),
])
def test_pooling_errors(make, match):
    with pytest.raises(NetGraphError, match="PoolingLayer: .*" + match):
        make()


def test_pooling_rejects_dilation():
    with pytest.raises(OptionError, match="PoolingLayer: unknown option Dilation"):
        PoolingLayer(2, Dilation=2)

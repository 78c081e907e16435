import pytest
import torch
from torch import nn

from lab.models import ConvNet, TwoLayerNet, count_parameters


def test_lenet5_colour_shapes_and_parameter_count():
    net = ConvNet()
    assert net(torch.randn(4, 3, 32, 32)).shape == (4, 10)
    # C1 3*5*5*6+6, C3 6*5*5*16+16, C5 400*120+120, F6 120*84+84, output 84*10+10
    assert count_parameters(net) == 456 + 2416 + 48120 + 10164 + 850 == 62006
    c1 = net.features.c1[0]
    assert tuple(c1.weight.shape) == (6, 3, 5, 5)
    assert count_parameters(net.f6) == 120 * 84 + 84


def test_twolayer_shapes_and_parameter_count():
    net = TwoLayerNet(hidden_sizes=[512])
    assert net(torch.randn(4, 3, 32, 32)).shape == (4, 10)
    assert count_parameters(net) == 3072 * 512 + 512 + 512 * 10 + 10
    deeper = TwoLayerNet(hidden_sizes=[512, 256, 128])
    assert sum(isinstance(m, nn.Linear) for m in deeper.modules()) == 4


@pytest.mark.parametrize("extra", [1, 2, 3])
def test_extra_convs_add_conv_layers(extra):
    net = ConvNet(extra_convs=extra, batch_norm=True)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 3 + extra
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_extra_convs_limit():
    with pytest.raises(ValueError, match="at most|0..3"):
        ConvNet(extra_convs=4)


def test_replace_head_keeps_backbone():
    net = ConvNet()
    before = {k: v.clone() for k, v in net.state_dict().items() if not k.startswith("output")}
    old, new = net.replace_head(5)
    assert (old.out_features, new.out_features, net.num_classes) == (10, 5, 5)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 5)
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)

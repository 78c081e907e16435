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


def test_reset_classifier_keeps_the_features():
    net = ConvNet()
    before = {k: v.clone() for k, v in net.state_dict().items() if not k.startswith("classifier")}
    old = net.reset_classifier(5)
    assert (old.out_features, net.get_classifier().out_features, net.num_classes) == (10, 5, 5)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 5)
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_course_cnn_is_hand_written_from_basic_layers():
    from pathlib import Path

    from lab.models import CourseCNN
    from lab.models.cnn import ConvGroup

    net = CourseCNN(widths=(16, 32, 32), stem_width=8, residual=[True, False, True])
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    allowed = (
        nn.Conv2d,
        nn.BatchNorm2d,
        nn.ReLU,
        nn.GELU,
        nn.MaxPool2d,
        nn.AdaptiveMaxPool2d,
        nn.Linear,
        nn.Sequential,
        ConvGroup,
        CourseCNN,
    )
    assert all(isinstance(m, allowed) for m in net.modules())
    models_dir = Path(__file__).resolve().parent.parent / "lab" / "models"
    assert not any("torchvision" in p.read_text() for p in models_dir.glob("*.py"))
    assert CourseCNN(residual=True).groups[0].residual is not None
    with pytest.raises(ValueError, match="residual"):
        CourseCNN(widths=(8, 8), residual=[True])


def test_convnet_extra_channels_flow_into_the_next_layer():
    net = ConvNet(extra_convs=2, extra_channels=64)
    assert net.features.c1_extra1[0].out_channels == 64 and net.features.c3[0].in_channels == 64
    assert net.features.c3_extra[0].out_channels == 64 and net.features.c5[0].in_channels == 64
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)

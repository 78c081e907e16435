"""Networks, each a plain nn.Module with a swappable ``output`` layer."""

from lab.models.base import Backbone, count_parameters
from lab.models.cnn import CourseCNN
from lab.models.lenet import ConvNet
from lab.models.twolayer import TwoLayerNet

__all__ = ["Backbone", "ConvNet", "CourseCNN", "TwoLayerNet", "count_parameters"]

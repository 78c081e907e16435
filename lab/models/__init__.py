"""Networks, each a ``Classifier``: ``forward_features`` + a swappable linear ``classifier``."""

from lab.models.base import Classifier, count_parameters
from lab.models.cnn import CourseCNN
from lab.models.lenet import ConvNet
from lab.models.twolayer import TwoLayerNet

__all__ = ["Classifier", "ConvNet", "CourseCNN", "TwoLayerNet", "count_parameters"]

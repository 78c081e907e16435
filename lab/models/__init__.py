"""The model side: the networks, each a ``Classifier`` (``forward_features`` + a swappable linear
``classifier``), exported here as configs name them (lab.models.ConvNet); the ``ClassifierModule`` that trains
them (module.py) with the hand-written loss (losses.py); trained networks as files hold them (pretrained.py);
a new head on a pretrained body (head.py)."""

from lab.models.base import Classifier, count_parameters
from lab.models.cnn import CourseCNN
from lab.models.lenet import ConvNet
from lab.models.twolayer import TwoLayerNet

__all__ = ["Classifier", "ConvNet", "CourseCNN", "TwoLayerNet", "count_parameters"]

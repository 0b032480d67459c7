"""Training of piecewise-linear RNNs: exact BPTT with teacher forcing, loss landscapes, gradient theorems."""

from .landscape import LossLandscape, loss_landscape
from .objective import loss_and_gradient
from .optim import SGD, Adam
from .run import TrainingRun
from .theorem import GradientDivergence, gradient_divergence, gt16_dtb_demo, gt16_dtb_setup
from .trainer import train

__all__ = ["train", "TrainingRun", "loss_landscape", "LossLandscape", "loss_and_gradient", "Adam", "SGD",
           "GradientDivergence", "gradient_divergence", "gt16_dtb_setup", "gt16_dtb_demo"]

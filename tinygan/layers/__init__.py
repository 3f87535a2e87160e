"""Hand-written layers: each ``forward`` sits right beside its ``backward``."""

from tinygan.layers.activations import LeakyReLU, ReLU, Sigmoid, Tanh
from tinygan.layers.base import Layer
from tinygan.layers.batchnorm import BatchNorm
from tinygan.layers.dense import Dense

__all__ = ["Layer", "Dense", "LeakyReLU", "ReLU", "Sigmoid", "Tanh", "BatchNorm"]

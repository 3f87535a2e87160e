"""Hand-written layers: each ``forward`` sits right beside its ``backward``."""

from tinygan.layers.activations import LeakyReLU, ReLU, Sigmoid, Tanh
from tinygan.layers.base import Layer
from tinygan.layers.batchnorm import BatchNorm
from tinygan.layers.conv import Conv2D
from tinygan.layers.dense import Dense
from tinygan.layers.dropout import Dropout
from tinygan.layers.minibatch import MinibatchStd
from tinygan.layers.shape import Flatten, Reshape
from tinygan.layers.upsampling import UpSampling2D

__all__ = ["Layer", "Dense", "LeakyReLU", "ReLU", "Sigmoid", "Tanh", "BatchNorm",
           "Conv2D", "UpSampling2D", "Dropout", "MinibatchStd", "Reshape", "Flatten"]

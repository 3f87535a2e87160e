"""``Sequential``: a network is a list of layers run forwards, then backwards."""

from __future__ import annotations

from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from tinygan.layers import Layer
from tinygan.state import load_arrays


class Parameter(NamedTuple):
    """One learned array and its gradient, as an optimizer sees them."""
    name: str            # "3.W": layer index and parameter name
    value: np.ndarray    # the layer's own array: updated in place
    grad: np.ndarray
    layer: Layer | None = None   # its layer: an optimizer skips it while the layer is frozen


class Sequential:
    """A stack of layers.

    ``forward`` feeds each layer's output to the next; ``backward`` walks the
    list in reverse, handing each layer the gradient its successor returned
    (the chain rule, one layer at a time).

    >>> net = Sequential(Dense(784, 512), LeakyReLU(0.2), Dense(512, 1))
    >>> logits = net.forward(x)          # doctest: +SKIP
    >>> dx = net.backward(dlogits)       # doctest: +SKIP
    """

    def __init__(self, *layers: Layer):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential: item {i} is {type(layer).__name__}, not a Layer")
        if not layers:
            raise ValueError("Sequential needs at least one layer, e.g. Sequential(Dense(2, 1))")
        self.layers = list(layers)

    # -- the two passes -------------------------------------------------------------
    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, dy, input_grad: bool = True, accumulate: bool = True):
        """Back-propagate ``dy = dL/d(output)``; returns ``dL/d(input)``.

        ``input_grad=False`` skips the input gradient of the first layer (one
        matrix product saved) when nothing upstream needs it.
        ``accumulate=False`` replaces the gradients instead of adding to them:
        ``zero_grad()`` and ``backward(dy)`` in one, without the pass that fills
        every gradient with zeros first (frozen layers end with zero gradients,
        exactly as after ``zero_grad()``).
        """
        if not accumulate:
            for layer in self.layers:
                layer.begin_overwrite()
        try:
            last = len(self.layers) - 1
            for i in range(last, -1, -1):
                dy = self.layers[i].backward(dy, input_grad=input_grad or i > 0)
        finally:
            if not accumulate:   # also on an error: no gradient is left half-written
                for layer in self.layers:
                    layer.end_overwrite()
        return dy

    # -- parameters ----------------------------------------------------------------
    def parameters(self) -> list[Parameter]:
        """Every learned array with its gradient, in layer order."""
        return [Parameter(f"{i}.{k}", v, layer.grads[k], layer)
                for i, layer in enumerate(self.layers) for k, v in layer.params.items()]

    def zero_grad(self):
        for layer in self.layers:
            layer.zero_grad()

    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameters and buffers (BatchNorm statistics) by name, for checkpoints."""
        state = {}
        for i, layer in enumerate(self.layers):
            for k, v in (*layer.params.items(), *layer.buffers.items()):
                state[f"{i}.{k}"] = v
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]):
        """Copy arrays from ``state`` into the model in place; every name and shape must match."""
        load_arrays(self.state_dict(), state, "model")

    # -- switches ------------------------------------------------------------------
    def train(self, mode: bool = True):
        for layer in self.layers:
            layer.train(mode)
        return self

    def eval(self):
        return self.train(False)

    @property
    def training(self) -> bool:
        return all(layer.training for layer in self.layers)

    @property
    def trainable(self) -> bool:
        return all(layer.trainable for layer in self.layers)

    @trainable.setter
    def trainable(self, value: bool):
        for layer in self.layers:
            layer.trainable = bool(value)

    @contextmanager
    def evaluating(self):
        """``with model.evaluating():`` -- eval mode inside the block; after it, each
        layer back in the mode it had (a model may mix modes)."""
        before = [layer.training for layer in self.layers]
        self.eval()
        try:
            yield self
        finally:
            for layer, mode in zip(self.layers, before):
                layer.train(mode)

    @contextmanager
    def frozen(self):
        """``with model.frozen():`` -- not trainable inside the block, as before after it."""
        before = [layer.trainable for layer in self.layers]
        self.trainable = False
        try:
            yield self
        finally:
            for layer, flag in zip(self.layers, before):
                layer.trainable = flag

    # -- inspection ----------------------------------------------------------------
    def output_shape(self, input_shape: tuple) -> tuple:
        for layer in self.layers:
            input_shape = layer.output_shape(input_shape)
        return input_shape

    def input_shape(self) -> tuple:
        first = self.layers[0]
        for attr in ("in_features", "num_features"):
            if hasattr(first, attr):
                return (None, getattr(first, attr))
        raise ValueError("summary(): give input_shape, the first layer does not tell its width")

    def summary(self, input_shape: tuple | None = None, print_fn=print) -> str:
        """Print (and return) a table of layers, output shapes and parameter counts.

        Counts follow Keras: BatchNorm's running mean and variance are
        non-trainable parameters, and a frozen layer's weights are non-trainable.
        """
        shape = tuple(input_shape) if input_shape is not None else self.input_shape()
        rows, learned, fixed = [], 0, 0
        for i, layer in enumerate(self.layers):
            shape = layer.output_shape(shape)
            t, n = layer.num_params()
            learned, fixed = learned + t, fixed + n
            rows.append((f"{i}: {layer!r}", str(shape), f"{t + n:,}"))
        w0 = max(len("Layer"), *(len(r[0]) for r in rows))
        w1 = max(len("Output shape"), *(len(r[1]) for r in rows))
        line = "-" * (w0 + w1 + 18)
        out = [line, f"{'Layer':<{w0}}  {'Output shape':<{w1}}  {'Params':>12}", line]
        out += [f"{a:<{w0}}  {b:<{w1}}  {c:>12}" for a, b, c in rows]
        out += [line, f"Total params: {learned + fixed:,}", f"Trainable params: {learned:,}",
                f"Non-trainable params: {fixed:,}", line]
        text = "\n".join(out)
        if print_fn is not None:
            print_fn(text)
        return text

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential(\n  {inner}\n)"

"""Optimizers: the only place where weights change.

``backward`` fills gradients; ``step()`` reads them and updates the
parameters in place.  Each optimizer's state (Adam's moments and step count,
SGD's velocities) can be saved with ``state_dict()`` and restored with
``load_state_dict()`` so a resumed run continues exactly where it stopped.
The update formulas are in :mod:`tinygan.kernels.optim`; ``step()`` hands
*all* arrays to one kernel call (``adam_update_all``), which the numba backend
runs as a single compiled loop.
"""

from __future__ import annotations

import numpy as np

from tinygan.kernels import ArrayGroup, adam_update_all, sgd_update_all
from tinygan.state import load_arrays


class Optimizer:
    """Holds the parameter list; subclasses implement ``step``."""

    def __init__(self, params, lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        self.lr = float(lr)

    def zero_grad(self):
        for p in self.params:
            p.grad.fill(0)

    def _slots(self):
        """Named per-parameter state arrays, e.g. {"m": [...], "v": [...]}"""
        return {}

    def state_dict(self) -> dict[str, np.ndarray]:
        state = {"step": np.array(getattr(self, "t", 0), dtype=np.int64)}
        for slot, arrays in self._slots().items():
            for p, a in zip(self.params, arrays):
                state[f"{slot}.{p.name}"] = a
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]):
        load_arrays(self.state_dict(), state, type(self).__name__)
        if hasattr(self, "t"):
            self.t = int(state["step"])


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's form).

    ``v = momentum * v + g;  p -= lr * v``
    """

    def __init__(self, params, lr: float, momentum: float = 0.0):
        super().__init__(params, lr)
        self.momentum = float(momentum)
        self.velocity = [np.zeros_like(p.value) for p in self.params]
        # The same arrays, grouped once for the fused kernel (views, not copies).
        self._groups = [ArrayGroup(p.value for p in self.params),
                        ArrayGroup(p.grad for p in self.params), ArrayGroup(self.velocity)]

    def _slots(self):
        return {"velocity": self.velocity}

    def step(self):
        sgd_update_all(*self._groups, self.lr, self.momentum)


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) with bias correction by step count.

    Defaults are the DCGAN settings the seed tutorials use: ``lr=2e-4``,
    ``beta1=0.5``.  The first step moves every parameter by ``lr * sign(g)``:
    after bias correction ``m_hat = g`` and ``sqrt(v_hat) = |g|``.
    """

    def __init__(self, params, lr: float = 2e-4, beta1: float = 0.5, beta2: float = 0.999,
                 eps: float = 1e-8):
        super().__init__(params, lr)
        for name, b in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Adam {name} must be in [0, 1), got {b}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.t = 0
        self.m = [np.zeros_like(p.value) for p in self.params]
        self.v = [np.zeros_like(p.value) for p in self.params]
        # The same arrays, grouped once for the fused kernel (views, not copies).
        self._groups = [ArrayGroup(p.value for p in self.params),
                        ArrayGroup(p.grad for p in self.params),
                        ArrayGroup(self.m), ArrayGroup(self.v)]

    def _slots(self):
        return {"m": self.m, "v": self.v}

    def step(self):
        self.t += 1
        adam_update_all(*self._groups, self.lr, self.beta1, self.beta2, self.eps, self.t)


def linear_decay(step: int, total: int, final: float, start: float = 0.5) -> float:
    """Learning-rate factor for ``step`` of ``total``.

    1 until ``start * total`` (by default the first half of training), then
    falling linearly to ``final`` at the last step.  Large early steps find the
    modes; small late steps stop the generator from hopping between them and
    sharpen its samples.
    """
    begin = start * total
    span = total - begin
    progress = max(0.0, (step - begin) / span) if span > 0 else 0.0   # 0 .. 1 after begin
    return 1.0 - progress * (1.0 - final)

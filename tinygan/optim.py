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
from tinygan.state import load_arrays, saved_scalar


class Optimizer:
    """Holds the parameter list; ``step()`` updates the parameters of trainable layers.

    Subclasses implement ``_update(values, grads, *slots)``, the rule itself.
    """

    def __init__(self, params, lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not 0 < lr < float("inf"):
            raise ValueError(f"learning rate must be a positive number, got {lr}")
        self.lr = float(lr)
        self._grouped = {}   # which parameters learn -> their arrays, grouped for one kernel call

    def step(self):
        """One update of every parameter whose layer is trainable."""
        self._update(*self._learning())

    def _learning(self):
        """The arrays of the parameters that learn now, as :class:`ArrayGroup` columns:
        values, gradients, then each of ``_slots()``.

        A frozen layer (``trainable = False``) keeps its weights, as in Keras:
        without this its gradient would be 0 but Adam's moments (or SGD's
        velocity) would keep moving it.  Its optimizer state waits unchanged.
        The grouping is made once per pattern of frozen layers.
        """
        mask = tuple(p.layer is None or p.layer.trainable for p in self.params)
        groups = self._grouped.get(mask)
        if groups is None:
            columns = ([p.value for p in self.params], [p.grad for p in self.params],
                       *self._slots().values())
            groups = [ArrayGroup(a for a, on in zip(col, mask) if on) for col in columns]
            self._grouped[mask] = groups
        return groups

    def _update(self, values, grads, *slots):  # pragma: no cover - subclasses override it
        raise NotImplementedError

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
        """Restore the slots and the step count; ValueError, before anything changes,
        if they do not fit.  (A negative count would turn Adam's bias correction into
        a division by ``1 - beta**-1``, and NaN weights, on the next step.)"""
        saved_scalar(state.get("step", 0), "step", owner=type(self).__name__)
        load_arrays(self.state_dict(), state, type(self).__name__)
        if hasattr(self, "t"):
            self.t = int(state["step"])


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's form).

    ``v = momentum * v + g;  p -= lr * v``
    """

    def __init__(self, params, lr: float, momentum: float = 0.0):
        super().__init__(params, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD momentum must be in [0, 1), got {momentum} (at 1 or more "
                             "the velocity never forgets a gradient and the steps grow)")
        self.momentum = float(momentum)
        self.velocity = [np.zeros_like(p.value) for p in self.params]

    def _slots(self):
        return {"velocity": self.velocity}

    def _update(self, values, grads, velocity):
        sgd_update_all(values, grads, velocity, self.lr, self.momentum)


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) with bias correction by step count.

    Defaults are the DCGAN settings the seed tutorials use: ``lr=2e-4``,
    ``beta1=0.5``.  The first step moves every parameter by about ``lr * sign(g)``:
    after bias correction ``m_hat = g`` and ``sqrt(v_hat) = |g|`` (exactly
    ``lr * g / (|g| + eps)``, so a gradient near ``eps`` moves less).
    """

    def __init__(self, params, lr: float = 2e-4, beta1: float = 0.5, beta2: float = 0.999,
                 eps: float = 1e-8):
        super().__init__(params, lr)
        for name, b in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Adam {name} must be in [0, 1), got {b}")
        if not 0.0 < eps < float("inf"):
            raise ValueError(f"Adam eps must be a positive number (it keeps the step finite where "
                             f"a gradient has always been 0), got {eps}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.t = 0
        self.m = [np.zeros_like(p.value) for p in self.params]
        self.v = [np.zeros_like(p.value) for p in self.params]

    def _slots(self):
        return {"m": self.m, "v": self.v}

    def step(self):
        self.t += 1   # counts every step, frozen layers or not (Keras's ``iterations``)
        super().step()

    def _update(self, values, grads, m, v):
        adam_update_all(values, grads, m, v, self.lr, self.beta1, self.beta2, self.eps, self.t)


def linear_decay(step: int, total: int, final: float, start: float = 0.5) -> float:
    """Learning-rate factor for ``step`` of ``total``.

    1 until ``start * total`` (by default the first half of training), then
    falling linearly to ``final`` at the last step.  Large early steps find the
    modes; small late steps stop the generator from hopping between them and
    sharpen its samples.
    """
    begin = start * total
    span = total - begin
    progress = min(1.0, max(0.0, (step - begin) / span)) if span > 0 else 0.0   # 0 .. 1
    # (held at ``final`` past ``total``: a factor below 0 would turn the steps around)
    return 1.0 - progress * (1.0 - final)

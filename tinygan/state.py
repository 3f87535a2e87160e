"""Loading saved arrays back in place: the one check-then-copy behind every ``load_state_dict``.

Models, optimizers and the weight average all save their state as a dict of
named arrays and load it by copying into their *own* arrays (never replacing
them: layers, optimizers and fused kernels hold views of those arrays).  A
partial load would leave a model half old, half new, so everything is checked
before anything is copied.
"""

from __future__ import annotations

import numpy as np


def load_arrays(own: dict[str, np.ndarray], state: dict[str, np.ndarray], owner: str):
    """Copy ``state[k]`` into ``own[k]`` for every name; raise ValueError first if
    the names or any shape differ (``owner`` names what is loaded, e.g. "model")."""
    missing, unexpected = own.keys() - state.keys(), state.keys() - own.keys()
    if missing or unexpected:
        raise ValueError(f"state does not fit this {owner}: missing {sorted(missing)}, "
                         f"unexpected {sorted(unexpected)}")
    for k, v in own.items():
        if np.shape(state[k]) != v.shape:
            raise ValueError(f"state does not fit this {owner}: {k} has shape "
                             f"{np.shape(state[k])}, the {owner} expects {v.shape}")
        # float64 into float32 is a rounding; complex, text or bytes into a weight is not
        if not np.can_cast(np.asarray(state[k]).dtype, v.dtype, "same_kind"):
            raise ValueError(f"state does not fit this {owner}: {k} holds "
                             f"{np.asarray(state[k]).dtype} values, the {owner} expects {v.dtype}")
    for k, v in own.items():
        v[...] = state[k]


def saved_scalar(value, name: str, kinds: str = "iu", what: str = "a count (one integer >= 0)",
                 owner: str | None = None):
    """A single saved value as a Python scalar, if its dtype kind is in ``kinds`` (and,
    unless it is text, it is not negative); else ValueError, saying what it must be.

    Counts are saved as 0-d arrays (an optimizer's step, the weight average's
    updates, the training loop's log count); a damaged one must stop a load,
    not turn into NaN weights later.  ``owner``, if given, names what is
    loaded, as :func:`load_arrays` does.
    """
    a = np.asarray(value)
    if a.shape != () or a.dtype.kind not in kinds or (a.dtype.kind != "U" and not 0 <= a):
        where = f"state does not fit this {owner}: {name!r}" if owner else name
        raise ValueError(f"{where} must be {what}, got {a.dtype} {a!r}")
    return a.item()

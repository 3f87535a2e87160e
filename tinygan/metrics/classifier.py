"""The evaluation classifier: an MLP made of tinygan's own layers.

To score a generator of digits we need something that *reads* digits: a
classifier trained on real data, then shown generated samples.  Its
class probabilities p(y|x) feed :mod:`tinygan.metrics.scores` and its
penultimate-layer activations feed :mod:`tinygan.metrics.frechet`.

::

    x (784, pixels in [0, 1]) -> Dense 256 -> LeakyReLU(0.2)
                              -> Dense 128 -> LeakyReLU(0.2)    <- features (128)
                              -> Dense 10                        <- logits

235,146 float32 values, under 1 MB.  Trained by ``scripts/train_classifier.py``
with softmax cross-entropy (:mod:`tinygan.metrics.softmax`), Adam and small
random shifts of the images; the weights ship in ``tinygan/metrics/weights/``
with the accuracy they reached on held-out data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinygan.files import atomic_write
from tinygan.layers import Dense, LeakyReLU
from tinygan.metrics.softmax import softmax
from tinygan.model import Sequential

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# which shipped classifier reads which data set
WEIGHTS = {"mnist": "mnist_mlp.npz", "fashion-mnist": "fashion_mnist_mlp.npz"}
FOR_DATASET = {"mnist-embedded": "mnist", "mnist": "mnist", "fashion-mnist": "fashion-mnist"}
HIDDEN = (256, 128)


def build_classifier(hidden=HIDDEN, n_classes: int = 10, *, in_features: int = 784, rng=None,
                     dtype=np.float32) -> Sequential:
    """An untrained MLP ``in -> hidden[0] -> ... -> n_classes``, LeakyReLU(0.2) between."""
    rng = np.random.default_rng(rng)
    layers, width = [], in_features
    for h in hidden:
        layers += [Dense(width, int(h), rng=rng, dtype=dtype), LeakyReLU(0.2)]
        width = int(h)
    return Sequential(*layers, Dense(width, n_classes, rng=rng, dtype=dtype))


def as_inputs(images, value_range=(0.0, 1.0)) -> np.ndarray:
    """Images as a float32 (N, 784) array with pixels in [0, 1].

    Accepts uint8 pixels 0..255, or floats in ``value_range`` (a generator's
    output: (0, 1) after a sigmoid, (-1, 1) after a tanh), shaped (N, 784),
    (N, 28, 28) or (N, 1, 28, 28).
    """
    x = np.asarray(images)
    if x.ndim < 2 or int(np.prod(x.shape[1:])) != 784:
        raise ValueError(f"the classifier reads 28x28 images: expected shape (N, 784), "
                         f"(N, 28, 28) or (N, 1, 28, 28), got {x.shape}")
    x = x.reshape(len(x), 784)
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255)
    if not np.all(np.isfinite(x)):
        raise ValueError("images contain NaN or infinity (did the generator diverge?)")
    lo, hi = map(float, value_range)
    return ((x.astype(np.float32) - lo) / (hi - lo)).astype(np.float32)


class Classifier:
    """A trained MLP classifier with the three views the metrics need.

    Parameters
    ----------
    model : Sequential
        Ends with a Dense producing logits; the layer before it is the feature layer.
    name : str
        Which data it reads ("mnist" or "fashion-mnist").
    info : dict, optional
        What the weights file says about itself (accuracies, seed, ...).
    """

    def __init__(self, model: Sequential, name: str = "", info: dict | None = None):
        self.model, self.name, self.info = model, name, dict(info or {})

    def _run(self, x, stop: int | None, batch: int = 2048) -> np.ndarray:
        layers = self.model.layers[:stop]
        out = []
        for i in range(0, len(x), batch):  # chunks keep memory flat for big N
            h = x[i:i + batch]
            for layer in layers:
                h = layer.forward(h)
            out.append(h)
        for layer in layers:  # inference only: drop the caches backward would use
            layer._cache = None
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    def logits(self, images, value_range=(0.0, 1.0)) -> np.ndarray:
        """(N, K) logits."""
        return self._run(as_inputs(images, value_range), None)

    def predict_proba(self, images, value_range=(0.0, 1.0)) -> np.ndarray:
        """(N, K) class probabilities p(y|x), float64."""
        return softmax(self.logits(images, value_range).astype(np.float64))

    def predict(self, images, value_range=(0.0, 1.0)) -> np.ndarray:
        """(N,) most likely class."""
        return self.logits(images, value_range).argmax(axis=1)

    def features(self, images, value_range=(0.0, 1.0)) -> np.ndarray:
        """(N, F) penultimate-layer activations, the input of the last Dense."""
        return self._run(as_inputs(images, value_range), -1)

    def accuracy(self, images, labels, value_range=(0.0, 1.0)) -> float:
        """Share of ``images`` classified as their ``labels``."""
        return float(np.mean(self.predict(images, value_range) == np.asarray(labels)))

    # -- weights files ---------------------------------------------------------------
    def save(self, path, **info):
        """Write weights and ``info`` to ``path`` atomically.

        Numbers and strings are stored as ``info.<name>``, arrays under their own name.
        """
        path = Path(path)
        arrays = {f"param.{k}": v for k, v in self.model.state_dict().items()}
        hidden = [layer.out_features for layer in self.model.layers[:-1]
                  if isinstance(layer, Dense)]
        arrays["hidden"] = np.array(hidden, dtype=np.int64)
        for k, v in {**self.info, **info}.items():
            arrays[k if isinstance(v, np.ndarray) else f"info.{k}"] = np.array(v)
        with atomic_write(path) as f:   # readable by all like any new file: it ships with tinygan
            np.savez_compressed(f, **arrays)

    @classmethod
    def load(cls, path, name: str = "") -> "Classifier":
        """Read a weights file written by :meth:`save` (``allow_pickle=False``)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except (OSError, ValueError) as e:
            raise ValueError(f"cannot read classifier weights {path}: {e}") from None
        if "hidden" not in data:
            raise ValueError(f"{path} is not a tinygan classifier weights file (no 'hidden')")
        state = {k[len("param."):]: v for k, v in data.items() if k.startswith("param.")}
        n_classes = state[f"{2 * len(data['hidden'])}.b"].shape[0]
        model = build_classifier(tuple(data["hidden"]), n_classes)
        model.load_state_dict(state)
        # scalars were stored as info.<name>; arrays (e.g. the held-out indices) by their name
        info = {k[len("info."):]: v.item() for k, v in data.items() if k.startswith("info.")}
        info.update({k: v for k, v in data.items()
                     if not k.startswith(("param.", "info.")) and k != "hidden"})
        return cls(model, name or str(info.get("dataset", "")), info)


def load_classifier(dataset: str) -> Classifier:
    """The shipped classifier for ``dataset`` ("mnist-embedded", "mnist" or "fashion-mnist")."""
    if dataset not in FOR_DATASET:
        raise ValueError(f"no evaluation classifier for data set {dataset!r}: there are "
                         f"classifiers for {', '.join(FOR_DATASET)} (2-D mixtures are scored "
                         "with tinygan.metrics.mode_coverage instead)")
    name = FOR_DATASET[dataset]
    path = WEIGHTS_DIR / WEIGHTS[name]
    if not path.exists():
        raise ValueError(f"the classifier weights {path} are missing; retrain them with "
                         f"'python scripts/train_classifier.py --dataset {name}'")
    return Classifier.load(path, name)

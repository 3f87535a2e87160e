"""tinygan: Generative Adversarial Networks from scratch in NumPy.

The package is organised the way a GAN is built:

* ``tinygan.layers``   -- Dense, activations, BatchNorm, Conv2D, UpSampling2D, Dropout, ...:
                          each ``forward`` beside its ``backward``
* ``tinygan.kernels``  -- the element-wise hot paths, a NumPy twin beside each numba kernel
* ``tinygan.model``    -- ``Sequential``: a stack of layers, run forwards then backwards
* ``tinygan.losses``   -- binary cross-entropy from logits; discriminator and generator losses
* ``tinygan.optim``    -- ``SGD`` and ``Adam``; weights change only in ``step()``
* ``tinygan.gan``      -- ``GAN``: phase 1 (train D) and phase 2 (train G through a frozen D)
* ``tinygan.presets``  -- the seed architectures (``mnist_mlp``, ``mnist_dcgan``, ``toy_mlp``)
* ``tinygan.gradcheck`` -- finite-difference checks that every gradient above is right
* ``tinygan.datasets`` -- IDX files, embedded MNIST, Fashion-MNIST, the 2-D mixtures, batches
* ``tinygan.metrics``  -- mode coverage, classifier score, Frechet distance
* ``tinygan.training`` -- ``Trainer``: the loop with logging, pictures, checkpoints, resume
  (``build``: config -> GAN; ``callbacks``: hooks; ``signals``: Ctrl-C saves first)
* ``tinygan.cli``      -- the ``tinygan train / sample / evaluate / download`` commands
"""

__version__ = "0.1.0"
__all__ = ["Sequential", "GAN", "__version__"]

# Imported on first use (PEP 562), so that ``import tinygan`` -- and with it the
# ``tinygan`` command's entry point -- loads no NumPy: the command line is running
# and can catch Ctrl-C before the heavy imports start.
_LAZY = {"Sequential": "tinygan.model", "GAN": "tinygan.gan"}


def __getattr__(name):
    import importlib
    import importlib.util
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    # tinygan.layers, tinygan.backend, ...: reachable after a plain `import tinygan`,
    # as they were when this file imported them eagerly
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'tinygan' has no attribute {name!r}")

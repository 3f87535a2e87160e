"""Feed a GAN: shuffled, scaled mini-batches of real images, forever.

A GAN's training loop does not think in epochs -- it asks for the next
batch of real images at every discriminator step. :class:`Batches` gives
it that, while still visiting every image once per epoch in a fresh random
order, and can be checkpointed and resumed exactly.

The uint8 pixels are converted to floats once, up front (60,000 MNIST
images are 188 MB as float32), so that each batch is one fancy-index:
tens of microseconds, nothing next to a training step.
"""

import numpy as np


class Batches:
    """An endless, seeded stream of mini-batches from a uint8 image array.

    Parameters
    ----------
    images : numpy.ndarray
        (N, H, W) or (N, C, H, W) uint8 pixels in 0..255, or (N, D).
    batch_size : int
    rng : numpy.random.Generator
        Draws each epoch's permutation. It is the caller's: to resume a run
        exactly, checkpoint ``rng.bit_generator.state`` beside :meth:`state`.
    drop_last : bool
        Skip the incomplete last batch of an epoch, so every batch has
        exactly ``batch_size`` rows (what BatchNorm and a fixed-size
        training step want). If False the last batch of an epoch is shorter.
    value_range : (float, float)
        Pixel 0 maps to ``value_range[0]`` and 255 to ``value_range[1]``:
        (0, 1) to match a sigmoid generator output, (-1, 1) for tanh.
    flatten : bool
        Batches are (B, H*W) for an MLP if True, else (B, 1, H, W) (NCHW).
    dtype : numpy dtype
        Dtype of the batches, float32 by default.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> batches = Batches(np.zeros((100, 28, 28), np.uint8), 64, rng=rng)
    >>> batches.next_batch().shape
    (64, 784)
    """

    def __init__(self, images, batch_size, *, rng, drop_last=True,
                 value_range=(0.0, 1.0), flatten=True, dtype=np.float32):
        images = np.asarray(images)
        if images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 pixels 0..255, got {images.dtype}")
        if images.ndim not in (2, 3, 4) or len(images) == 0:
            raise ValueError(f"images must be a non-empty (N, D), (N, H, W) or (N, C, H, W) "
                             f"array, got shape {images.shape}")
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        n = len(images)
        if drop_last and batch_size > n:
            raise ValueError(f"batch_size {batch_size} is larger than the {n} samples, so with "
                             "drop_last=True there would never be a full batch; use a smaller "
                             "batch_size or drop_last=False")
        lo, hi = map(float, value_range)
        if not lo < hi:
            raise ValueError(f"value_range must be (low, high) with low < high, got {value_range}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError("rng must be a numpy.random.Generator, e.g. np.random.default_rng(seed)")

        if flatten:
            shape = (n, -1)
        elif images.ndim == 3:
            shape = (n, 1) + images.shape[1:]  # add the channel axis: NCHW
        else:
            shape = images.shape
        # Scale once: x = lo + (hi - lo) * pixel / 255. In place, in the output
        # dtype: a float64 temporary of full MNIST would be 376 MB.
        data = images.reshape(shape).astype(dtype)
        data *= hi - lo
        data /= 255.0
        data += lo
        self._data = data
        self.batch_size = int(batch_size)
        self.drop_last = bool(drop_last)
        self.rng = rng
        self.epoch = 0  # number of completed passes over the data
        # The first permutation is drawn lazily, so that building a Batches does
        # not touch ``rng``: restoring rng state before or after construction
        # then resumes the same stream.
        self._perm = None
        self._pos = 0

    @property
    def n_samples(self):
        """Number of images N."""
        return len(self._data)

    def __len__(self):
        """Batches per epoch."""
        n, b = self.n_samples, self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def next_batch(self):
        """The next mini-batch, starting a new shuffled epoch when this one is used up.

        Returns
        -------
        numpy.ndarray
            (B, H*W) or (B, 1, H, W) of ``dtype``; a fresh array the caller may modify.
        """
        if self._perm is None:
            self._perm = self.rng.permutation(self.n_samples)
        index = self._perm[self._pos:self._pos + self.batch_size]
        self._pos += len(index)
        # Roll over as soon as the epoch is used up, so that ``epoch`` counts
        # completed passes and a checkpoint at a boundary has pos == 0.
        remaining = self.n_samples - self._pos
        if remaining == 0 or (self.drop_last and remaining < self.batch_size):
            self._perm = self.rng.permutation(self.n_samples)
            self._pos = 0
            self.epoch += 1
        return self._data[index]

    def __iter__(self):
        """Yield batches forever (across epochs); stop with ``break`` or ``itertools.islice``."""
        while True:
            yield self.next_batch()

    def state(self):
        """A checkpointable snapshot: plain NumPy arrays and ints.

        Returns
        -------
        dict
            ``perm`` (N,) int64 permutation of this epoch, ``pos`` index of
            the next sample in it, ``epoch`` completed passes.
        """
        if self._perm is None:  # the same draw the first batch would make
            self._perm = self.rng.permutation(self.n_samples)
        return {"perm": self._perm.astype(np.int64), "pos": int(self._pos), "epoch": int(self.epoch)}

    def load_state(self, state):
        """Restore a snapshot from :meth:`state` (values may be 0-d arrays, as from ``np.load``).

        For an exact resume, also restore the state of ``rng`` (it draws the
        following epochs' permutations), e.g.
        ``rng.bit_generator.state = saved_rng_state``.
        """
        perm = np.asarray(state["perm"]).astype(np.int64)
        pos, epoch = int(state["pos"]), int(state["epoch"])
        n = self.n_samples
        if perm.shape != (n,) or not np.array_equal(np.bincount(perm, minlength=n), np.ones(n)):
            raise ValueError(f"state['perm'] is not a permutation of the {n} samples")
        if not 0 <= pos <= n or epoch < 0:
            raise ValueError(f"state has pos={pos}, epoch={epoch}; need 0 <= pos <= {n}, epoch >= 0")
        self._perm, self._pos, self.epoch = perm, pos, epoch

"""Shared fixtures.

``backend``: run a test once per kernel backend.  A test that asks for it runs
twice, as ``[numpy]`` and ``[numba]``; the backend that was active before is
restored afterwards.  Without numba the ``[numba]`` case is skipped (the
fallback itself is tested in ``tests/test_backend.py``).
"""

import pytest

from tinygan import backend as _backend
from tinygan import datasets


@pytest.fixture(params=["numpy", "numba"])
def backend(request):
    name = request.param
    if name == "numba" and not _backend.numba_available():
        pytest.skip("numba is not installed")
    before = _backend.get_backend()
    _backend.set_backend(name)
    try:
        yield name
    finally:
        _backend.set_backend(before)


@pytest.fixture(scope="session")
def digits():
    """The embedded MNIST digits, loaded once."""
    return datasets.load("mnist-embedded")


@pytest.fixture
def small_mnist(monkeypatch, digits):
    """Train on the first 320 embedded digits: 5 batches of 64 per epoch."""
    images, labels = digits
    monkeypatch.setattr(datasets, "load", lambda name, split="train": (images[:320], labels[:320]))


@pytest.fixture(scope="session")
def ring_run(tmp_path_factory):
    """A finished 4-iteration ring run, shared by the CLI tests: none of them may change it."""
    from tinygan.cli import main
    out = tmp_path_factory.mktemp("ring") / "run"
    assert main(["train", "--dataset", "ring", "--iterations", "4", "--out", str(out),
                 "--quiet"]) == 0
    return out

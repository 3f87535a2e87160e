"""Choosing the backend, falling back without numba, and what the numba backend promises.

* ``set_backend`` / ``TINYGAN_BACKEND`` select the kernels; a bad name is a clear error.
* Without numba, tinygan runs on its NumPy twins after exactly one warning.
* The numba backend trains bit for bit the same run after run, whatever its
  thread count, and stays close to the NumPy backend.
"""

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tinygan import GAN, backend
from tinygan.kernels import leaky_relu_forward
from tinygan.presets import mnist_mlp

ROOT = Path(__file__).resolve().parent.parent
needs_numba = pytest.mark.skipif(not backend.numba_available(), reason="numba is not installed")


def _run(code, **env):
    """Run ``code`` in a fresh interpreter from the repository root; returns stdout."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    full_env.pop("TINYGAN_BACKEND", None) if "TINYGAN_BACKEND" not in env else None
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip(), proc.stderr


# -- switching ---------------------------------------------------------------------------
def test_set_backend_switches_every_kernel(backend):
    calls = []
    k = leaky_relu_forward
    orig_numpy, orig_numba = k.numpy, k.numba
    try:
        k.numpy = lambda *a: calls.append("numpy") or orig_numpy(*a)
        k.numba = lambda *a: calls.append("numba") or orig_numba(*a)
        k(np.ones((2, 2), np.float32), 0.2)
    finally:
        k.numpy, k.numba = orig_numpy, orig_numba
    assert calls == [backend]


def test_set_backend_returns_and_reports_the_active_backend():
    before = backend.get_backend()
    try:
        assert backend.set_backend("numpy") == "numpy" and backend.get_backend() == "numpy"
        if backend.numba_available():
            assert backend.set_backend(" NUMBA ") == "numba" and backend.get_backend() == "numba"
    finally:
        backend.set_backend(before)


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown backend 'cuda'.*numpy, numba.*TINYGAN_BACKEND"):
        backend.set_backend("cuda")


def test_environment_variable_selects_the_backend():
    code = "from tinygan import backend; print(backend.get_backend())"
    assert _run(code, TINYGAN_BACKEND="numpy")[0] == "numpy"
    if backend.numba_available():
        assert _run(code)[0] == "numba"  # the default
        assert _run(code, TINYGAN_BACKEND="Numba")[0] == "numba"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "TINYGAN_BACKEND": "gpu"})
    assert out.returncode != 0 and "unknown backend 'gpu'" in out.stderr


# -- without numba -----------------------------------------------------------------------
def test_without_numba_tinygan_falls_back_to_numpy_with_one_warning():
    """``sys.modules["numba"] = None`` makes every ``import numba`` fail, as if uninstalled."""
    code = """
        import sys, warnings
        sys.modules["numba"] = None
        warnings.simplefilter("always")
        with warnings.catch_warnings(record=True) as caught:
            import numpy as np
            from tinygan import GAN, backend
            from tinygan.kernels import adam_update_all, leaky_relu_forward
            from tinygan.presets import toy_mlp
            first = backend.set_backend("numba")
            second = backend.set_backend("numba")
            G, D = toy_mlp(rng=0)
            gan = GAN(G, D, latent_dim=2, rng=1)
            stats = gan.train_step(np.random.default_rng(2).normal(size=(16, 2)).astype(np.float32))
        ours = [w for w in caught if "numba could not be imported" in str(w.message)]
        print(first, second, backend.get_backend(), len(ours), ours[0].category.__name__,
              leaky_relu_forward.numba is leaky_relu_forward.numpy,
              adam_update_all.numba is adam_update_all.numpy, np.isfinite(stats["d_loss"]))
    """
    out, _ = _run(code)
    assert out == "numpy numpy numpy 1 RuntimeWarning True True True"


def test_without_numba_the_default_backend_warns_once_too():
    code = """
        import sys, warnings
        sys.modules["numba"] = None
        import numpy as np
        from tinygan import backend
        from tinygan.kernels import leaky_relu_forward
        leaky_relu_forward(np.ones(3, np.float32), 0.2)   # first use reads TINYGAN_BACKEND
        leaky_relu_forward(np.ones(3, np.float32), 0.2)
        print(backend.get_backend())
    """
    out, err = _run(code)
    assert out == "numpy"
    assert err.count("numba could not be imported") == 1


# -- determinism and agreement -----------------------------------------------------------
def _train(name, steps=4, dtype=np.float32, batch=32, seed=0):
    backend.set_backend(name)
    G, D = mnist_mlp(rng=seed, dtype=dtype)
    gan = GAN(G, D, latent_dim=100, rng=seed + 1)
    rng = np.random.default_rng(seed + 2)
    stats = [gan.train_step(rng.random((batch, 784)).astype(dtype)) for _ in range(steps)]
    state = {**{f"G.{k}": v for k, v in G.state_dict().items()},
             **{f"D.{k}": v for k, v in D.state_dict().items()},
             **{f"G_opt.{k}": v for k, v in gan.g_optimizer.state_dict().items()}}
    return stats, state


def _digest(state):
    h = hashlib.sha256()
    for k in sorted(state):
        h.update(k.encode())
        h.update(np.ascontiguousarray(state[k]).tobytes())
    return h.hexdigest()


@needs_numba
def test_numba_training_is_bit_identical_run_after_run_whatever_numba_thread_count():
    before = backend.get_backend()
    try:
        stats_a, state_a = _train("numba")
        stats_b, state_b = _train("numba")
    finally:
        backend.set_backend(before)
    assert stats_a == stats_b
    for k in state_a:
        np.testing.assert_array_equal(state_a[k], state_b[k], err_msg=k)
    assert np.abs(state_a["G.0.W"] - mnist_mlp(rng=0)[0][0].params["W"]).max() > 1e-4  # it moved
    # A fresh process whose numba kernels run on one thread: the same bits.  (The BLAS
    # thread count is left alone: OpenBLAS splits a product differently for another
    # count, which changes its rounding -- on either backend.)
    code = """
        import numba
        numba.set_num_threads(1)
        from tests.test_backend import _digest, _train
        print(_digest(_train("numba")[1]))
    """
    assert _run(code)[0] == _digest(state_a)


@needs_numba
def test_numba_and_numpy_backends_agree():
    before = backend.get_backend()
    try:
        # float64: the two backends differ only in rounding order, ~1e-16 per operation
        s_np, p_np = _train("numpy", steps=3, dtype=np.float64)
        s_nb, p_nb = _train("numba", steps=3, dtype=np.float64)
        worst = max(np.abs(p_np[k] - p_nb[k]).max() for k in p_np)
        print(f"float64: largest difference in any parameter or state after 3 steps: {worst:.1e}")
        assert worst < 1e-10
        for a, b in zip(s_np, s_nb):
            for k in a:
                assert a[k] == pytest.approx(b[k], rel=1e-9, abs=1e-12), k
        # float32: same training, to float32 precision (Adam's first step is lr * sign(g),
        # so a gradient within rounding of 0 may move a weight by 2 lr either way)
        s_np, p_np = _train("numpy", steps=3)
        s_nb, p_nb = _train("numba", steps=3)
        for a, b in zip(s_np, s_nb):
            for k in ("d_loss", "g_loss", "d_x", "d_g_z"):
                assert a[k] == pytest.approx(b[k], rel=1e-3, abs=1e-4), k
        frac = np.mean(np.abs(p_np["G.0.W"] - p_nb["G.0.W"]) > 1e-5)
        assert frac < 0.01, frac
    finally:
        backend.set_backend(before)

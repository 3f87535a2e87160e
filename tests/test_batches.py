"""Batches: every sample once per epoch, the right scaling and layout, exact resume."""

import copy
import io
import itertools
import time

import numpy as np
import pytest

from tinygan.datasets import Batches, load


def id_images(n):
    """(n, 2) uint8 'images' whose two pixels encode the sample's index."""
    ids = np.arange(n)
    return np.stack([ids // 256, ids % 256], axis=1).astype(np.uint8)


def ids_of(batch):
    # value_range=(0, 255) makes the floats equal to the pixels.
    return (batch[:, 0] * 256 + batch[:, 1]).astype(np.int64)


def test_every_sample_once_per_epoch_without_drop_last():
    n, b = 1000, 64
    batches = Batches(id_images(n), b, rng=np.random.default_rng(0), drop_last=False,
                      value_range=(0, 255))
    assert len(batches) == 16  # 15 full batches and one of 40
    orders = []
    for epoch in range(3):
        assert batches.epoch == epoch
        got = [ids_of(batches.next_batch()) for _ in range(len(batches))]
        assert [len(g) for g in got] == [b] * 15 + [40]
        order = np.concatenate(got)
        assert np.array_equal(np.sort(order), np.arange(n))
        orders.append(order)
    assert batches.epoch == 3
    # A fresh permutation every epoch (the chance of a repeat is 1/1000!).
    assert not np.array_equal(orders[0], orders[1])


def test_drop_last_gives_full_distinct_batches():
    n, b = 1000, 64
    batches = Batches(id_images(n), b, rng=np.random.default_rng(0), value_range=(0, 255))
    assert len(batches) == 15
    dropped = []
    for epoch in range(4):
        assert batches.epoch == epoch
        got = np.concatenate([ids_of(batches.next_batch()) for _ in range(15)])
        assert len(got) == 960 and len(np.unique(got)) == 960
        dropped.append(frozenset(np.setdiff1d(np.arange(n), got)))
    assert len(set(dropped)) > 1  # a different 40 are left out each epoch


def test_scaling_and_layout():
    images = np.array([[[0, 255], [128, 1]]] * 3, dtype=np.uint8)  # (3, 2, 2)
    pix = images[0].astype(np.float64)
    for lo, hi in ((0.0, 1.0), (-1.0, 1.0)):
        flat = Batches(images, 2, rng=np.random.default_rng(0), value_range=(lo, hi)).next_batch()
        assert flat.shape == (2, 4) and flat.dtype == np.float32
        np.testing.assert_allclose(flat[0], (lo + (hi - lo) * pix / 255).ravel(), rtol=0, atol=2e-7)
        assert flat[0, 0] == lo and flat[0, 1] == hi  # the end points are exact
    nchw = Batches(images, 2, rng=np.random.default_rng(0), flatten=False).next_batch()
    assert nchw.shape == (2, 1, 2, 2)
    f64 = Batches(images, 2, rng=np.random.default_rng(0), dtype=np.float64).next_batch()
    assert f64.dtype == np.float64 and f64[0, 2] == 128 / 255


def test_same_seed_same_stream():
    images = id_images(300)
    a = Batches(images, 32, rng=np.random.default_rng(7))
    b = Batches(images, 32, rng=np.random.default_rng(7))
    for x, y in zip(itertools.islice(a, 50), itertools.islice(b, 50)):
        np.testing.assert_array_equal(x, y)


def test_exact_resume_from_checkpoint():
    images = id_images(500)
    rng = np.random.default_rng(3)
    batches = Batches(images, 64, rng=rng, value_range=(0, 255))
    for _ in range(11):  # into the second epoch
        batches.next_batch()
    state, rng_state = batches.state(), copy.deepcopy(rng.bit_generator.state)
    # Through np.savez and back, as a checkpoint file would do it.
    buf = io.BytesIO()
    np.savez(buf, **state)
    buf.seek(0)
    saved = dict(np.load(buf))
    expected = [batches.next_batch() for _ in range(20)]

    # Either order of restoring works: building a Batches draws nothing from rng.
    for restore_rng_first in (True, False):
        rng2 = np.random.default_rng(999)  # a different seed, then restored
        if restore_rng_first:
            rng2.bit_generator.state = rng_state
        resumed = Batches(images, 64, rng=rng2, value_range=(0, 255))
        if not restore_rng_first:
            rng2.bit_generator.state = rng_state
        resumed.load_state(saved)
        assert resumed.epoch == 1
        for want in expected:
            np.testing.assert_array_equal(resumed.next_batch(), want)
        assert resumed.epoch == batches.epoch == 4  # 31 batches of 7 per epoch


def test_state_is_a_copy_and_validated():
    batches = Batches(id_images(10), 4, rng=np.random.default_rng(0))
    state = batches.state()
    state["perm"][:] = 0  # must not corrupt the live iterator
    batches.next_batch()
    with pytest.raises(ValueError, match="not a permutation"):
        batches.load_state(state)
    with pytest.raises(ValueError, match="not a permutation"):
        batches.load_state({"perm": np.arange(9), "pos": 0, "epoch": 0})
    with pytest.raises(ValueError, match="pos=11"):
        batches.load_state({"perm": np.arange(10), "pos": 11, "epoch": 0})


def test_validation():
    images = id_images(10)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="batch_size 11 is larger than the 10 samples"):
        Batches(images, 11, rng=rng)
    whole = Batches(images, 11, rng=rng, drop_last=False)  # fine: one short batch
    assert whole.next_batch().shape == (10, 2)
    with pytest.raises(ValueError, match="uint8"):
        Batches(images.astype(np.float32), 2, rng=rng)
    with pytest.raises(ValueError, match="batch_size"):
        Batches(images, 0, rng=rng)
    with pytest.raises(ValueError, match="value_range"):
        Batches(images, 2, rng=rng, value_range=(1, -1))
    with pytest.raises(TypeError, match="Generator"):
        Batches(images, 2, rng=0)


def test_batch_cost_is_negligible():
    images, _ = load("mnist-embedded")
    batches = Batches(images, 64, rng=np.random.default_rng(0))
    batches.next_batch()
    n = 2000
    t0 = time.perf_counter()
    for _ in range(n):
        batches.next_batch()
    per_batch = (time.perf_counter() - t0) / n
    print(f"Batches.next_batch() for 64 x 784: {per_batch * 1e6:.1f} us")
    assert per_batch < 1e-3  # a training step takes 5-10 ms

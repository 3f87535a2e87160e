"""Checkpoints: exact round trips of every state, atomic writes, clear errors for bad files."""

import json
import os
import pickle
import re
import zipfile

import numpy as np
import pytest

from tinygan import GAN, Sequential
from tinygan.build import build_gan, load_gan
from tinygan.checkpoint import (CheckpointError, load_checkpoint, restore_gan, rng_from_array,
                                rng_to_array, save_checkpoint)
from tinygan.config import TrainConfig
from tinygan.layers import Dense, Layer, LeakyReLU
from tinygan.presets import mnist_mlp, toy_mlp


class Jitter(Layer):
    """A layer that draws random numbers in forward, like Dropout: it owns an ``rng``."""

    def __init__(self, seed):
        super().__init__()
        self.rng = np.random.default_rng(seed)

    def forward(self, x):
        self._cache = True
        return x + self.rng.standard_normal(x.shape).astype(x.dtype)

    def backward(self, dy, input_grad=True):
        self._take_cache()
        return dy


def make_gan(seed=0, latent_dim=2, jitter=True):
    G, D = toy_mlp(latent_dim, hidden=16, rng=seed)
    if jitter:
        G = Sequential(*G.layers[:2], Jitter(seed + 100), *G.layers[2:])
    return GAN(G, D, latent_dim=latent_dim, rng=seed + 1)


def train(gan, steps, seed=5):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        gan.train_step(rng.standard_normal((16, 2)).astype(np.float32))


def everything(gan):
    """Every array and generator state that decides the next step."""
    state = {}
    for tag, model, opt in (("G", gan.generator, gan.g_optimizer),
                            ("D", gan.discriminator, gan.d_optimizer)):
        state.update({f"{tag}/{k}": v.copy() for k, v in model.state_dict().items()})
        state.update({f"{tag}_opt/{k}": np.array(v) for k, v in opt.state_dict().items()})
    state["rng"] = json.dumps(gan.rng.bit_generator.state)
    state["jitter"] = json.dumps(gan.generator[2].rng.bit_generator.state)
    return state


def test_rng_state_round_trip():
    rng = np.random.default_rng(42)
    rng.standard_normal(10)
    stored = rng_to_array(rng)
    assert stored.ndim == 0 and stored.dtype.kind == "U"   # plain text, no pickle
    expected = rng.standard_normal(5)
    other = np.random.default_rng(0)
    rng_from_array(stored, other)
    np.testing.assert_array_equal(other.standard_normal(5), expected)


def test_rng_state_of_another_bit_generator_is_rejected():
    stored = rng_to_array(np.random.Generator(np.random.MT19937(1)))
    with pytest.raises(CheckpointError, match="MT19937"):
        rng_from_array(stored, np.random.default_rng(0))


def test_save_and_restore_everything(tmp_path):
    gan = make_gan(seed=0)
    train(gan, 3)
    path = save_checkpoint(tmp_path / "c.npz", config={"preset": "toy-mlp"}, iteration=3,
                           gan=gan, extra={"note": np.arange(3)})
    before = everything(gan)

    fresh = make_gan(seed=9)
    assert everything(fresh)["G/0.W"].tolist() != before["G/0.W"].tolist()
    ckpt = load_checkpoint(path)
    restore_gan(ckpt, fresh)
    after = everything(fresh)
    assert after.keys() == before.keys()
    for k in before:
        np.testing.assert_array_equal(after[k], before[k], err_msg=k)
    assert ckpt.iteration == 3 and ckpt.config == {"preset": "toy-mlp"}
    np.testing.assert_array_equal(ckpt.group("extra")["note"], np.arange(3))
    # And the next step is the same, bit for bit (the jitter layer's draws included).
    train(gan, 2, seed=7)
    train(fresh, 2, seed=7)
    for k, v in everything(gan).items():
        np.testing.assert_array_equal(everything(fresh)[k], v, err_msg=k)


def test_file_holds_only_plain_arrays_and_no_temp_files_remain(tmp_path):
    gan = make_gan()
    save_checkpoint(tmp_path / "c.npz", config={}, iteration=0, gan=gan)
    with np.load(tmp_path / "c.npz", allow_pickle=False) as f:
        kinds = {f[k].dtype.kind for k in f.files}
    assert "O" not in kinds and {"f", "U", "i"} <= kinds
    assert os.listdir(tmp_path) == ["c.npz"]


def test_failed_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    gan = make_gan()
    path = save_checkpoint(tmp_path / "c.npz", config={"n": 1}, iteration=1, gan=gan)
    good = path.read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, config={"n": 2}, iteration=2, gan=gan)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["c.npz"]


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nope.npz")


def test_run_directory_means_its_checkpoint(tmp_path):
    save_checkpoint(tmp_path / "checkpoint.npz", config={}, iteration=4, gan=make_gan())
    assert load_checkpoint(tmp_path).iteration == 4


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip"])
def test_corrupt_file_gives_a_clear_error(tmp_path, damage):
    path = save_checkpoint(tmp_path / "c.npz", config={}, iteration=0, gan=make_gan())
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = bytearray(b"this is not a zip file at all" * 10)
    else:  # flip bytes inside the stored weights: the zip CRC check catches it
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("G/0.W.npy")
        start = info.header_offset + 30 + len(info.filename) + 200
        data[start:start + 8] = bytes(b ^ 0xFF for b in data[start:start + 8])
    path.write_bytes(bytes(data))
    # garbage from the first byte on is not even an .npz archive: it says so
    expected = "it is a text file" if damage == "garbage" else "corrupt or truncated"
    with pytest.raises(CheckpointError, match=expected):
        load_checkpoint(path)


def test_npz_that_is_not_a_checkpoint(tmp_path):
    np.savez(tmp_path / "other.npz", W=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a tinygan checkpoint"):
        load_checkpoint(tmp_path / "other.npz")


def test_shape_mismatch_is_reported(tmp_path):
    path = save_checkpoint(tmp_path / "c.npz", config={"preset": "toy-mlp"}, iteration=0,
                           gan=make_gan(latent_dim=2, jitter=False))
    wider = make_gan(latent_dim=3, jitter=False)
    with pytest.raises(CheckpointError, match=r"generator.*does not fit.*0\.W.*shape"):
        restore_gan(load_checkpoint(path), wider)


def test_checkpoint_of_another_preset_is_reported(tmp_path):
    G, D = mnist_mlp(8, rng=0)
    path = save_checkpoint(tmp_path / "c.npz", config={"preset": "mnist-mlp"}, iteration=0,
                           gan=GAN(G, D, latent_dim=8))
    with pytest.raises(CheckpointError, match="preset 'mnist-mlp'"):
        restore_gan(load_checkpoint(path), make_gan(latent_dim=8, jitter=False))


def test_random_layers_must_match(tmp_path):
    path = save_checkpoint(tmp_path / "c.npz", config={}, iteration=0, gan=make_gan(jitter=True))
    G, D = toy_mlp(2, hidden=16, rng=0)
    G = Sequential(*G.layers[:2], LeakyReLU(0.2), *G.layers[2:])  # same parameters, no rng
    plain = GAN(G, D, latent_dim=2)
    with pytest.raises(CheckpointError, match="random layers"):
        restore_gan(load_checkpoint(path), plain)


def test_dense_only_model_has_no_layer_rngs(tmp_path):
    G = Sequential(Dense(2, 4, rng=0))
    D = Sequential(Dense(4, 1, rng=1))
    path = save_checkpoint(tmp_path / "c.npz", config={}, iteration=0,
                           gan=GAN(G, D, latent_dim=2))
    assert not [k for k in load_checkpoint(path).arrays if k.startswith("rng/G")]


# -- files that are not (whole) checkpoints: a CheckpointError, never another exception ------
# The cases a reviewer built by hand (mkbad.py), each made here from a fresh checkpoint.
def ring_checkpoint(path):
    """A real checkpoint of the ring's mixture-mlp GAN: a config that load_gan can rebuild."""
    config = TrainConfig(dataset="ring", iterations=1, batch_size=32,
                         out=str(path.parent)).resolved()
    gan = build_gan(config, model_rng=0, gan_rng=0)
    return save_checkpoint(path, config=config.to_dict(), iteration=3, gan=gan, version="0.1.0")


def rewrite(path, changes: dict):
    """Save ``path`` again with some arrays replaced (or removed, where the value is None)."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    for key, value in changes.items():
        if key == "config" and isinstance(value, dict):   # settings to change in the JSON
            value = np.array(json.dumps({**json.loads(str(arrays["config"])), **value}))
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    with open(path, "wb") as f:   # a file object: np.savez would add .npz to a name
        np.savez(f, **arrays)


def npy_file(path):
    with open(path, "wb") as f:
        np.save(f, np.arange(3))   # e.g. `tinygan sample`'s output


def junk_member(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("format.npy", b"garbage")   # NpzFile returns such a member as bytes


def bad_npy_header(offset):
    """Damage: flip the byte at ``offset`` from the end of a .npy header dict ('}')."""
    def damage(path):
        with zipfile.ZipFile(path) as z:   # the largest member: numpy parses its header
            biggest = max(z.infolist(), key=lambda i: i.file_size)   # before the CRC check
        data = bytearray(path.read_bytes())
        end = data.index(b"}", data.index(b"'shape'", biggest.header_offset))
        data[end + offset] ^= 0xFF
        path.write_bytes(bytes(data))
    return damage


def cut(path, keep):
    data = path.read_bytes()
    path.write_bytes(data[:keep(len(data))])


# name: (a function that damages the file, or the arrays to change; the message must contain)
UNREADABLE = {
    "npy": (npy_file, "not a tinygan checkpoint (an .npz archive written by tinygan train): "
                      "it is a lone .npy array (such as tinygan sample writes)"),
    "text": (lambda p: p.write_text("iteration,d_loss\n0,0.5\n"),   # e.g. history.csv
             "not a tinygan checkpoint (an .npz archive written by tinygan train): it is a "
             "text file"),
    "pickle": (lambda p: p.write_bytes(pickle.dumps({"W": 1})),
               "not a tinygan checkpoint (an .npz archive written by tinygan train): it is not "
               "a .npz archive"),
    "zipjunk": (junk_member, "format are not .npy arrays"),
    "header_open": (bad_npy_header(0), "corrupt or truncated (TokenError"),   # no '}'
    "header_flip": (bad_npy_header(9), "corrupt or truncated (ValueError: Cannot parse header"),
    "empty": (lambda p: cut(p, lambda n: 0), "the file is empty (corrupt or truncated)"),
    "trunc_half": (lambda p: cut(p, lambda n: n // 2), "corrupt or truncated"),
    "trunc_tail": (lambda p: cut(p, lambda n: n - 10), "corrupt or truncated"),
    "foreign": ({"format": None, "format_version": None}, "not a tinygan checkpoint"),
    "fmt_arr": ({"format": np.array(["tinygan-checkpoint", "x"])}, "not a tinygan checkpoint"),
    "obj": ({"config": np.array([{"a": 1}], dtype=object)},
            "not a tinygan checkpoint (an .npz archive written by tinygan train): its member "
            "config holds pickled Python objects, which no checkpoint does"),
    "fv_str": ({"format_version": np.array("one")}, "damaged header (format_version: invalid"),
    "fv_missing": ({"format_version": None}, "damaged header (no format_version)"),
    "fv_future": ({"format_version": np.array(2)}, "checkpoint format 2"),
    "noversion": ({"tinygan_version": None}, "damaged header (no tinygan_version)"),
    "noiter": ({"iteration": None}, "damaged header (no iteration)"),
    "iterstr": ({"iteration": np.array("abc")}, "damaged header (iteration:"),
    "iter2d": ({"iteration": np.arange(3)}, "damaged header (iteration:"),
    "iterneg": ({"iteration": np.array(-1)}, "iteration -1 is negative"),
    "cfg_list": ({"config": np.array("[1,2]")}, "config is list JSON"),
    "cfg_badjson": ({"config": np.array("{")}, "damaged header (config:"),
}


@pytest.mark.parametrize("name", UNREADABLE)
def test_not_a_checkpoint_is_a_clear_checkpoint_error(tmp_path, name):
    damage, message = UNREADABLE[name]
    path = ring_checkpoint(tmp_path / "checkpoint.npz")
    damage(path) if callable(damage) else rewrite(path, damage)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and message in text
    assert "allow_pickle" not in text          # numpy's advice to unpickle is never passed on
    assert "\n" not in text and "  " not in text and len(text) < len(str(path)) + 250   # one line


def test_a_directory_named_like_a_checkpoint(tmp_path):
    (tmp_path / "checkpoint.npz").mkdir()
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        load_checkpoint(tmp_path / "checkpoint.npz")


UNUSABLE = {   # readable headers, contents that do not fit: load_gan says so
    "cfg_latent": ({"config": {"latent_dim": 5}}, "does not fit"),
    "cfg_lrstr": ({"config": {"lr": "fast"}}, "its config is not usable"),
    "cfg_otherpreset": ({"config": {"preset": "toy-mlp"}}, "its config is not usable"),
    "noG0W": ({"G/0.W": None}, "missing ['0.W']"),
    "G0W_str": ({"G/0.W": np.full((2, 128), "x")}, "does not fit"),
    "rng_bad": ({"rng/gan": np.array('{"bit_generator": "PCG64", "state": {"state": "x"}}')},
                "cannot restore the random generator"),
    "rng_bad2": ({"rng/gan": np.array('{"bit_generator": "PCG64"}')},
                 "cannot restore the random generator"),
    "rng_num": ({"rng/gan": np.array(5)}, "cannot restore the random generator"),
}


@pytest.mark.parametrize("name", UNUSABLE)
def test_checkpoint_that_does_not_fit_its_model(tmp_path, name):
    changes, message = UNUSABLE[name]
    path = ring_checkpoint(tmp_path / "checkpoint.npz")
    rewrite(path, changes)
    with pytest.raises(CheckpointError, match=re.escape(message)):
        load_gan(load_checkpoint(path))


def test_loading_never_unpickles(tmp_path, monkeypatch):
    seen = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda *a, **kw: (seen.append(kw), real_load(*a, **kw))[1])
    load_checkpoint(ring_checkpoint(tmp_path / "checkpoint.npz"))
    assert seen and all(kw.get("allow_pickle") is False for kw in seen)

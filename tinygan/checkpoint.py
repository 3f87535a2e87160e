"""Checkpoints: everything a run needs to continue exactly where it stopped.

A checkpoint is one ``.npz`` file of plain arrays (no pickles, so loading it
with ``allow_pickle=False`` cannot run code)::

    format, format_version      "tinygan-checkpoint", 1
    tinygan_version, config      the package version; every setting, as JSON text
    iteration                    generator steps done
    G/<i>.<name>, D/<i>.<name>   parameters and buffers (BatchNorm statistics)
    G_opt/<slot>, D_opt/<slot>   optimizer state: Adam's m, v and step count
    G_ema/<i>.<name>             the average of G's weights (only with ``ema``)
    G_ema/updates                how many steps it has averaged (its bias correction)
    rng/gan, rng/feed            numpy Generator states, as JSON text in 0-d arrays
    rng/G/<i>, rng/D/<i>         the state of any layer with an ``rng`` (e.g. Dropout)
    feed/<key>                   the batch iterator's position (permutation, index, epoch)
    extra/<key>                  whatever else the caller keeps (fixed noise, log sums)

Resuming is exact because every source of randomness is in there: with the
same arrays and the same generator states, the next step computes the same
bits.  Writing is atomic (:mod:`tinygan.files`: a temporary file in the same
directory, then ``os.replace``), so an interrupted save never leaves half a
checkpoint.
"""

from __future__ import annotations

import json
import tokenize
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinygan.files import atomic_write

FORMAT = "tinygan-checkpoint"
FORMAT_VERSION = 1
NPY_MAGIC = b"\x93NUMPY"   # how a .npy file starts (a .npz is a zip file of them)
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")   # a zip file's start: a member, or none
NOT_OURS = "not a tinygan checkpoint (an .npz archive written by tinygan train)"


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt, or does not fit the model it is loaded into."""


# -- generator states ---------------------------------------------------------------
def rng_to_array(rng: np.random.Generator) -> np.ndarray:
    """A Generator's state as JSON text in a 0-d unicode array (no pickling needed)."""
    # default=: a few bit generators (MT19937) keep an array in their state
    return np.array(json.dumps(rng.bit_generator.state, default=np.ndarray.tolist))


def rng_from_array(array, rng: np.random.Generator, where: str = "rng"):
    """Set ``rng`` to the state stored by :func:`rng_to_array`."""
    try:
        state = json.loads(str(array[()]))
        if state.get("bit_generator") != type(rng.bit_generator).__name__:
            raise ValueError(f"it is a {state.get('bit_generator')} state, the run uses "
                             f"{type(rng.bit_generator).__name__}")
        rng.bit_generator.state = state
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CheckpointError(f"{where}: cannot restore the random generator ({exc})") from None


def layer_rngs(model) -> dict[str, np.random.Generator]:
    """``{"3": rng}`` for every layer of ``model`` that draws random numbers itself."""
    return {str(i): layer.rng for i, layer in enumerate(model)
            if isinstance(getattr(layer, "rng", None), np.random.Generator)}


# -- writing ------------------------------------------------------------------------
def save_checkpoint(path, *, config: dict, iteration: int, gan, feed=None, feed_rng=None,
                    extra: dict | None = None, version: str = "") -> Path:
    """Write a checkpoint of ``gan`` (and the data feed) atomically to ``path``.

    Parameters
    ----------
    path : str or Path
    config : dict
        Every setting of the run; stored as JSON.
    iteration : int
    gan : tinygan.GAN
    feed : object with ``state() -> dict``, optional
    feed_rng : numpy.random.Generator, optional
        The generator the feed shuffles or samples with.
    extra : dict of str -> array, optional
    version : str
        The tinygan version that wrote the file.
    """
    arrays = {"format": np.array(FORMAT), "format_version": np.array(FORMAT_VERSION),
              "tinygan_version": np.array(version), "config": np.array(json.dumps(config)),
              "iteration": np.array(int(iteration), dtype=np.int64),
              "rng/gan": rng_to_array(gan.rng)}
    for tag, model, opt in (("G", gan.generator, gan.g_optimizer),
                            ("D", gan.discriminator, gan.d_optimizer)):
        arrays.update({f"{tag}/{k}": v for k, v in model.state_dict().items()})
        arrays.update({f"{tag}_opt/{k}": v for k, v in opt.state_dict().items()})
        arrays.update({f"rng/{tag}/{i}": rng_to_array(r) for i, r in layer_rngs(model).items()})
    if gan.g_ema is not None:
        arrays.update({f"G_ema/{k}": v for k, v in gan.g_ema.state_dict().items()})
    if feed is not None:
        arrays.update({f"feed/{k}": np.asarray(v) for k, v in feed.state().items()})
    if feed_rng is not None:
        arrays["rng/feed"] = rng_to_array(feed_rng)
    arrays.update({f"extra/{k}": np.asarray(v) for k, v in (extra or {}).items()})
    return atomic_savez(path, arrays)


def atomic_savez(path, arrays: dict) -> Path:
    """``np.savez`` to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    with atomic_write(path) as f:   # a file object: np.savez adds no ".npz" to it
        np.savez(f, **arrays)
    return path


# -- reading ------------------------------------------------------------------------
@dataclass
class Checkpoint:
    """A loaded, format-checked checkpoint: its settings and all its arrays."""

    path: Path
    config: dict
    iteration: int
    version: str
    arrays: dict

    def group(self, prefix: str) -> dict[str, np.ndarray]:
        """The arrays under ``prefix/``, with the prefix removed from their names."""
        head = prefix + "/"
        return {k[len(head):]: v for k, v in self.arrays.items() if k.startswith(head)}


def resolve_path(path) -> Path:
    """A checkpoint file, or a run directory holding ``checkpoint.npz``."""
    path = Path(path)
    return path / "checkpoint.npz" if path.is_dir() else path


def load_checkpoint(path) -> Checkpoint:
    """Read and check a checkpoint file (or a run directory's ``checkpoint.npz``).

    Raises
    ------
    CheckpointError
        If the file is missing, unreadable, truncated, not a tinygan
        checkpoint, or written by an incompatible version.
    """
    path = resolve_path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    arrays = _read_arrays(path)
    if str(arrays.get("format", np.array(""))[()]) != FORMAT:
        raise CheckpointError(f"{path}: {NOT_OURS}: it has no '{FORMAT}' marker")
    version = _header_field(path, arrays, "format_version", int)
    if version != FORMAT_VERSION:   # checked first: another format may have other fields
        raise CheckpointError(f"{path}: checkpoint format {version}, this tinygan reads "
                              f"format {FORMAT_VERSION}")
    config = _header_field(path, arrays, "config", lambda a: json.loads(str(a)))
    iteration = _header_field(path, arrays, "iteration", int)
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: damaged header (config is {type(config).__name__} "
                              "JSON, not an object of settings)")
    if iteration < 0:
        raise CheckpointError(f"{path}: damaged header (iteration {iteration} is negative)")
    written_by = _header_field(path, arrays, "tinygan_version", str)
    return Checkpoint(path, config, iteration, written_by, arrays)


def _header_field(path: Path, arrays: dict, name: str, convert):
    """``convert`` applied to the 0-d array ``arrays[name]``; CheckpointError naming the field."""
    try:
        return convert(arrays[name][()])
    except KeyError:
        raise CheckpointError(f"{path}: damaged header (no {name})") from None
    except (ValueError, TypeError) as exc:   # e.g. int("one"), int of a 1-d array, bad JSON
        raise CheckpointError(f"{path}: damaged header ({name}: {exc})") from None


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` file ``path``; CheckpointError for anything else."""
    try:
        with open(path, "rb") as raw:
            _check_kind(path, raw.read(512))
        key = None   # the member being read, for a message about it
        with np.load(path, allow_pickle=False) as f:
            arrays = {}
            for key in f.files:   # read everything now: CRC errors surface here
                arrays[key] = f[key]
    except CheckpointError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError,
            SyntaxError, tokenize.TokenError) as exc:   # numpy lets the last two through
        if "allow_pickle" in str(exc):   # numpy's advice to unpickle: not for a checkpoint
            raise CheckpointError(f"{path}: {NOT_OURS}: its member {key} holds pickled Python "
                                  "objects, which no checkpoint does (and loading them could "
                                  "run code)") from None
        # one short line, even when numpy quotes a damaged header full of blanks
        detail = " ".join(str(exc).split())[:160]
        raise CheckpointError(f"{path}: not a readable checkpoint, the file is corrupt or "
                              f"truncated ({type(exc).__name__}: {detail})") from None
    # NpzFile hands back the raw bytes of a member that is not a .npy array
    junk = sorted(k for k, v in arrays.items() if not isinstance(v, np.ndarray))
    if junk:
        raise CheckpointError(f"{path}: not a readable checkpoint, member(s) {', '.join(junk)} "
                              "are not .npy arrays (the file is damaged or not a checkpoint)")
    return arrays


def _check_kind(path: Path, head: bytes):
    """CheckpointError unless ``head``, the file's first bytes, start a zip archive (an .npz).

    Checked before :func:`numpy.load`, which reads a lone ``.npy`` array too
    (such as ``tinygan sample``'s output) and takes any other file for a
    pickle, with advice to unpickle it: never right for a checkpoint.
    """
    if head.startswith(ZIP_MAGIC):
        return
    if not head:
        raise CheckpointError(f"{path}: not a readable checkpoint, the file is empty (corrupt "
                              "or truncated)")
    if head.startswith(NPY_MAGIC):
        what = "a lone .npy array (such as tinygan sample writes)"
    elif all(b >= 32 or b in b"\t\r\n" for b in head):   # no control bytes: text (a CSV...)
        what = "a text file"
    else:
        what = "not a .npz archive"
    raise CheckpointError(f"{path}: {NOT_OURS}: it is {what}")


def restore_gan(ckpt: Checkpoint, gan):
    """Copy models, optimizer states and generator states from ``ckpt`` into ``gan``."""
    for tag, name, model, opt in (("G", "generator", gan.generator, gan.g_optimizer),
                                  ("D", "discriminator", gan.discriminator, gan.d_optimizer)):
        try:
            model.load_state_dict(ckpt.group(tag))
            opt.load_state_dict(ckpt.group(f"{tag}_opt"))
        except ValueError as exc:
            raise CheckpointError(f"{ckpt.path}: the {name} in the checkpoint does not fit the "
                                  f"model built from its config (preset "
                                  f"{ckpt.config.get('preset')!r}): {exc}") from None
        stored, own = ckpt.group(f"rng/{tag}"), layer_rngs(model)
        if stored.keys() != own.keys():
            raise CheckpointError(f"{ckpt.path}: random layers of the {name} differ: checkpoint "
                                  f"has {sorted(stored)}, the model {sorted(own)}")
        for i, rng in own.items():
            rng_from_array(stored[i], rng, f"{ckpt.path}: {name} layer {i}")
    if gan.g_ema is not None:
        try:
            gan.g_ema.load_state_dict(ckpt.group("G_ema"))
        except ValueError as exc:
            raise CheckpointError(f"{ckpt.path}: the average of G's weights is missing or does "
                                  f"not fit ({exc})") from None
    if "rng/gan" not in ckpt.arrays:
        raise CheckpointError(f"{ckpt.path}: the GAN's random generator state is missing")
    rng_from_array(ckpt.arrays["rng/gan"], gan.rng, f"{ckpt.path}: rng/gan")


def restore_feed(ckpt: Checkpoint, feed, feed_rng: np.random.Generator):
    """Put the batch iterator back where it was when ``ckpt`` was written."""
    if "rng/feed" not in ckpt.arrays:
        raise CheckpointError(f"{ckpt.path}: the data feed's random generator state is missing")
    rng_from_array(ckpt.arrays["rng/feed"], feed_rng, f"{ckpt.path}: rng/feed")
    try:
        feed.load_state(ckpt.group("feed"))
    except (ValueError, KeyError) as exc:
        raise CheckpointError(f"{ckpt.path}: the data position does not fit this data set "
                              f"({exc})") from None

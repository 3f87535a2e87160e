"""The pictures a run leaves behind: sample grids, scatters, curves and an animation.

Sample grids are plain pixel arrays written with Pillow (a dependency of
matplotlib): exact pixels, a few milliseconds each.  Charts use matplotlib's
object-oriented API on the Agg canvas -- no ``pyplot``, so nothing here
touches a display or global state.  Every file is written atomically, with
:func:`tinygan.files.atomic_path`: Pillow and matplotlib want a file name,
and the temporary one keeps the target's suffix.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tinygan.files import atomic_path


# -- images -------------------------------------------------------------------------
def to_unit(images, value_range) -> np.ndarray:
    """Images in ``value_range`` -> (N, 28, 28) float in [0, 1] (channel axis dropped)."""
    lo, hi = value_range
    x = (np.asarray(images, dtype=np.float64) - lo) / (hi - lo)
    return np.clip(x, 0.0, 1.0).reshape(len(x), 28, 28)


def image_grid(images, ncols: int = 5, pad: int = 2) -> np.ndarray:
    """Tile (N, H, W) images in [0, 1] into one uint8 picture, ``pad`` black pixels apart."""
    images = np.asarray(images)
    n, h, w = images.shape
    nrows = -(-n // ncols)
    out = np.zeros((nrows * (h + pad) + pad, ncols * (w + pad) + pad), dtype=np.uint8)
    for k in range(n):
        r, c = divmod(k, ncols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y:y + h, x:x + w] = np.round(images[k] * 255)
    return out


def save_image(path, pixels: np.ndarray, scale: int = 2):
    """Write a uint8 grey (H, W) array as PNG, each pixel blown up to ``scale`` x ``scale``."""
    from PIL import Image
    big = np.kron(pixels, np.ones((scale, scale), dtype=np.uint8)) if scale > 1 else pixels
    with atomic_path(path) as tmp:
        Image.fromarray(big).save(tmp, format="PNG")


def save_grid(path, images, ncols: int = 5):
    """A grid PNG of (N, 28, 28) images in [0, 1]."""
    save_image(path, image_grid(images, ncols))


def save_gif(path, frame_paths, seconds_per_frame: float = 0.25, max_frames: int = 100,
             warn=None):
    """An animated GIF of PNG frames (every k-th one if there are more than ``max_frames``).

    The last frame is held four times as long, so the final result can be
    seen.  A frame that cannot be read (damaged, or not a picture) is left
    out with one warning naming it, through ``warn`` (default: stderr): the
    animation, like the other pictures of the run, is still worth having.
    No GIF is written if no frame can be read.
    """
    frame_paths = list(frame_paths)
    if not frame_paths:
        return
    step = -(-len(frame_paths) // max_frames)
    chosen = frame_paths[::step]
    if chosen[-1] != frame_paths[-1]:
        chosen.append(frame_paths[-1])
    frames = [f for f in (_read_frame(p, warn) for p in chosen) if f is not None]
    if not frames:
        return
    ms = int(1000 * seconds_per_frame)
    with atomic_path(path) as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], loop=0,
                       duration=[ms] * (len(frames) - 1) + [4 * ms])


def _read_frame(path, warn=None):
    """The PNG ``path`` as a palette image for a GIF, or None (and a warning) if unreadable."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            return im.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE)
    # OSError: not an image, truncated, a broken stream; the others are Pillow's for
    # damage it finds in a PNG's chunks, and for a frame too large to be ours
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        why = ("not a picture" if isinstance(exc, UnidentifiedImageError)   # its text repeats
               else getattr(exc, "strerror", None) or str(exc))                # the path
        (warn or _print)(f"warning: {path} left out of the animation: {why}")
        return None


def _print(message: str):
    print(message, file=sys.stderr)


# -- charts -------------------------------------------------------------------------
def _figure(width, height, **margins):
    """A Figure on the Agg canvas; fixed margins (an automatic layout costs a second draw)."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=100)
    fig.subplots_adjust(**{"left": 0.12, "right": 0.97, "top": 0.9, "bottom": 0.1, **margins})
    return fig


def _save(fig, path):
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip("."))


def save_scatter(path, samples, reference, title: str = ""):
    """Generated 2-D points (orange) over points of the real mixture (grey)."""
    fig = _figure(4.5, 4.5, left=0.13, bottom=0.08, top=0.93)
    ax = fig.add_subplot()
    ax.scatter(reference[:, 0], reference[:, 1], s=4, c="0.6", alpha=0.5, label="real")
    ax.scatter(samples[:, 0], samples[:, 1], s=4, c="tab:orange", alpha=0.7, label="generated")
    span = 1.25 * float(np.abs(reference).max())
    ax.set(xlim=(-span, span), ylim=(-span, span), aspect="equal", title=title)
    ax.legend(loc="upper right", fontsize=8, markerscale=3)
    _note_outside(ax, samples, span)
    _save(fig, path)


def _note_outside(ax, samples, span: float) -> int:
    """Write on ``ax`` how many generated points lie outside the square of half-width ``span``.

    The limits follow the real data, not the samples, so that every frame of a
    run has the same axes; a generator that drifts off would otherwise just
    look empty.  Returns the count.
    """
    outside = int(np.count_nonzero(np.abs(samples).max(axis=1) > span))
    if outside:
        ax.text(0.02, 0.02, f"{outside:,} of {len(samples):,} generated points outside",
                transform=ax.transAxes, fontsize=8, color="tab:red")
    return outside


def save_real_vs_generated(path, real, fake, title: str = ""):
    """A row of real images above a row of generated ones (both (n, 28, 28) in [0, 1])."""
    n = min(len(real), len(fake))
    pixels = image_grid(np.concatenate([real[:n], fake[:n]]), ncols=n)
    fig = _figure(1.0 * n, 2.6, left=0.11, right=0.99, bottom=0.02, top=0.88)
    ax = fig.add_subplot()
    ax.imshow(pixels, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    h = pixels.shape[0]
    ax.set_yticks([h / 4, 3 * h / 4], ["real", "generated"])
    ax.set_xticks([])
    ax.tick_params(length=0)
    if title:
        ax.set_title(title)
    _save(fig, path)


def save_real_vs_generated_points(path, reference, samples, title: str = ""):
    """For 2-D data: the real mixture beside the generator's points."""
    fig = _figure(8, 4, left=0.07, right=0.98, bottom=0.07, top=0.85, wspace=0.2)
    span = 1.25 * float(np.abs(reference).max())
    for k, (pts, label, colour) in enumerate(((reference, "real", "0.4"),
                                              (samples, "generated", "tab:orange"))):
        ax = fig.add_subplot(1, 2, k + 1)
        ax.scatter(pts[:, 0], pts[:, 1], s=4, c=colour, alpha=0.6)
        ax.set(xlim=(-span, span), ylim=(-span, span), aspect="equal", title=label)
    _note_outside(ax, samples, span)   # on the generated side
    if title:
        fig.suptitle(title)
    _save(fig, path)


def save_losses(path, history):
    """Losses (and Q's code loss with InfoGAN); D(x) and D(G(z)); D's accuracy with the
    50% line of a perfect generator."""
    fig = _figure(7, 8, left=0.1, bottom=0.06, top=0.96, hspace=0.1)
    ax1, ax2, ax3 = fig.subplots(3, 1, sharex=True)
    losses = ("d_loss", "g_loss") + (("q_loss",) if history.series("q_loss")[0] else ())
    for ax, columns, labels in ((ax1, losses, ("D loss", "G loss", "Q's code loss")),
                                (ax2, ("d_x", "d_g_z"), ("D(x), real", "D(G(z)), fake")),
                                (ax3, ("d_acc",), ("D accuracy",))):
        for column, label in zip(columns, labels):
            ax.plot(*history.series(column), label=label, lw=1)
        ax.legend(loc="best", fontsize=8)
        ax.grid(alpha=0.3)
    ax1.set(ylabel="loss", title="Training curves")
    ax2.set(ylabel="mean probability \"real\"", ylim=(-0.02, 1.02))
    ax3.axhline(0.5, color="k", ls="--", lw=1, label="50%: D cannot tell")
    ax3.legend(loc="best", fontsize=8)
    ax3.set(ylabel="accuracy", xlabel="iteration", ylim=(-0.02, 1.02))
    _save(fig, path)


def save_stats(path, history, real_mean: float, real_std: float):
    """Mean and standard deviation of generated values against the real data's."""
    fig = _figure(7, 4, bottom=0.12, top=0.92)
    ax = fig.add_subplot()
    for column, value, colour, label in (("sample_mean", real_mean, "tab:blue", "mean"),
                                         ("sample_std", real_std, "tab:red", "std")):
        ax.plot(*history.series(column), color=colour, marker=".", label=f"generated {label}")
        ax.axhline(value, color=colour, ls="--", lw=1, label=f"real {label}")
    ax.set(xlabel="iteration", ylabel="value", title="Generated vs real: mean and std")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    _save(fig, path)

"""What may change when a run is resumed, and what a resume must refuse.

A resumed run continues *that* run: same model, data, seed and recipe.  Only
the settings in :data:`RESUMABLE` -- which decide what is recorded, not what
is computed -- may differ from the checkpoint's.  :func:`resumed_config`
checks a resume before anything is built.
"""

from __future__ import annotations

import os
from pathlib import Path

from tinygan.checkpoint import Checkpoint, CheckpointError, load_checkpoint
from tinygan.config import ConfigError, TrainConfig
from tinygan.optim import linear_decay
from tinygan.run_folder import holds_run, later_checkpoint

RESUMABLE = ("iterations", "sample_every", "checkpoint_every", "log_every", "eval_every", "out")


def resumed_config(path, overrides: dict | None = None,
                   overwrite: bool = False) -> tuple[Checkpoint, TrainConfig]:
    """The checkpoint in ``path`` (a checkpoint or a run folder) and the config to go on with.

    Raises
    ------
    ConfigError
        ``overrides`` change a setting outside :data:`RESUMABLE`, give a bad
        value, or the resume would replace another run or a later checkpoint
        without ``overwrite``.
    CheckpointError
        ``path`` holds no usable checkpoint.
    """
    if (Path(path) / "config.json").exists() and not (Path(path) / "checkpoint.npz").exists():
        raise ConfigError(f"{path} holds no checkpoint.npz, so there is nothing to resume "
                          "(its run stopped before writing one there); start a new run "
                          "without --resume, or resume the checkpoint it came from")
    ckpt = load_checkpoint(path)
    try:
        config = TrainConfig.from_dict(ckpt.config).resolved()
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"{ckpt.path}: its config is not usable ({exc})") from None
    unknown = sorted(set(overrides or {}) - set(config.to_dict()))
    if unknown:
        raise ConfigError(f"unknown settings {unknown} in the overrides of a resume; "
                          f"only {', '.join(RESUMABLE)} may change")
    conflicts = []
    for key, value in (overrides or {}).items():
        if key not in RESUMABLE and value != getattr(config, key):
            conflicts.append(f"--{key.replace('_', '-')} {value} (checkpoint: "
                             f"{getattr(config, key)})")
        setattr(config, key, value)
    if conflicts:
        raise ConfigError(f"{ckpt.path} was trained with other settings: "
                          f"{'; '.join(conflicts)}. A resumed run keeps its settings; only "
                          f"{', '.join('--' + k.replace('_', '-') for k in RESUMABLE)} "
                          "may change. Start a new run with another --out instead.")
    branch = overrides is not None and overrides.get("out") is not None
    if not branch:
        config.out = str(ckpt.path.parent)
    elif isinstance(config.out, os.PathLike):   # as TrainConfig(out=Path(...)) takes it
        config.out = os.fspath(config.out)
    config.validate()   # the new values too: --iterations -1 is no run length
    config._refuse_no_effect(set(overrides or {}) & set(RESUMABLE))
    if (branch and Path(config.out).resolve() != ckpt.path.parent.resolve()
            and holds_run(Path(config.out)) and not overwrite):
        raise ConfigError(f"{config.out} already holds another run; choose another --out "
                          "or add --overwrite")
    if config.iterations <= ckpt.iteration:
        raise ConfigError(f"{ckpt.path} is already at iteration {ckpt.iteration:,} of "
                          f"{config.iterations:,}; pass a larger --iterations to train on")
    later = later_checkpoint(Path(config.out), ckpt)
    if later and not overwrite:
        raise ConfigError(f"{later[0]} is at iteration {later[1]:,}, later than "
                          f"{ckpt.path.name} ({ckpt.iteration:,}): continuing from "
                          f"{ckpt.path.name} here would replace it and the samples after "
                          f"iteration {ckpt.iteration:,}. Add --overwrite to do that, or "
                          "--out NEW to continue in another folder")
    return ckpt, config


def decay_note(ckpt: Checkpoint, config: TrainConfig) -> str | None:
    """A note if ``--iterations`` changed under a learning-rate decay planned over the old total."""
    planned = int(ckpt.config.get("iterations", config.iterations))
    if config.lr_decay == 1.0 or planned == config.iterations:
        return None
    k, d = ckpt.iteration, config.lr_decay
    return (f"note: the learning-rate decay (--lr-decay {d:g}) was planned over "
            f"{planned:,} iterations; over {config.iterations:,} its factor at "
            f"iteration {k:,} becomes {linear_decay(k, config.iterations, d):.3g} "
            f"instead of {linear_decay(k, planned, d):.3g}. The run goes on, but "
            f"not as a run of {config.iterations:,} from the start would.")


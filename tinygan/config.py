"""Every setting of a training run, in one dataclass saved as ``config.json``.

``TrainConfig`` is what ``tinygan train`` builds from its options, what the
checkpoint stores, and what a resumed run is rebuilt from.  ``validate()``
checks every value up front, so a bad option is reported in one clear line
before any data is loaded or any file is written; ``resolved()`` also refuses
an option that would do nothing in the run it was given to (``--info-weight``
without a code).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field

from tinygan.datasets import DATASETS
from tinygan.gan import NOISES
from tinygan.losses import GENERATOR_LOSSES
from tinygan.recipes import ARCH_OPTIONS, FALLBACK, recipe_value
from tinygan.registry import DEFAULT_PRESET, PRESETS

# The default run (mnist-mlp on the embedded digits) finishes in about
# 3 minutes on a 2-core CPU; see README.md for the measurement.
DEFAULT_ITERATIONS = recipe_value("mnist-mlp", "iterations")
FRAMES = 20          # sample grids per run when --sample-every is not given
DTYPES = ("float32", "float64")
DEFAULT_LOSS = "non-saturating"


class ConfigError(ValueError):
    """An option has a value training cannot use; the message says which and why."""


@dataclass
class TrainConfig:
    """The settings of one run (the command-line options of ``tinygan train``).

    ``None`` means "pick the default for this data and preset" (the preset's
    recipe, :mod:`tinygan.recipes`); :meth:`resolved` replaces each ``None``
    with a concrete value, and that is what is saved.
    """

    dataset: str = "mnist-embedded"
    preset: str | None = None             # default: DEFAULT_PRESET[dataset]
    iterations: int | None = None         # total generator steps, counting resumed ones
    batch_size: int | None = None
    latent_dim: int | None = None         # default: the preset's (100 for MNIST)
    lr: float | None = None
    lr_decay: float | None = None         # final lr = lr * lr_decay, reached linearly
                                          # over the second half of the run
    beta1: float | None = None            # Adam's decays of its running means of the
    beta2: float | None = None            # gradient and of the squared gradient
    loss: str = DEFAULT_LOSS
    noise: str = "normal"
    d_steps: int | None = None
    label_smoothing: float | None = None
    d_half_batch: bool | None = None
    feature_matching: bool | None = None
    g_batch_scale: int | None = None      # G's batch = g_batch_scale x batch_size
    d_eval_in_g_step: bool | None = None  # G learns from D in eval mode (no dropout)
    codes: int | None = None              # InfoGAN: values of the categorical code; 0: off
    info_weight: float | None = None      # InfoGAN: weight of the code's loss
    ema: float | None = None              # decay of G's weight average; 0: off
    pack: int | None = None               # architecture options: change D's shape
    minibatch_std: bool | None = None
    d_dropout: float | None = None
    seed: int = 0
    sample_every: int | None = None       # default: iterations / FRAMES
    checkpoint_every: int | None = None   # default: sample_every
    log_every: int = 10
    eval_every: int = 0                   # 0: no evaluation hook calls
    dtype: str = "float32"
    out: str | None = None                # default: runs/<preset>-<dataset>
    extra: dict = field(default_factory=dict)  # settings owned by callbacks (plug-ins)

    def __post_init__(self):
        if isinstance(self.out, os.PathLike):   # a Path is as good a name as its text
            self.out = os.fspath(self.out)

    # -- defaults and checks ---------------------------------------------------------
    def resolved(self, given=None) -> TrainConfig:
        """A copy with every ``None`` replaced by its default, validated.

        An option the user gave that would do nothing here is refused too
        (:meth:`_refuse_no_effect`).

        Parameters
        ----------
        given : iterable of str, optional
            The names of the settings the user gave.  ``tinygan train`` passes
            the options on its command line, so it knows exactly.  Without it
            they are inferred from the values (:meth:`_given`).
        """
        given = self._given() if given is None else set(given)
        if not isinstance(self.extra, dict):   # checked before it is copied
            raise ConfigError(f"extra must be a mapping (the callbacks' settings), got "
                              f"{self.extra!r}")
        c = dataclasses.replace(self, extra=dict(self.extra))
        if c.dataset not in DATASETS:
            raise ConfigError(f"unknown dataset {c.dataset!r}; choose one of {', '.join(DATASETS)}")
        if c.preset is None:
            c.preset = DEFAULT_PRESET[c.dataset]
        if c.preset not in PRESETS:
            raise ConfigError(f"unknown preset {c.preset!r}; choose one of {', '.join(PRESETS)}")
        if c.latent_dim is None:
            c.latent_dim = PRESETS[c.preset].latent_dim
        for name in FALLBACK:
            if getattr(c, name) is None:
                setattr(c, name, recipe_value(c.preset, name, c.dataset))
        _check_int("iterations", c.iterations, 1)
        if c.sample_every is None:
            c.sample_every = max(1, c.iterations // FRAMES)
        if c.checkpoint_every is None:
            c.checkpoint_every = c.sample_every
        if c.out is None:
            c.out = f"runs/{c.preset}-{c.dataset}"
        c.validate()
        c._refuse_no_effect(given)
        return c

    def _given(self) -> set[str]:
        """The recipe settings the user gave, inferred: those not ``None`` ("the recipe's
        value"), and ``loss`` when it is not the default.

        A config with none left ``None`` has been resolved already, or read back
        from config.json or a checkpoint: its values no longer tell which ones
        the user gave (info_weight is stored beside codes 0, say), and those were
        checked when the run was started.  So it gives nothing to check again --
        which also skips the check for a config built in code with every recipe
        setting spelled out; the command line names its options instead
        (``resolved(given=...)``).
        """
        given = {name for name in FALLBACK if getattr(self, name) is not None}
        if given == set(FALLBACK):
            return set()
        if self.loss != DEFAULT_LOSS:   # a default of its own, not None
            given.add("loss")
        return given

    def _refuse_no_effect(self, given: set[str]):
        """Raise :class:`ConfigError` for an option in ``given`` that changes nothing here.

        The user who gives such an option expects it to act; ignoring it silently
        would hide the mistake.  Only options the user gave count: a recipe may
        set one that does nothing on some data (mnist-mlp's ``info_weight`` on
        Fashion-MNIST, whose recipe has no code).
        """
        spec = PRESETS[self.preset]
        if "info_weight" in given and not self.codes:
            if "codes" not in ARCH_OPTIONS[self.preset]:
                why = f"preset {self.preset} takes no --codes; {_presets_taking('codes')} does"
                fix = ""
            else:
                why = ("--codes 0" if "codes" in given
                       else f"preset {self.preset} on {self.dataset} has codes 0")
                fix = "add --codes K (K >= 2) or "
            raise ConfigError(f"--info-weight weights InfoGAN's code loss, but this run has no "
                              f"code ({why}); {fix}drop --info-weight")
        # Eval mode changes only Dropout and BatchNorm, and no preset's D has BatchNorm.
        if ("d_eval_in_g_step" in given and self.d_eval_in_g_step
                and not (spec.d_dropout_built_in or self.d_dropout > 0)):
            if "d_dropout" not in ARCH_OPTIONS[self.preset]:
                why = f"preset {self.preset}'s D has none; "
            else:
                source = (f"--d-dropout {self.d_dropout:g}" if "d_dropout" in given
                          else f"preset {self.preset} on {self.dataset} has d_dropout 0")
                why = f"D has none here ({source}); add --d-dropout P (0 < P < 1) or "
            raise ConfigError(f"--d-eval-in-g-step turns off D's dropout in G's step, but "
                              f"{why}drop --d-eval-in-g-step")
        if "eval_every" in given and self.eval_every > self.iterations:
            raise ConfigError(f"--eval-every {self.eval_every:,} is longer than the run "
                              f"(--iterations {self.iterations:,}), so no evaluation would "
                              f"run; use --eval-every {self.iterations:,} or less")
        # Feature matching replaces G's loss; D's loss never depended on --loss.
        if "loss" in given and self.feature_matching:
            raise ConfigError(f"--loss {self.loss} does nothing with --feature-matching: G's "
                              f"loss is then the feature-matching distance; drop one of them")

    def validate(self):
        """Raise :class:`ConfigError` naming the first option with an unusable value."""
        spec = PRESETS.get(self.preset)
        if self.dataset not in DATASETS:
            raise ConfigError(f"unknown dataset {self.dataset!r}; choose one of "
                              f"{', '.join(DATASETS)}")
        if spec is None:
            raise ConfigError(f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")
        if self.dataset not in spec.datasets:
            raise ConfigError(f"preset {self.preset} is for {spec.data} data "
                              f"({', '.join(spec.datasets)}), not {self.dataset}; try --preset "
                              f"{DEFAULT_PRESET[self.dataset]}")
        _check_int("iterations", self.iterations, 1)
        _check_int("batch-size", self.batch_size, 2, why=" (BatchNorm needs batch statistics)")
        _check_int("latent-dim", self.latent_dim, 1)
        _check_int("d-steps", self.d_steps, 1)
        _check_int("g-batch-scale", self.g_batch_scale, 1)
        _check_int("seed", self.seed, 0)
        for name in ("sample_every", "checkpoint_every", "log_every"):
            _check_int(name.replace("_", "-"), getattr(self, name), 1)
        _check_int("eval-every", self.eval_every, 0)
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"--lr must be a positive number, got {self.lr!r}")
        if not (isinstance(self.lr_decay, (int, float)) and 0.0 < self.lr_decay <= 1.0):
            raise ConfigError(f"--lr-decay must be in (0, 1] (the final learning rate is "
                              f"lr * lr-decay; 1 means constant), got {self.lr_decay!r}")
        if not (isinstance(self.ema, (int, float)) and 0.0 <= self.ema < 1.0):
            raise ConfigError(f"--ema must be in [0, 1) (the decay of the average of G's "
                              f"weights, e.g. 0.999; 0 turns it off), got {self.ema!r}")
        for name in ("beta1", "beta2"):
            beta = getattr(self, name)
            if not (isinstance(beta, (int, float)) and 0.0 <= beta < 1.0):
                raise ConfigError(f"--{name} must be in [0, 1), got {beta!r}")
        if not (isinstance(self.label_smoothing, (int, float))
                and 0.0 <= self.label_smoothing < 1.0):
            raise ConfigError(f"--label-smoothing must be in [0, 1) (real targets become "
                              f"1 - s), got {self.label_smoothing!r}")
        if self.loss not in GENERATOR_LOSSES:
            raise ConfigError(f"unknown --loss {self.loss!r}; choose one of "
                              f"{', '.join(GENERATOR_LOSSES)}")
        if self.noise not in NOISES:
            raise ConfigError(f"unknown --noise {self.noise!r}; choose one of {', '.join(NOISES)}")
        if self.dtype not in DTYPES:
            raise ConfigError(f"unknown dtype {self.dtype!r}; choose one of {', '.join(DTYPES)}")
        if not isinstance(self.out, str) or not self.out:
            raise ConfigError(f"--out must be a directory name, got {self.out!r}")
        for name in ("d_half_batch", "feature_matching", "d_eval_in_g_step", "minibatch_std"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if not isinstance(self.extra, dict):
            raise ConfigError(f"extra must be a mapping, got {self.extra!r}")
        _check_int("pack", self.pack, 1)
        _check_int("codes", self.codes, 0)
        if self.codes == 1:
            raise ConfigError("--codes must be 0 (off) or at least 2 (the number of values of "
                              "InfoGAN's categorical code), got 1")
        if not (isinstance(self.info_weight, (int, float)) and math.isfinite(self.info_weight)
                and self.info_weight > 0):
            raise ConfigError(f"--info-weight must be a positive number, got {self.info_weight!r}")
        if not (isinstance(self.d_dropout, (int, float)) and 0.0 <= self.d_dropout < 1.0):
            raise ConfigError(f"--d-dropout must be in [0, 1), got {self.d_dropout!r}")
        for name in ("pack", "minibatch_std", "d_dropout", "codes"):
            if (getattr(self, name) != FALLBACK[name]
                    and name not in ARCH_OPTIONS.get(self.preset, ())):
                raise ConfigError(f"--{name.replace('_', '-')} is not an option of preset "
                                  f"{self.preset}; presets that take it: "
                                  f"{_presets_taking(name)}")
        if self.codes and (self.pack > 1 or self.feature_matching):
            other = f"--pack {self.pack}" if self.pack > 1 else "--feature-matching"
            raise ConfigError(f"--codes {self.codes} (InfoGAN) cannot be combined with {other}: "
                              f"Q reads the code of one sample per row, with its own loss; add "
                              f"--codes 0 to turn the code off")
        if self.batch_size % self.pack:
            raise ConfigError(f"--pack {self.pack}: the batch size ({self.batch_size}) must be "
                              f"divisible by it, since D judges packs of {self.pack} samples")
        if self.d_half_batch and self.pack > 1 and (self.batch_size // 2) % self.pack:
            raise ConfigError(f"--pack {self.pack} with --d-half-batch: half the batch size "
                              f"({self.batch_size // 2}) must be divisible by {self.pack}")
        # The smallest batch a network sees: phase 1 gives G and D half the batch with
        # --d-half-batch, and D's rows are packs.  BatchNorm and the minibatch standard
        # deviation need at least two samples to have a spread.
        d_batch = self.batch_size // 2 if self.d_half_batch else self.batch_size
        if d_batch < 2:
            raise ConfigError(f"--d-half-batch with --batch-size {self.batch_size} gives D and G "
                              f"{d_batch} sample per step; BatchNorm needs at least 2: use "
                              "--batch-size 4 or more")
        if self.minibatch_std and d_batch // self.pack < 2:
            smallest = 2 * self.pack * (2 if self.d_half_batch else 1)
            raise ConfigError(f"--minibatch-std needs at least 2 rows in D's batch to measure "
                              f"their spread, but --batch-size {self.batch_size}"
                              f"{' with --d-half-batch' if self.d_half_batch else ''} and --pack "
                              f"{self.pack} give {d_batch // self.pack}; use --batch-size "
                              f"{smallest} or more")

    # -- saving ----------------------------------------------------------------------
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self, **info) -> str:
        """JSON text of every setting, plus ``info`` (e.g. the package version)."""
        return json.dumps({**info, **self.to_dict()}, indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict, *,
                  ignore=("version", "backend", "blas_threads")) -> TrainConfig:
        """Rebuild a config; unknown keys (other than ``ignore``) are an error.

        ``config.json`` also records how the run was computed (the package
        version, the kernel backend and BLAS threads), which are not settings.
        """
        if not isinstance(data, dict):
            raise ConfigError(f"a config must be a JSON object, got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names - set(ignore))
        if unknown:
            raise ConfigError(f"unknown settings {unknown} (written by a newer tinygan?)")
        # A saved config lacking a setting was written before that setting
        # existed, when it had its fallback value -- not today's recipe value.
        return cls(**{**FALLBACK, **{k: v for k, v in data.items() if k in names}})


def _presets_taking(option: str) -> str:
    """The presets whose builder takes architecture option ``option``, e.g. "mnist-mlp"."""
    return ", ".join(p for p, options in ARCH_OPTIONS.items() if option in options)


def _check_int(option: str, value, low: int, why: str = ""):
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"--{option} must be an integer >= {low}{why}, got {value!r}")

"""The settings ``tinygan train`` uses when you do not give them: one recipe per preset.

A GAN's architecture is half of it; the other half is how it is trained.
Each preset's recipe below is what tinygan measured to work best within the
preset's time budget, and the comment beside each choice says what it buys
(figures from ``python benchmarks/quality.py`` unless stated otherwise).
Any option given on the command line overrides the recipe.

Two kinds of settings appear here:

* training settings -- fields of :class:`tinygan.config.TrainConfig` such as
  ``lr`` or ``label_smoothing``;
* architecture options -- ``pack``, ``minibatch_std``, ``d_dropout``: the
  preset's builder takes them (see :mod:`tinygan.presets`), so only presets
  listed in :data:`ARCH_OPTIONS` accept them.
"""

from __future__ import annotations

# What a setting means when neither the command line nor the recipe gives it.
# These are also the values of settings that checkpoints written before the
# setting existed were trained with (see TrainConfig.from_dict).
FALLBACK = dict(iterations=5_000, batch_size=64, lr=2e-4, beta1=0.5, d_steps=1,
                label_smoothing=0.0, d_half_batch=False, feature_matching=False, lr_decay=1.0,
                pack=1, minibatch_std=False, d_dropout=0.0)

# Which architecture options each preset's builder accepts.
ARCH_OPTIONS = {
    "mnist-mlp": ("pack", "minibatch_std", "d_dropout"),
    "toy-mlp": (),
    "mixture-mlp": ("pack", "minibatch_std"),
    "mnist-dcgan": (),
}

RECIPES: dict[str, dict] = {
    # The MLP GAN of the Keras tutorial.  Settings filled in from the
    # measurements of issue #6 (see README, "Quality").
    "mnist-mlp": dict(),
    # The tutorial's own settings, kept as they were: a baseline to compare with.
    "toy-mlp": dict(),
    "mixture-mlp": dict(),
    # The Keras DCGAN tutorial trains D on half a batch of real and half a batch
    # of fakes, G on a full batch.  About 0.7 s an iteration on 2 cores, so the
    # default budget is smaller than the MLP's.
    "mnist-dcgan": dict(d_half_batch=True, iterations=2_000),
}


def recipe_value(preset: str, name: str):
    """The value of setting ``name`` for ``preset``: its recipe's, else the fallback."""
    return RECIPES.get(preset, {}).get(name, FALLBACK[name])

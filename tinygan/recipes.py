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
    # The MLP GAN of the Keras tutorial.  Its own recipe (no remedies) collapses
    # onto a few digits: the discriminator wins, accuracy > 85%.  PacGAN2 shows
    # D two images at once, so a generator drawing look-alikes is caught, and
    # Dropout(0.3) in D keeps D from memorising.  Measured at 5,000 iterations,
    # 2,000 samples, the shipped classifier (classes present / KL to uniform /
    # classifier score / Frechet distance):
    #   no remedy,      seed 0:  3 / 1.23 / 2.5 / 238;  seed 1:  7 / 0.29 / 5.0 / 78
    #   pack 2,         seed 0:  7 / 0.28 / 5.1 /  81
    #   pack 2 + drop,  seed 0:  8 / 0.15 / 5.5 /  65;  seed 1: 10 / 0.09 / 6.0 / 56
    # (minibatch std + dropout + smoothing: 4 / 0.70 / 3.4 at 2,500; a faster G,
    # lr 4e-4 vs D 1e-4, on top of pack 2 + dropout: 8 / 0.15 / 6.1 / 76.)
    "mnist-mlp": dict(pack=2, d_dropout=0.3),
    # The plain 2-D GAN, untuned: a baseline to compare with.
    "toy-mlp": dict(),
    # The 2-D mixtures (benchmarks/quality.py, 5 seeds; see README "Quality").
    # A large learning rate finds the modes; decaying it 100-fold over the
    # second half stops G hopping between them and tightens each one (grid,
    # high-quality share: 88.6% with 6,000 steps and a 10-fold decay -> 94.3%
    # with 12,000 steps and a 100-fold one).  Batch 128.
    "mixture-mlp": dict(iterations=12_000, batch_size=128, lr=1e-3, lr_decay=0.01),
    # The Keras DCGAN tutorial trains D on half a batch of real and half a batch
    # of fakes, G on a full batch.  About 0.74 s an iteration on 2 cores, so the
    # default budget is smaller than the MLP's; 2,000 iterations (seed 0) give
    # 10/10 classes, KL 0.037, classifier score 6.7, Frechet 50.8 (42.6x floor).
    "mnist-dcgan": dict(d_half_batch=True, iterations=2_000),
}


# Where one preset needs different settings on different data: (preset, dataset).
DATASET_RECIPES: dict[tuple[str, str], dict] = {
    # PacGAN2 evens out the ring's 8 modes (reverse KL 0.032 -> 0.002, 5 seeds);
    # on the grid's 25 tight modes it wrecks quality (29% high-quality, 2 seeds).
    ("mixture-mlp", "ring"): dict(pack=2),
}


def recipe_value(preset: str, name: str, dataset: str | None = None):
    """Setting ``name`` for ``preset`` on ``dataset``: the most specific recipe's value,
    else the fallback."""
    for recipe in (DATASET_RECIPES.get((preset, dataset), {}), RECIPES.get(preset, {})):
        if name in recipe:
            return recipe[name]
    return FALLBACK[name]

"""The settings ``tinygan train`` uses when you do not give them: one recipe per preset.

A GAN's architecture is half of it; the other half is how it is trained.
Each preset's recipe below is what tinygan measured to work best within the
preset's time budget, and the comment beside each choice says what it buys
(figures from ``python benchmarks/quality.py`` unless stated otherwise).
Any option given on the command line overrides the recipe.

Two kinds of settings appear here:

* training settings -- fields of :class:`tinygan.config.TrainConfig` such as
  ``lr`` or ``label_smoothing``;
* architecture options -- ``pack``, ``minibatch_std``, ``d_dropout``, ``codes``: the
  preset's builder takes them (see :mod:`tinygan.presets`), so only presets
  listed in :data:`ARCH_OPTIONS` accept them.
"""

from __future__ import annotations

# What a setting means when neither the command line nor the recipe gives it.
# These are also the values of settings that checkpoints written before the
# setting existed were trained with (see TrainConfig.from_dict).
FALLBACK = dict(iterations=5_000, batch_size=64, lr=2e-4, beta1=0.5, beta2=0.999, d_steps=1,
                label_smoothing=0.0, d_half_batch=False, feature_matching=False, lr_decay=1.0,
                g_batch_scale=1, d_eval_in_g_step=False, codes=0, info_weight=1.0, ema=0.0,
                pack=1, minibatch_std=False, d_dropout=0.0)

# Which architecture options each preset's builder accepts.
ARCH_OPTIONS = {
    "mnist-mlp": ("pack", "minibatch_std", "d_dropout", "codes"),
    "toy-mlp": (),
    "mixture-mlp": ("pack", "minibatch_std"),
    "mnist-dcgan": (),
}

RECIPES: dict[str, dict] = {
    # The MLP GAN of the Keras tutorial.  Its own recipe (Adam lr 2e-4, no
    # remedies) collapses onto a few digits: D wins, accuracy > 85%.  Two levers
    # matter at 5,000 iterations.  The learning rate: 2e-4 leaves G far from
    # done, and D, with nothing new to learn, memorises the data and drives G
    # into a few modes (Dropout(0.3) in D keeps D from memorising).  And the
    # weights samples are drawn with: an average of G's recent weights sits
    # nearer the centre of the circles G runs around (tinygan/ema.py).
    # Measured by `python benchmarks/mnist_recipes.py [--seed S] name=value ...`
    # at 5,000 iterations, 2,000 samples, the shipped classifier (classes
    # present / KL to uniform / classifier score / Frechet, x the floor); rows
    # without smoothing or the average add label_smoothing=0 ema=0:
    #   lr 2e-4, no remedy,       seed 0:  3 / 1.35  / 2.3 / 244
    #   lr 2e-4, pack 2 + drop,   seed 0:  8 / 0.086 / 5.7 / 57.7   (the last recipe)
    #   lr 8e-4, pack 2 + drop,   seed 0: 10 / 0.033 / 7.1 / 29.1
    #   lr 8e-4, drop 0.3,        seed 0: 10 / 0.042 / 7.5 / 17.6
    #   lr 8e-4, no remedy,       seed 0:  9 / 0.081 / 7.7 / 24.3
    #   lr 3.2e-3, drop 0.3,      seed 0:  9 / 0.047 / 7.3 / 20.2
    #   lr 1.6e-3, drop 0.3,  seeds 0-2: 10 / 0.029 / 7.9 / 15.4;  10 / 0.028 / 7.8 / 17.7;
    #                                    10 / 0.059 / 7.7 / 17.5
    #   ... + one-sided label smoothing 0.1, seeds 0-2:
    #                                    10 / 0.022 / 7.9 / 14.5;  10 / 0.015 / 7.8 / 15.5;
    #                                    10 / 0.042 / 7.7 / 17.6
    #   ... + samples drawn with the average of G's weights (decay 0.999,
    #   BatchNorm statistics re-estimated for it), seeds 0 / 1:
    #                                    10 / 0.021 / 8.2 / 7.2;   10 / 0.025 / 8.1 / 9.0
    # No gain, seed 0 (these two with an earlier, unshipped version of the
    # script whose own average re-estimated the statistics from 30 batches of
    # 256): the average with the live BatchNorm statistics (7.1 / 35); decay
    # 0.9995 (8.2 / 7.2).  And without the average: Dropout(0.5) 19.4, a
    # 10-fold lr decay 15.0, batch 32 for 8,000 iterations (the same time)
    # 20.1, G's output bias set to the data's mean image, minibatch std 15.7.
    # Adam's betas, last (another machine: an AMD EPYC whose OpenBLAS runs its
    # SkylakeX kernel, so the same seed draws other bits; the recipe above
    # gives 10 / 0.023 / 8.2 / 7.5 there, seed 0).  With an average of the
    # weights doing the smoothing, Adam's own running mean of the gradient
    # (beta1) only delays G's reaction to D; beta1 = 0 and beta2 = 0.99 (the
    # StyleGAN2 setting; `mnist_recipes.py [--seed 1]`, these are its defaults now):
    #   beta1 0, beta2 0.99,  seeds 0 / 1: 10 / 0.026 / 8.4 / 6.8;   10 / 0.024 / 8.6 / 6.5
    #   (at 2,500 iterations already 8.1 / 10.5 against 7.5 / 16.3)
    # Batch 128 for 3,500 iterations (~17% more time): 8.6 / 5.9 (seeds 0 and 1),
    # 10,000 samples 10 / 0.023 / 8.6 / 4.7x: a better Frechet distance, not a
    # better score; not adopted, to keep the default run well inside 3 minutes.
    # No gain over the betas (score / Frechet, seed 0): beta2 0.9 8.6 / 6.8
    # (seed 1: 8.4 / 7.1), lr 1.2e-3 8.3 / 7.8, lr 2.4e-3 8.4 / 8.8, lr 8e-4
    # 7.4 / 20.6 at 2,500 iterations, decay 0.9995 8.4 / 7.8, smoothing 0.2
    # 8.5 / 7.4, Dropout(0.4) 8.5 / 7.4, uniform noise 8.6 / 7.2, minibatch std
    # 8.7 / 6.8 (within the seed-to-seed spread, 8.4-8.6), minibatch std with
    # batch 128 for 3,500 iterations 8.7 / 6.3 (seed 1: 8.5 / 5.9); D's lr x2
    # 8.1 / 9.3 or x0.5 8.1 / 8.2 (an unshipped variant of the script that
    # scaled D's lr); two D steps per G step for 3,500 iterations (about the
    # same time) 8.1 / 12.8.  Before the betas:
    # a 10-fold or 3-fold lr decay, 8.1 / 7.1 and 8.1 / 7.5.  Sampling from a
    # truncated normal (sd 0.8) is worse on every measure: score 8.0, 16x.
    # More time does not buy a better score: this recipe for 20,000 iterations
    # (`tinygan train --iterations 20000 --eval-every 2500`, 10,000 samples) scores
    # 8.53 / 8.63 / 8.44 / 8.22 at 5k / 10k / 15k / 20k, Frechet 6.0x / 7.6x / 8.4x /
    # 11.0x, KL 0.016 -> 0.059 (9 classes at 20k).  Nor does letting D pick the
    # samples (discriminator rejection sampling, Azadi et al. 2019; an unshipped
    # script on the default run): at most 8.6, with or without first fine-tuning
    # D against the fixed G for 200 or 1,000 steps.
    # The same recipe on Fashion-MNIST, 12,000 iterations, 10,000 samples:
    # 10 / 0.0015 / 6.3 / 4.1x (real data's score: 7.1), 269 s on a busy machine
    # (before the betas: 10 / 0.008 / 5.8 / 6.7x; without the average 10 /
    # 0.015 / 5.9 / 13.8x; the lr 2e-4, pack 2 + dropout recipe 10 / 0.034 / 5.5 / 15.7x).
    # G learning from D in eval mode (d_eval_in_g_step: no dropout in phase 2;
    # `mnist_recipes.py [--seed 1] d_eval_in_g_step=True`): seeds 0 / 1 8.7 / 5.5x,
    # 8.6 / 4.9x against 8.4 / 6.8x, 8.6 / 6.5x.  Free: adopted.  With it, lr
    # 1.2e-3 8.7 / 5.5, 2.4e-3 8.5 / 6.8.  `tinygan train --seed S`, 10,000
    # samples: 10 / 0.019 / 8.7 / 6.1x and 10 / 0.013 / 8.7 / 5.3x.
    # Also screened, seed 0 unless stated, 5,000 iterations, by an unshipped
    # script (score / Frechet):
    #   G's batch twice D's (what g_batch_scale=2 does), ~40% more time: 8.9 / 5.8,
    #     8.7 / 5.8 (seed 1); with eval-mode D 8.7 / 5.0, 8.8 / 5.3; at 4,000
    #     iterations (the time of 5,000 without) 8.6 / 5.5, 8.8 / 6.0: no better at
    #     equal time.  x4, 2.5x the time: 8.9 / 5.2.  D batch 32 and G batch 128:
    #     8.7 / 8.2, 8.8 / 9.0.
    #   with eval-mode D: hinge loss 8.8 / 5.1; spectral normalisation of D's
    #     weights 8.7 / 6.3; DiffAugment translation (+-2 px) 8.4 / 11.0;
    #     Dropout(0.5) 8.2 / 14.0 at 2,500 iterations.
    #   without it: top-k G updates (Sinha et al. 2020, k annealed 64 -> 33) 8.5 / 7.7;
    #   R1 penalty (gamma 10) 7.1 / 12.4 at 2,500 iterations; InfoGAN's
    #   10-way code: 9 classes, 34x at 2,500 iterations (codes did not map to digits).
    # InfoGAN's categorical code (Chen et al. 2016; codes=10 info_weight=0.1):
    # G must draw ten kinds of digit that D can tell apart, so fewer samples
    # fall between two digits.  `mnist_recipes.py --seed S --iterations 7000
    # --every 1000 codes=10 info_weight=0.1` (score / KL / Frechet):
    #   seed 0: 5k 8.98 / 0.019 / 8.0x, 6k 9.13 / 0.015 / 7.1x, 7k 9.15 / 0.014 / 7.1x
    #   seed 1: 5k 8.98 / 0.033 / 8.0x, 6k 9.02 / 0.034 / 8.0x (9 classes), 7k 9.03 / 0.035
    #   seed 2: 5k 9.02 / 0.014 / 7.2x, 6k 9.05 / 0.016 / 6.9x
    # info_weight 0.3, seeds 0 / 1: 5k 8.94 / 0.028, 9.07 / 0.023; seed 0 6k 9.03 /
    # 0.027 / 8.3x, 7k 9.14 / 0.020.  So the code adds about 0.3 to the score and
    # 1,000 more iterations another 0.1 (6,000 take about 150 s); which digit each
    # code draws depends on the seed, and where two codes share one the class
    # histogram is less even (seed 1).  An unshipped screen with K = 20 codes:
    # 9.16 / 8.84 on seeds 0 / 1 at 5,000 iterations, KL 0.013 / 0.033.
    "mnist-mlp": dict(lr=1.6e-3, d_dropout=0.3, label_smoothing=0.1, ema=0.999,
                      beta1=0.0, beta2=0.99, d_eval_in_g_step=True, codes=10,
                      info_weight=0.1, iterations=6_000),
    # The plain 2-D GAN, untuned: a baseline to compare with.
    "toy-mlp": dict(),
    # The 2-D mixtures (benchmarks/quality.py, 5 seeds; see README "Quality").
    # A large learning rate finds the modes; decaying it 100-fold over the
    # second half stops G hopping between them and tightens each one (grid,
    # high-quality share: 88.6% with 6,000 steps and a 10-fold decay -> 94.3%
    # with 12,000 steps and a 100-fold one).  Batch 128.  The grid needs more:
    # see DATASET_RECIPES below.
    "mixture-mlp": dict(iterations=12_000, batch_size=128, lr=1e-3, lr_decay=0.01),
    # The Keras DCGAN tutorial trains D on half a batch of real and half a batch
    # of fakes, G on a full batch.  About 0.74 s an iteration on 2 cores, so the
    # default budget is smaller than the MLP's; 2,000 iterations (seed 0) give
    # 10/10 classes, KL 0.037, classifier score 6.7, Frechet 50.8 (42.6x floor).
    "mnist-dcgan": dict(d_half_batch=True, iterations=2_000),
}


# Where one preset needs different settings on different data: (preset, dataset).
DATASET_RECIPES: dict[tuple[str, str], dict] = {
    # Fashion-MNIST keeps D's dropout on in G's step: with it off (`tinygan train
    # --dataset fashion-mnist --iterations 12000 --d-eval-in-g-step`, 291 s beside
    # other jobs) 10 / 0.009 / 6.0 / 6.3x against 10 / 0.0015 / 6.3 / 4.1x.
    # The InfoGAN code has not been measured there: off.
    ("mnist-mlp", "fashion-mnist"): dict(d_eval_in_g_step=False, codes=0),
    # PacGAN2 evens out the ring's 8 modes (reverse KL 0.032 -> 0.002, 5 seeds);
    # on the grid's 25 tight modes it wrecks quality (29% high-quality, 2 seeds).
    # Adam's beta1 0 / beta2 0.99 on the ring: 8.0 / 98.0% / 0.019 (5 seeds), more
    # high-quality but ten times the reverse KL; the ring keeps 0.5 / 0.999.
    ("mixture-mlp", "ring"): dict(pack=2),
    # On the grid, one seed in five used to drop 2-5 of the 25 modes (24.2 / 94.3%
    # / 0.078; batch 512 or the weight average only moved which seed).  Adam's
    # beta1 0 and beta2 0.99 cover all 25 on every seed (25.0 / 92.3% / 0.022),
    # and twice the steps sharpen the modes: 25.0 / 95.9% / 0.014, ~44 s a run.
    # Measured by benchmarks/quality.py --only grid (5 seeds).  The average of
    # G's weights adds nothing once the lr has decayed (92.2% at 12,000 steps).
    ("mixture-mlp", "grid"): dict(iterations=24_000, beta1=0.0, beta2=0.99),
}


def recipe_value(preset: str, name: str, dataset: str | None = None):
    """Setting ``name`` for ``preset`` on ``dataset``: the most specific recipe's value,
    else the fallback."""
    for recipe in (DATASET_RECIPES.get((preset, dataset), {}), RECIPES.get(preset, {})):
        if name in recipe:
            return recipe[name]
    return FALLBACK[name]

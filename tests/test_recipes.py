"""Each preset's recipe fills the settings the user did not give; explicit settings win."""

import numpy as np
import pytest

from tinygan.build import build_gan
from tinygan.config import ConfigError, TrainConfig
from tinygan.optim import linear_decay
from tinygan.recipes import ARCH_OPTIONS, DATASET_RECIPES, FALLBACK, RECIPES, recipe_value
from tinygan.registry import PRESETS


def test_every_preset_has_a_recipe_and_its_keys_are_settings():
    assert RECIPES.keys() == PRESETS.keys() == ARCH_OPTIONS.keys()
    for preset, recipe in [*RECIPES.items(), *DATASET_RECIPES.items()]:
        assert set(recipe) <= set(FALLBACK), preset
    for preset, dataset in DATASET_RECIPES:
        assert dataset in PRESETS[preset].datasets


@pytest.mark.parametrize("preset, dataset", [("mnist-mlp", "mnist-embedded"),
                                             ("mnist-dcgan", "mnist-embedded"),
                                             ("mixture-mlp", "ring"),
                                             ("mixture-mlp", "grid")])
def test_unset_settings_come_from_the_recipe(preset, dataset):
    c = TrainConfig(dataset=dataset, preset=preset).resolved()
    for name in FALLBACK:
        assert getattr(c, name) == recipe_value(preset, name, dataset), name


def test_a_data_set_recipe_overrides_only_its_own_keys():
    ring, grid = (TrainConfig(dataset=d).resolved() for d in ("ring", "grid"))
    assert (ring.pack, ring.beta1, ring.iterations) == (2, 0.5, 12_000)
    assert (grid.pack, grid.beta1, grid.beta2, grid.iterations) == (1, 0.0, 0.99, 24_000)
    assert ring.lr == grid.lr == RECIPES["mixture-mlp"]["lr"]     # shared by both


def test_dcgan_recipe_is_the_tutorials_half_batch_schedule_unless_overridden():
    assert TrainConfig(preset="mnist-dcgan").resolved().d_half_batch is True
    assert TrainConfig(preset="mnist-dcgan", d_half_batch=False).resolved().d_half_batch is False


def test_explicit_settings_override_the_recipe():
    c = TrainConfig(lr=1e-3, pack=1, batch_size=32, lr_decay=0.5).resolved()
    assert (c.lr, c.pack, c.batch_size, c.lr_decay) == (1e-3, 1, 32, 0.5)


def test_a_config_saved_before_a_setting_existed_gets_the_old_behaviour():
    saved = TrainConfig(preset="mnist-mlp").resolved().to_dict()
    assert saved["ema"] > 0 and saved["d_dropout"] > 0 and saved["codes"] == 10   # today's
    assert saved["d_eval_in_g_step"] is True                                      # recipe
    for name in ("pack", "minibatch_std", "d_dropout", "feature_matching", "lr_decay", "ema",
                 "beta2", "codes", "info_weight", "d_eval_in_g_step", "g_batch_scale"):
        del saved[name]
    old = TrainConfig.from_dict(saved).resolved()
    assert (old.pack, old.minibatch_std, old.d_dropout, old.lr_decay, old.ema, old.beta2) == (
        1, False, 0.0, 1.0, 0.0, 0.999)
    assert (old.codes, old.d_eval_in_g_step, old.g_batch_scale) == (0, False, 1)


def test_adam_settings_reach_both_optimizers():
    from tinygan.build import build_gan
    c = TrainConfig(preset="toy-mlp", dataset="ring", beta1=0.1, beta2=0.95, lr=3e-4).resolved()
    gan = build_gan(c, model_rng=0, gan_rng=0)
    for opt in (gan.g_optimizer, gan.d_optimizer):
        assert (opt.lr, opt.beta1, opt.beta2) == (3e-4, 0.1, 0.95)


@pytest.mark.parametrize("bad, pattern", [
    ({"preset": "toy-mlp", "dataset": "ring", "pack": 2}, "--pack is not an option of preset "
                                                         "toy-mlp; presets that take it: mnist-mlp"),
    ({"preset": "mnist-dcgan", "d_dropout": 0.5}, "--d-dropout is not an option of preset"),
    ({"pack": 3, "batch_size": 64, "codes": 0}, r"--pack 3: the batch size \(64\) must be "
                                                "divisible"),
    ({"pack": 2}, r"--codes 10 \(InfoGAN\) cannot be combined with --pack 2.*add --codes 0"),
    ({"pack": 0}, "--pack must be an integer >= 1"),
    ({"d_dropout": 1.0}, r"--d-dropout must be in \[0, 1\)"),
    ({"lr_decay": 0.0}, r"--lr-decay must be in \(0, 1\]"),
    ({"lr_decay": 2.0}, r"--lr-decay must be in \(0, 1\]"),
    ({"minibatch_std": "yes"}, "minibatch_std must be true or false"),
])
def test_bad_recipe_settings_are_rejected(bad, pattern):
    with pytest.raises(ConfigError, match=pattern):
        TrainConfig(**bad).resolved()


def test_architecture_options_reach_the_discriminator():
    c = TrainConfig(pack=2, minibatch_std=True, d_dropout=0.25, codes=0).resolved()
    gan = build_gan(c, np.random.default_rng(0), np.random.default_rng(1))
    D = gan.discriminator
    names = [type(layer).__name__ for layer in D]
    assert names[0] == "MinibatchStd" and names.count("Dropout") == 2
    assert D.layers[1].in_features == 2 * 784 + 1 and gan.pack == 2
    # the code widens G's input and D's output, and GAN draws it
    gan = build_gan(TrainConfig(codes=7).resolved(), 0, 1)
    assert gan.generator.layers[0].in_features == 100 + 7 and gan.codes == 7
    assert gan.discriminator.layers[-1].out_features == 1 + 7


def test_linear_decay_holds_then_falls_to_the_final_factor():
    f = [linear_decay(s, 100, 0.1) for s in range(1, 101)]
    assert f[0] == f[49] == 1.0                       # first half: constant
    assert f[-1] == pytest.approx(0.1)                # last step: the final factor
    assert f[74] == pytest.approx(0.55)               # halfway down
    assert all(a >= b for a, b in zip(f, f[1:]))      # never rises

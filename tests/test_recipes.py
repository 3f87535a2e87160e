"""Each preset's recipe fills the settings the user did not give; explicit settings win."""

import dataclasses
import json

import numpy as np
import pytest

from tinygan.build import build_gan
from tinygan.config import ConfigError, TrainConfig
from tinygan.optim import linear_decay
from tinygan.recipes import ARCH_OPTIONS, DATASET_RECIPES, FALLBACK, RECIPES, recipe_value
from tinygan.layers import BatchNorm, Dropout
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


NO_CODE = r"--info-weight weights InfoGAN's code loss, but this run has no code "
NO_DROPOUT = r"--d-eval-in-g-step turns off D's dropout in G's step, but "


@pytest.mark.parametrize("given, pattern", [
    ({"dataset": "fashion-mnist", "info_weight": 0.5},
     NO_CODE + r"\(preset mnist-mlp on fashion-mnist has codes 0\); add --codes K \(K >= 2\) "
               r"or drop --info-weight$"),
    ({"codes": 0, "info_weight": 0.1}, NO_CODE + r"\(--codes 0\); add --codes K"),
    ({"dataset": "ring", "info_weight": 1.0},
     NO_CODE + r"\(preset mixture-mlp takes no --codes; mnist-mlp does\); drop --info-weight$"),
    ({"dataset": "grid", "preset": "toy-mlp", "info_weight": 2.0}, NO_CODE + r"\(preset toy-mlp"),
    ({"preset": "mnist-dcgan", "info_weight": 0.1}, NO_CODE + r"\(preset mnist-dcgan"),
    ({"dataset": "ring", "d_eval_in_g_step": True},
     NO_DROPOUT + r"preset mixture-mlp's D has none; drop --d-eval-in-g-step$"),
    ({"dataset": "grid", "preset": "toy-mlp", "d_eval_in_g_step": True},
     NO_DROPOUT + r"preset toy-mlp's D has none"),
    ({"d_dropout": 0.0, "d_eval_in_g_step": True},
     NO_DROPOUT + r"D has none here \(--d-dropout 0\); add --d-dropout P \(0 < P < 1\) or "
                  r"drop --d-eval-in-g-step$"),
    ({"dataset": "fashion-mnist", "d_dropout": 0.0, "d_eval_in_g_step": True},
     NO_DROPOUT + r"D has none here \(--d-dropout 0\)"),
    ({"feature_matching": True, "codes": 0, "loss": "minimax"},
     r"--loss minimax does nothing with --feature-matching: G's loss is then the "
     r"feature-matching distance; drop one of them$"),
])
def test_options_that_would_do_nothing_are_refused(given, pattern):
    with pytest.raises(ConfigError, match=pattern):
        TrainConfig(**given).resolved()


@pytest.mark.parametrize("given", [
    {"info_weight": 0.5},                                        # MNIST: the recipe's code
    {"dataset": "fashion-mnist", "codes": 10, "info_weight": 0.5},
    {"dataset": "fashion-mnist", "d_eval_in_g_step": True},      # the recipe's dropout 0.3
    {"d_dropout": 0.2, "d_eval_in_g_step": True},
    {"preset": "mnist-dcgan", "d_eval_in_g_step": True},         # its built-in Dropout(0.3)
    {"dataset": "ring", "d_eval_in_g_step": False},              # off: what D does anyway
    {"d_dropout": 0.0},              # the recipe's d_eval_in_g_step is not the user's choice
    {"loss": "minimax"},
    {"feature_matching": True, "codes": 0},
])
def test_the_same_options_are_accepted_where_they_do_something(given):
    c = TrainConfig(**given).resolved()
    assert {k: getattr(c, k) for k in given} == given


def test_eval_mode_changes_only_dropout_and_the_registry_knows_which_ds_have_it():
    """The check behind --d-eval-in-g-step: eval mode changes Dropout and BatchNorm only,
    no preset's D has BatchNorm, and D has Dropout exactly where the registry says."""
    for name, spec in PRESETS.items():
        c = TrainConfig(dataset=spec.datasets[0], preset=name, d_dropout=0.0,
                        codes=0).resolved()
        layers = build_gan(c, 0, 1).discriminator.layers
        assert not any(isinstance(layer, BatchNorm) for layer in layers), name
        assert any(isinstance(layer, Dropout) for layer in layers) == spec.d_dropout_built_in, name


def test_a_resolved_or_stored_config_is_not_checked_again():
    """A resolved config (info_weight filled in beside codes 0) re-resolves as it is, from
    memory, from config.json, or as a copy; so does one an older tinygan stored with
    options that did nothing -- such a run must still resume."""
    for dataset in ("fashion-mnist", "ring"):
        c = TrainConfig(dataset=dataset).resolved()
        assert c.codes == 0 and c.info_weight > 0
        assert c.resolved() == c
        assert dataclasses.replace(c, iterations=7).resolved().iterations == 7
        assert TrainConfig.from_dict(json.loads(c.to_json(version="1"))).resolved() == c
    older = {**TrainConfig(dataset="ring").resolved().to_dict(), "info_weight": 0.5,
             "d_eval_in_g_step": True}
    c = TrainConfig.from_dict(older).resolved()
    assert (c.codes, c.info_weight, c.d_eval_in_g_step) == (0, 0.5, True)

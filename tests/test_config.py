"""Config overrides, type coercion and YAML round trips."""

from __future__ import annotations

import pytest

from facedet.config import Config, apply_overrides, dump_yaml, load_yaml
from facedet.families import default_config, load_config

SCRFD_DEFAULTS = default_config("scrfd_500m")  # the shared sections + the GFL loss keys


def test_defaults_follow_released_scrfd_configs() -> None:
    c = SCRFD_DEFAULTS
    assert (c.train.lr, c.train.momentum, c.train.weight_decay) == (0.01, 0.9, 5e-4)
    assert (c.train.warmup_iters, c.train.warmup_ratio, c.train.milestones) == (1500, 0.001, (440, 544))
    assert c.data.crop_choice == (0.3, 0.45, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0)
    assert (c.loss.box_weight, c.loss.kps_weight, c.loss.qfl_beta) == (2.0, 0.1, 2.0)


def test_overrides_coerce_to_field_types() -> None:
    c = apply_overrides(SCRFD_DEFAULTS, ["train.lr=1", "train.epochs=10", "train.milestones=[3, 5]",
                                   "data.crop_choice=[1, 2]", "train.ema=true", "model.name=scrfd_1g"])
    assert c.train.lr == 1.0 and isinstance(c.train.lr, float)
    assert c.train.epochs == 10 and c.train.milestones == (3, 5)
    assert c.data.crop_choice == (1.0, 2.0) and all(isinstance(v, float) for v in c.data.crop_choice)
    assert c.train.ema is True and c.model.name == "scrfd_1g"
    assert Config().train.lr == 0.01  # frozen defaults untouched


@pytest.mark.parametrize(
    "bad, msg",
    [("train.lrr=1", "unknown key"), ("trian.lr=1", "unknown section"), ("train.epochs=1.5", "integer"),
     ("train.ema=3", "true/false"), ("train.lr=abc", "number"), ("lr=0.1", "section.key"), ("train.lr", "=")],
)
def test_bad_overrides_raise(bad: str, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        apply_overrides(SCRFD_DEFAULTS, [bad])


def test_yaml_round_trip(tmp_path) -> None:
    c = apply_overrides(SCRFD_DEFAULTS, ["train.milestones=[7]", "data.input_size=320", "loss.box_loss=giou"])
    dump_yaml(c, tmp_path / "config.yaml")
    assert load_config(tmp_path / "config.yaml") == c
    assert load_yaml(tmp_path / "config.yaml", SCRFD_DEFAULTS) == c


def test_loss_section_is_the_family_s_own() -> None:
    """Each family's ``loss.*`` keys are checked against its own dataclass; the bare Config has none."""
    extd = default_config("extd_fpn_32")
    assert apply_overrides(extd, ["loss.neg_pos_ratio=5"]).loss.neg_pos_ratio == 5.0
    with pytest.raises(ValueError, match="unknown key"):
        apply_overrides(extd, ["loss.qfl_beta=1"])  # a GFL (SCRFD) key
    with pytest.raises(ValueError, match="unknown key"):
        apply_overrides(Config(), ["loss.box_weight=1"])
    assert "sampling" in default_config("gs_fpn_r18").loss.__dataclass_fields__


@pytest.mark.parametrize("override, msg", [
    ("train.epochs=-1", "train.epochs must be >= 1"),
    ("train.batch_size=0", "train.batch_size must be >= 1"),
    ("train.device=gpu", "train.device must be auto, cpu, cuda or cuda:N"),
    ("train.lr=.nan", "train.lr: expected a finite number"),
    ("train.optimizer=rmsprop", "train.optimizer must be one of sgd, adam, adamw"),
    ("train.ema_decay=1.5", "train.ema_decay must be in"),
    ("data.input_size=0", "data.input_size must be >= 32"),
    ("data.input_size=100", "data.input_size must be a multiple of 32"),
    ("data.crop_choice=[0.5,-1]", "data.crop_choice must be > 0"),
    ("eval.nms_thr=2", "eval.nms_thr must be in"),
    ("distill.mode=soft", "distill.mode must be one of auto, dense, pseudo"),
])
def test_bad_numbers_fail_where_they_enter(override: str, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        apply_overrides(Config(), [override])


def test_malformed_yaml_names_file_and_line(tmp_path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("train:\n  lr: [1,\n")
    with pytest.raises(ValueError, match=r"c.yaml:3: not valid YAML"):
        load_yaml(bad)
    bad.write_text("- a list\n")
    with pytest.raises(ValueError, match="expected a mapping of sections"):
        load_yaml(bad)


def test_no_float_setting_of_any_section_takes_nan_or_inf() -> None:
    cfg = default_config("scrfd_500m")
    for key in ("loss.box_weight", "train.lr", "distill.cls_weight"):
        for bad in (".nan", ".inf", "-.inf"):
            with pytest.raises(ValueError, match="finite number"):
                apply_overrides(cfg, [f"{key}={bad}"])

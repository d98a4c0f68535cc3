"""Learning-rate schedules and optimizer construction."""

import math

import ml_collections
import numpy as np
import pytest

from tfless.train.optimizers import WarmupSchedule, make_optimizer


def test_fixmatch_cosine_matches_the_paper_formula():
    s = WarmupSchedule(0.03, 1000, "fixmatch_cosine")
    for k in (0, 250, 999):
        assert float(s(k)) == pytest.approx(
            0.03 * math.cos(7 * math.pi * k / (16 * 1000)), rel=1e-5
        )


def test_cosine_with_warmup_and_step_schedules():
    s = WarmupSchedule(1.0, 110, "cosine", warmup_steps=10)
    assert float(s(0)) == pytest.approx(0.1) and float(s(9)) == pytest.approx(1.0)
    assert float(s(60)) == pytest.approx(0.5, abs=1e-5)
    assert float(s(110)) == pytest.approx(0.0, abs=1e-6)
    st = WarmupSchedule(1.0, 100, "step", boundaries=(0.3, 0.6, 0.9), factor=0.1)
    got = [float(st(k)) for k in (0, 29, 30, 60, 95)]
    np.testing.assert_allclose(got, [1, 1, 0.1, 0.01, 0.001], rtol=1e-5)


def test_make_optimizer_names_and_errors():
    cfg = ml_collections.ConfigDict(
        dict(
            name="sgd",
            learning_rate=0.03,
            momentum=0.9,
            nesterov=True,
            weight_decay=5e-4,
            ema=0.999,
        )
    )
    opt = make_optimizer(cfg, 100)
    assert opt.nesterov and opt.use_ema and opt.ema_momentum == pytest.approx(0.999)
    for name in ("adam", "adamw", "lamb"):
        cfg.name = name
        assert make_optimizer(cfg, 100) is not None
    cfg.name = "rmsprop"
    with pytest.raises(ValueError, match=r"Unknown optimizer 'rmsprop'"):
        make_optimizer(cfg, 100)
    with pytest.raises(ValueError, match="Unknown schedule 'linear'"):
        WarmupSchedule(0.1, 10, "linear")

"""BiT transfer through the trainer: a .npz trunk, the HyperRule schedule, the BiT crop."""

import os

import keras
import numpy as np
import pytest

from tfless.augment import views
from tfless.backbones import build_backbone
from tfless.backbones.resnet_v2_gn import save_bit_npz
from tfless.configs import load_config
from tfless.train import hyperrule
from tfless.train.build import build_run
from tfless.train.optimizers import WarmupSchedule, make_optimizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _config(arg, **overrides):
    c = load_config(f"{ROOT}/configs/bit/digits.py:{arg}")
    with c.unlocked():
        for key, value in overrides.items():
            section, name = key.split(".")
            c[section][name] = value
    return c


def test_model_init_loads_a_bit_npz_into_the_trunk(tmp_path):
    c = _config("5shot,smoke")
    keras.utils.set_random_seed(7)
    trunk = build_backbone("bit_tiny", (16, 16, 1))
    for v in trunk.weights:  # GroupNorm starts at 1 / 0: perturb so every weight is checked
        v.assign(v + 0.05 * np.random.default_rng(0).normal(size=v.shape).astype(np.float32))
    path = str(tmp_path / "trunk.npz")
    save_bit_npz(trunk, path)
    method = build_run(_config("5shot,smoke", **{"model.init": path}), init_weights=True).method
    x = np.random.default_rng(1).random((4, 16, 16, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(method.encoder(x)), np.asarray(trunk(x)), atol=1e-5)
    assert not np.any(np.asarray(method.head.kernel))  # BiT's new head starts at zero
    # A BiT file fits only a bit_* trunk.
    convnet = _config("5shot,smoke", **{"model.init": path, "model.backbone": "convnet"})
    with convnet.unlocked():
        convnet.model.kwargs = {"widths": (8, 16)}
    with pytest.raises(ValueError, match="loads into a bit_\\* backbone"):
        build_run(convnet, init_weights=True)
    assert c.method.name == "bit" and c.data.augment == "bit_crop"


@pytest.mark.parametrize("arg, examples", [("5shot", 50), ("1shot", 10)])
def test_the_config_schedule_is_bits_hyperrule_but_at_single_steps(arg, examples):
    c = _config(arg)
    points = hyperrule.hyperrule_schedule(examples)
    assert c.train.steps == points[-1] == 500 and c.method.kwargs.mixup_alpha == 0.0
    o = c.optimizer
    schedule = WarmupSchedule(
        o.learning_rate, c.train.steps, o.schedule, o.warmup_steps, o.boundaries, o.factor
    )
    got = np.asarray(schedule(np.arange(c.train.steps)))
    scale = o.learning_rate / hyperrule.BASE_LR
    want = np.array([scale * hyperrule.hyperrule_lr(t, examples) for t in range(c.train.steps)])
    # The warm-up runs one step ahead of the official ramp; each decay lands on its point
    # instead of the step after: nowhere else do the two differ.
    ahead = np.array([scale * hyperrule.hyperrule_lr(t + 1, examples) for t in range(points[0])])
    np.testing.assert_allclose(got[: points[0]], ahead, rtol=1e-5)
    differ = sorted(np.flatnonzero(~np.isclose(got, want, rtol=1e-5)))
    assert set(differ) <= set(range(points[0])) | set(points[1:-1]), differ
    # ...and the optimizer the trainer builds from the config follows it.
    optimizer = make_optimizer(o, c.train.steps)
    optimizer.iterations.assign(points[2] + 1)
    assert float(optimizer.learning_rate) == pytest.approx(got[points[2] + 1], rel=1e-6)
    full = load_config(f"{ROOT}/configs/bit/cifar10.py:full")
    assert full.train.steps == 10_000 and full.method.kwargs.mixup_alpha == 0.1


def test_bit_crop_is_a_zoomed_crop_of_the_same_size():
    images = np.random.default_rng(0).random((3, 10, 10, 1)).astype(np.float32)
    same = views.VIEWS["bit_crop"](flip=False, crop_fraction=1.0)(images)["image"]
    np.testing.assert_allclose(np.asarray(same), images, atol=1e-6)
    flat = np.full((3, 10, 10, 1), 0.3, np.float32)
    out = np.asarray(views.VIEWS["bit_crop"]()(flat)["image"])
    assert out.shape == flat.shape and np.allclose(out, 0.3)
    zoomed = np.asarray(views.VIEWS["bit_crop"](flip=False, crop_fraction=0.5)(images)["image"])
    assert not np.allclose(zoomed, images)
    with pytest.raises(ValueError, match="crop_fraction must be in"):
        views.VIEWS["bit_crop"](crop_fraction=0.0)

"""MR-GAN stages: ordering and refusal, bad domains, and a classifier that learns."""

import json
import os

import numpy as np
import pytest

from tests.testing import digits_images, tfless_train_in_process
from tfless.data import digits_arrays
from tfless.data.synthetic_digits import DigitsPair, render_digits
from tfless.methods.generative import StageError, StageSettings, check_previous_stage, run_stage

SETTINGS = StageSettings(
    classifier_steps=60,
    cyclegan_steps=2,
    batch_size=16,
    classifier_widths=(8, 16),
    generator_filters=4,
    generator_blocks=1,
    discriminator_filters=4,
    discriminator_layers=1,
    cyclegan_eagerly=True,
)


def _pair(n_syn=200):
    """16x16 rendered digits against the scikit-learn digits (resized): small and offline."""
    syn_x, syn_y = render_digits(n_syn, size=16, seed=0)
    real_x = digits_images(16, split="train")
    _, real_y = digits_arrays("train")
    test_x = digits_images(16, split="test", n=300)
    _, test_y = digits_arrays("test")
    labeled = np.concatenate([np.flatnonzero(real_y == c)[:5] for c in range(10)])
    return DigitsPair(
        syn_x, syn_y, real_x[labeled], real_y[labeled], real_x[:400], test_x, test_y[:300]
    )


def test_stages_refuse_to_start_without_the_previous_stage(tmp_path):
    workdir = str(tmp_path)
    with pytest.raises(StageError, match=r"stage 1 resumes from stage 0's checkpoints.*lacks"):
        run_stage(1, workdir, _pair(20), SETTINGS)
    assert not os.path.exists(tmp_path / "stage_1")  # refused before anything was written
    with pytest.raises(StageError, match=r"stage 2 .*stage 1.*generator_ab\.weights\.h5"):
        check_previous_stage(workdir, 2)
    with pytest.raises(StageError, match=r"one of \(0, 1, 2\)"):
        check_previous_stage(workdir, 3)


def test_bad_domains_are_refused(tmp_path):
    pair = _pair(20)
    empty = DigitsPair(
        pair.synthetic_images[:0], pair.synthetic_labels[:0], *list(vars(pair).values())[2:]
    )
    with pytest.raises(StageError, match=r"\['synthetic'\] have no images"):
        run_stage(0, str(tmp_path), empty, SETTINGS)
    rgb = DigitsPair(np.repeat(pair.synthetic_images, 3, -1), *list(vars(pair).values())[1:])
    with pytest.raises(StageError, match="one image shape"):
        run_stage(0, str(tmp_path), rgb, SETTINGS)
    few = DigitsPair(pair.synthetic_images[:3], np.array([0, 1, 2]), *list(vars(pair).values())[2:])
    with pytest.raises(StageError, match=r"missing from the synthetic domain \[3, 4, 5"):
        run_stage(0, str(tmp_path), few, SETTINGS)


def test_stages_run_in_order_and_record_accuracy(tmp_path):
    workdir = str(tmp_path)
    pair = _pair()
    results = [run_stage(s, workdir, pair, SETTINGS) for s in (0, 1, 2)]
    for stage, result in enumerate(results):
        path = tmp_path / f"stage_{stage}" / "metrics.json"
        assert json.loads(path.read_text())["test_accuracy"] == result["test_accuracy"]
    assert (tmp_path / "stage_2" / "generator_ba.weights.h5").exists()
    # 5 real labels per class plus rendered digits, 60 steps: twice chance (10%) or better.
    assert results[0]["test_accuracy"] > 0.2, results[0]
    assert all(np.isfinite(r["test_accuracy"]) for r in results)


def _write_folder(root, classes, per_class, shade):
    from PIL import Image

    rng = np.random.default_rng(len(str(root)))
    for k, name in enumerate(classes):
        os.makedirs(root / name, exist_ok=True)
        for i in range(per_class):
            pixels = np.full((8, 8, 3), 40 * k + shade, np.uint8) + rng.integers(0, 9, (8, 8, 3))
            Image.fromarray(pixels.astype(np.uint8)).save(root / name / f"{i}.png")


def test_cifar_da4_config_runs_stage_0_from_user_folders(tmp_path):
    """The CIFAR-DA4 config's launcher on tiny folders: refusals, then stage 0 and real-only."""
    from tfless.configs import load_config
    from tfless.data.synthetic_digits import folder_pair
    from tfless.train.mrgan_stages import run_stages_from_config, settings_from_config

    _write_folder(tmp_path / "syn", ["cat", "dog"], 6, 0)
    _write_folder(tmp_path / "real", ["cat", "dog"], 10, 100)
    _write_folder(tmp_path / "other", ["cat", "emu"], 2, 0)
    with pytest.raises(ValueError, match=r"missing from the synthetic one \['dog'\]"):
        folder_pair(str(tmp_path / "other"), str(tmp_path / "real"), 2, image_size=8)
    config = load_config(
        os.path.join(os.path.dirname(__file__), "../../../configs/mrgan/cifar_da4.py:smoke")
    )
    assert settings_from_config(config).generator_blocks == 1
    with pytest.raises(StageError, match="data.dataset='folder:/real/images'"):
        run_stages_from_config(config, str(tmp_path / "w"))
    with config.unlocked():
        config.data.dataset = f"folder:{tmp_path / 'real'}"
        config.data.image_size, config.data.labels_per_class = 8, 2
        config.mrgan.synthetic_dir = str(tmp_path / "syn")
    with pytest.raises(StageError, match="stage 1 resumes from stage 0"):
        run_stages_from_config(config, str(tmp_path / "w"), stages=(1, 2))


def test_tfless_train_runs_the_stages_a_config_names(tmp_path, cli_module, monkeypatch, capsys):
    _write_folder(tmp_path / "syn", ["cat", "dog"], 6, 0)
    _write_folder(tmp_path / "real", ["cat", "dog"], 10, 100)
    _write_folder(tmp_path / "other", ["cat", "emu"], 2, 0)
    config = os.path.join(os.path.dirname(__file__), "../../../configs/mrgan/cifar_da4.py")
    args = [
        f"--config={config}:stages,smoke",
        f"--workdir={tmp_path / 'w'}",
        f"--config.data.dataset=folder:{tmp_path / 'real'}",
        "--config.data.image_size=8",
        "--config.data.labels_per_class=2",
        "--config.mrgan.stages=(0,)",
    ]
    # Folders whose classes disagree: one error line, status 2, nothing trained.
    bad = f"--config.mrgan.synthetic_dir={tmp_path / 'other'}"
    assert tfless_train_in_process(cli_module, monkeypatch, *args, bad) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tfless-train: error:") and "\n" not in err
    assert "missing from the synthetic one ['dog']" in err and not (tmp_path / "w").exists()
    good = f"--config.mrgan.synthetic_dir={tmp_path / 'syn'}"
    assert tfless_train_in_process(cli_module, monkeypatch, *args, good) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"real_only", "stage_0"} and 0.0 <= out["stage_0"]["test_accuracy"] <= 1
    assert (tmp_path / "w" / "real_only.json").exists()
    assert (tmp_path / "w" / "stage_0" / "metrics.json").exists()

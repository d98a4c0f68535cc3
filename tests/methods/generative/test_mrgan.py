"""MR-GAN stages: ordering and refusal, bad domains, and a classifier that learns."""

import json
import os

import numpy as np
import pytest

from tests.testing import digits_images
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

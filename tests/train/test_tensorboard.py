"""TensorBoard logs of a run: scalars every train.log_every steps, evaluation metrics,
the augmented views at the start, and the hyperparameters."""

import glob
import logging
import os

import numpy as np
import pytest
import tensorflow as tf

from tfless.configs import load_config
from tfless.train import callbacks as cb
from tfless.train import train_and_evaluate, trainer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _events(logdir):
    """``{tag: [(step, plugin, value)]}`` of every event file under ``logdir``."""
    tags = {}
    for path in sorted(
        glob.glob(os.path.join(logdir, "**", "events.out.tfevents.*"), recursive=True)
    ):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                tensor = tf.make_ndarray(value.tensor) if value.HasField("tensor") else None
                tags.setdefault(value.tag, []).append((event.step, plugin, tensor))
    return tags


def test_run_logs_scalars_every_log_every_steps_views_and_hparams(tmp_path, monkeypatch, caplog):
    c = load_config(f"{ROOT}/configs/supervised/digits.py:smoke")
    assert c.train.log_every == 10  # the schema's default
    with c.unlocked():
        c.train.update(steps=4, eval_every=2, log_every=1, verbose=1, tensorboard=True)
        c.data.augment = "flip_crop"
        c.data.augment_kwargs = {"flip": False, "pad_fraction": 0.125}
    workdir = str(tmp_path / "run")
    # As in a terminal: a progress bar redrawn in place, and INFO logging on (absl's
    # default under the console scripts).
    monkeypatch.setattr(trainer, "progress_verbosity", lambda verbose, stream=None: verbose)
    in_fit = []
    monkeypatch.setattr(
        cb.QuietInfoLogs, "on_epoch_end", lambda self, epoch, logs=None: in_fit.append(epoch)
    )
    caplog.set_level(logging.INFO)
    train_and_evaluate(c, workdir)
    assert in_fit == [0, 1]
    # The checkpoint saver's INFO line at each epoch end would break the bar.
    assert not [r for r in caplog.records if "Sharding callback" in r.getMessage()]
    assert logging.getLogger().isEnabledFor(logging.INFO)  # restored after fit
    tags = _events(os.path.join(workdir, "tensorboard"))

    # One point per step, not one per epoch.
    assert [s for s, _, _ in tags["train/loss"]] == [1, 2, 3, 4]
    assert [s for s, _, _ in tags["train/learning_rate"]] == [1, 2, 3, 4]
    lr = [float(v) for _, _, v in tags["train/learning_rate"]]
    assert all(np.isfinite(lr)) and lr[0] > 0
    # Evaluation metrics at the end of each epoch.
    val = [t for t in tags if t.startswith("epoch/val_")]
    assert val and all([s for s, _, _ in tags[t]] == [2, 4] for t in val), val
    # The augmented training views, once, at step 0, upscaled from 16 px to 32 px.
    ((step, plugin, encoded),) = tags["augmented_views"]
    assert step == 0 and plugin == "images"
    width, height = int(encoded[0]), int(encoded[1])
    assert (width, height) == (8 * 32, 32)
    assert b"image" in tags["augmented_views_rows"][0][2].item()
    # The hyperparameters: the hparams plugin (tensorboard is installed) and the text config.
    assert any(p == "hparams" for values in tags.values() for _, p, _ in values)
    config_text = tags["config"][0][2].item().decode()
    assert "optimizer/learning_rate = 0.002" in config_text
    assert "train/log_every = 1" in config_text


def test_views_grid_rows_and_bad_log_every():
    rng = np.random.default_rng(0)
    batch = {
        "labeled": {"image": rng.random((4, 8, 8, 1), np.float32), "label": np.zeros(4)},
        "unlabeled": {
            "image_weak": rng.random((4, 8, 8, 1), np.float32),
            "image_strong": rng.random((4, 8, 8, 1), np.float32),
        },
    }
    batch = tf.nest.map_structure(tf.convert_to_tensor, batch)
    grid, names = cb.views_grid(batch, per_row=3)
    assert names == ["labeled/image", "unlabeled/image_strong", "unlabeled/image_weak"]
    assert grid.shape == (3 * 32, 3 * 32, 3)
    # Nearest-neighbour upscaling: each source pixel is a 4x4 block.
    np.testing.assert_allclose(grid[:32:4, :32:4, 0], batch["labeled"]["image"][0, ..., 0])
    for bad in (0, -1, 2.5, "10"):
        with pytest.raises(ValueError, match="train.log_every"):
            cb.check_log_every(bad)

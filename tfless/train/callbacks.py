"""Training callbacks: checkpoints, history, JSON writing, method-provided callbacks."""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile

import keras
import numpy as np
import tensorflow as tf


def json_safe(obj):
    """``obj`` with every non-finite float (NaN, inf) replaced by None, recursively.

    Python's ``json`` writes NaN and Infinity as bare tokens, which are not JSON and
    which strict readers (``jq``, browsers, most languages) refuse.
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def write_json_atomic(path: str, obj) -> None:
    """Writes JSON to a temporary file in the same directory and renames it into place.

    Non-finite floats are written as ``null`` (:func:`json_safe`), so the file is valid JSON.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(json_safe(obj), f, indent=2, sort_keys=True, default=str, allow_nan=False)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves ``tf.train.Checkpoint`` (method, optimizer, epoch) at the end of every epoch.

    Saving happens before any EMA swap so that the checkpoint holds the raw weights
    and the EMA slots; ``CheckpointManager`` writes atomically and keeps the newest few.
    """

    def __init__(self, manager: tf.train.CheckpointManager, epoch_var: tf.Variable):
        super().__init__()
        self.manager = manager
        self.epoch_var = epoch_var

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_var.assign(epoch + 1)
        self.manager.save(checkpoint_number=self.model.optimizer.iterations)


class HistoryWriter(keras.callbacks.Callback):
    """Appends each epoch's logs to a JSON file (kept across resumptions)."""

    def __init__(self, path: str, initial_epoch: int = 0):
        super().__init__()
        self.path = path
        self.rows = []
        if os.path.exists(path):
            with open(path) as f:
                self.rows = [r for r in json.load(f) if r["epoch"] < initial_epoch]

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch, "step": int(self.model.optimizer.iterations.numpy())}
        row.update({k: float(v) for k, v in (logs or {}).items()})
        self.rows.append(row)
        write_json_atomic(self.path, self.rows)


def extra_callbacks(method, data, config) -> list:
    """Callbacks a method needs for itself (DeepCluster's clustering, label propagation),
    then the online linear probe when ``config.eval.online_probe_every`` is set (see
    :func:`tfless.evaluation.online_probe_callbacks`).

    The method's own come from :meth:`tfless.methods.Method.callbacks`, which receives
    the trainer's data (:class:`tfless.data.pipelines.Data`) and never the config.
    """
    from tfless.evaluation import online_probe_callbacks

    return [*method.callbacks(data), *online_probe_callbacks(data, config)]


class QuietInfoLogs(keras.callbacks.Callback):
    """Holds Python and absl logging at WARNING while ``fit`` draws its progress bar.

    Keras redraws the bar (``verbose=1``) in place on one terminal line; an INFO line that
    TensorFlow logs meanwhile (the checkpoint saver's "Sharding callback duration" at every
    epoch end, through absl's handler under the console scripts) lands in the middle of the
    bar and breaks it. Warnings and errors still show; the levels are restored when
    training ends. Nothing changes when the bar is not drawn (``verbose`` 0 or 2) or when
    the user chose absl's ``--verbosity`` on the command line.
    """

    def __init__(self):
        super().__init__()
        self._saved = None

    def on_train_begin(self, logs=None):
        if self.params.get("verbose") != 1 or _verbosity_chosen():
            return
        from absl import logging as absl_logging

        loggers = [logging.getLogger(), logging.getLogger("tensorflow")]
        self._saved = (absl_logging.get_verbosity(), [(lg, lg.level) for lg in loggers])
        absl_logging.set_verbosity(absl_logging.WARNING)
        for logger in loggers:
            logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))

    def on_train_end(self, logs=None):
        if self._saved is None:
            return
        from absl import logging as absl_logging

        verbosity, levels = self._saved
        absl_logging.set_verbosity(verbosity)
        for logger, level in levels:
            logger.setLevel(level)
        self._saved = None


def _verbosity_chosen() -> bool:
    """Whether absl's ``--verbosity`` (``-v``) was given on the command line."""
    from absl import flags

    return "verbosity" in flags.FLAGS and flags.FLAGS["verbosity"].present > 0


#: Steps between TensorBoard scalar points when ``train.log_every`` is not set.
DEFAULT_LOG_EVERY = 10


def check_log_every(value) -> int:
    """``train.log_every`` as an int >= 1; ValueError naming the bad value otherwise."""
    try:
        every = int(value)
    except (TypeError, ValueError):
        every = 0
    if every < 1 or every != value:
        raise ValueError(
            f"train.log_every must be an integer >= 1 (steps between TensorBoard points); "
            f"got {value!r}."
        )
    return every


def _image_batches(batch, prefix: str = "") -> list:
    """``[(name, images [B, H, W, C])]`` of every image tensor in a (nested) batch dict."""
    found = []
    if isinstance(batch, dict):
        for key in sorted(batch):
            found += _image_batches(batch[key], f"{prefix}{key}/")
    elif isinstance(batch, (list, tuple)):
        for i, value in enumerate(batch):
            found += _image_batches(value, f"{prefix}{i}/")
    elif getattr(batch, "shape", None) is not None and len(batch.shape) == 4:
        if batch.shape[-1] in (1, 3) and batch.dtype in (tf.float32, tf.uint8):
            found.append((prefix.rstrip("/"), batch))
    elif getattr(batch, "shape", None) is not None and len(batch.shape) == 5:
        # Few-shot meta-batches [episodes, N*K, H, W, C]: the first episode's images.
        found += _image_batches(batch[0], prefix)
    return found


def views_grid(batch, per_row: int = 8, min_side: int = 32) -> tuple[np.ndarray, list]:
    """One picture of a training batch's augmented views: a row per view, ``per_row`` images.

    Images are upscaled by pixel repetition (nearest neighbour) to at least ``min_side``
    pixels, grey images shown as RGB; views of another size than the first are skipped.

    Returns:
      ``(grid [H', W', 3] float32 in [0, 1], names of the rows)``.
    """
    views = _image_batches(batch)
    if not views:
        raise ValueError("the training batch holds no [B, H, W, 1 or 3] images to show")
    size = tuple(views[0][1].shape[1:3])
    factor = max(1, -(-min_side // min(size)))
    rows, names = [], []
    for name, images in views:
        if tuple(images.shape[1:3]) != size:
            continue
        x = np.asarray(images[:per_row], np.float32)
        x = x / 255.0 if images.dtype == tf.uint8 else np.clip(x, 0.0, 1.0)
        x = np.repeat(np.repeat(x, factor, axis=1), factor, axis=2)
        if x.shape[-1] == 1:
            x = np.repeat(x, 3, axis=-1)
        pad = np.zeros((per_row - len(x), *x.shape[1:]), np.float32)
        rows.append(np.concatenate(list(np.concatenate([x, pad])), axis=1))
        names.append(name)
    return np.concatenate(rows, axis=0), names


def _hparam_value(value):
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def flat_config(config) -> dict:
    """``{"optimizer/learning_rate": 0.002, ...}``: a (nested) config as flat scalars."""
    tree = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    flat = {}

    def walk(node, prefix):
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}/")
            else:
                flat[f"{prefix}{key}"] = _hparam_value(value)

    walk(tree, "")
    return flat


def _scalars(prefix: str, logs) -> None:
    """Writes every scalar of ``logs`` as ``prefix/name`` (others, e.g. vectors, are skipped)."""
    for name, value in (logs or {}).items():
        value = np.asarray(keras.ops.convert_to_numpy(value))
        if value.size == 1:
            tf.summary.scalar(f"{prefix}/{name}", float(value.reshape(())))


class TensorBoardWriter(keras.callbacks.Callback):
    """TensorBoard logs of a run, written by the chief only.

    * scalars every ``log_every`` optimizer steps: the method's logs (``loss`` and its
      metrics, e.g. ``mask_rate``) and the learning rate, under ``train/``;
    * every epoch's logs (evaluation metrics ``val_*``, the online probe) under ``epoch/``;
    * once, at the start of a run (not of a resumed one), a grid of augmented training
      views, one row per view (``image``, ``image_weak``, ``image_strong``, ``views/i``);
    * the run's hyperparameters: the resolved config through TensorBoard's hparams
      plugin (``tensorboard.plugins.hparams.api``) when it imports, and always as text.

    Args:
      logdir: directory of the event files.
      config: the resolved run config (hyperparameters).
      train_data: the training ``tf.data.Dataset`` (one batch is read for the image grid);
        None skips the grid.
      log_every: optimizer steps between scalar points (``train.log_every``).
      initial_epoch: the epoch a resumed run starts from (the grid is written at 0 only).
    """

    def __init__(
        self, logdir, config, train_data=None, log_every=DEFAULT_LOG_EVERY, initial_epoch=0
    ):
        super().__init__()
        self.logdir = logdir
        self.config = config
        self.train_data = train_data
        self.log_every = check_log_every(log_every)
        self.initial_epoch = int(initial_epoch)
        self.writer = None

    def _step(self) -> int:
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def _learning_rate(self) -> float:
        return float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_train_begin(self, logs=None):
        self.writer = tf.summary.create_file_writer(self.logdir)
        step = self._step()
        with self.writer.as_default(step=step):
            self._write_hparams()
            if self.train_data is not None and self.initial_epoch == 0:
                batch = next(iter(self.train_data))
                grid, names = views_grid(batch)
                tf.summary.image("augmented_views", grid[None], step=step)
                rows = "\n".join(f"{i}. {n}" for i, n in enumerate(names, 1))
                tf.summary.text(
                    "augmented_views_rows", f"Rows, top to bottom:\n\n{rows}", step=step
                )
        self.writer.flush()

    def _write_hparams(self) -> None:
        flat = flat_config(self.config)
        text = "\n".join(f"    {k} = {v!r}" for k, v in sorted(flat.items()))
        tf.summary.text("config", "Resolved config:\n\n" + text, step=0)
        try:
            from tensorboard.plugins.hparams import api as hp
        except ImportError:
            return
        hp.hparams(flat, trial_id=os.path.basename(os.path.dirname(os.path.abspath(self.logdir))))

    def on_train_batch_end(self, batch, logs=None):
        step = self._step()
        if step % self.log_every:
            return
        with self.writer.as_default(step=step):
            _scalars("train", logs)
            tf.summary.scalar("train/learning_rate", self._learning_rate())

    def on_epoch_end(self, epoch, logs=None):
        step = self._step()
        with self.writer.as_default(step=step):
            _scalars("epoch", logs)
            tf.summary.scalar("epoch/learning_rate", self._learning_rate())
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
            self.writer = None

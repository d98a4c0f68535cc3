"""Training callbacks: checkpoints, history, JSON writing, method-provided callbacks."""

from __future__ import annotations

import json
import math
import os
import tempfile

import keras
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

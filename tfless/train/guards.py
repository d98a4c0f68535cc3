"""Stopping a run whose loss or weights stop being finite, before the bad state is saved.

``keras.callbacks.TerminateOnNaN`` only sets ``stop_training``: the epoch still ends,
so the end-of-epoch checkpoint saves the NaN weights over the last good ones and the
run reports success. :class:`StopOnNonFinite` raises instead, from the batch whose
loss is not finite (and, at the end of an epoch, before the checkpoint callback that
follows it, when a weight is not finite), so no later callback runs and the newest
checkpoint on disk is the last finite state.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf


class NonFiniteLoss(RuntimeError):
    """Training produced a NaN or infinite loss (or weight); the run stopped.

    Attributes:
      step: the optimizer step whose loss (or update) was not finite.
      values: the offending log values, ``{name: value}``.
    """

    def __init__(self, message: str, step: int, values: dict):
        super().__init__(message)
        self.step = step
        self.values = values


def non_finite_losses(logs: dict | None) -> dict:
    """``{name: value}`` of the losses in ``logs`` (keys containing ``loss``, validation
    ones excluded) that are NaN or infinite."""
    bad = {}
    for name, value in (logs or {}).items():
        if "loss" not in name or name.startswith("val_"):
            continue
        try:
            value = float(np.asarray(value))
        except (TypeError, ValueError):
            continue
        if not math.isfinite(value):
            bad[name] = value
    return bad


def non_finite_weights(model: keras.Model) -> list[str]:
    """Paths of the floating-point weights of ``model`` holding a NaN or infinity."""
    bad = []
    for v in model.weights:
        if "float" in str(v.dtype) and not bool(tf.reduce_all(tf.math.is_finite(v.value))):
            bad.append(v.path)
    return bad


class StopOnNonFinite(keras.callbacks.Callback):
    """Raises :class:`NonFiniteLoss` when a training loss or a weight is not finite.

    Put it before the checkpoint callback: at the end of an epoch it checks every
    weight (an update can turn weights into NaN on the epoch's last step, whose loss
    was still finite) and raises before the checkpoint is written.

    Args:
      manager: the run's ``tf.train.CheckpointManager``, to name the checkpoint kept.
    """

    def __init__(self, manager: tf.train.CheckpointManager | None = None):
        super().__init__()
        self.manager = manager
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        bad = non_finite_losses(logs)
        if bad:
            self._stop(bad, f"the loss is not finite after batch {batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        bad = non_finite_losses(logs)
        if bad:
            self._stop(bad, "the epoch's loss is not finite")
        weights = non_finite_weights(self.model)
        if weights:
            shown = ", ".join(weights[:3]) + (", ..." if len(weights) > 3 else "")
            self._stop({}, f"{len(weights)} weights are not finite ({shown})")

    def _stop(self, values: dict, what: str):
        step = int(self.model.optimizer.iterations.numpy())
        epochs = (self.params or {}).get("epochs")
        kept = self.manager.latest_checkpoint if self.manager is not None else None
        kept = f"the last good checkpoint {kept} is kept" if kept else "none had been saved yet"
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        raise NonFiniteLoss(
            f"Training stopped at step {step} (epoch {self._epoch + 1}"
            f"{f' of {epochs}' if epochs else ''}): {what}"
            f"{f' ({shown})' if shown else ''}. This state was not checkpointed: {kept}. "
            "Lower optimizer.learning_rate, set optimizer.clipnorm, or check the data for "
            "NaN or infinite values.",
            step,
            values,
        )

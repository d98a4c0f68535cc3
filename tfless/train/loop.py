"""A ``fit``-compatible loop over ``strategy.run`` for MultiWorkerMirroredStrategy.

Keras 3.15's ``Model.fit`` fails under ``MultiWorkerMirroredStrategy`` on TF 2.21: it
builds the model symbolically from the first distributed batch, whose values are
``PerReplica`` objects it cannot convert (keras-team/keras#20585). The trainer
therefore builds the method itself (inside the strategy scope, from a local batch)
and runs this loop, which calls the method's own ``train_step``/``test_step`` through
``strategy.run`` and drives the same Keras callbacks (progress bar, checkpoints,
TensorBoard, EMA swapping) as ``fit`` does.

Metric trackers are Keras metrics whose state variables are ``SyncOnRead`` with SUM
aggregation, so reading ``result()`` outside ``strategy.run`` aggregates over all
replicas of all workers.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.train.precision import uses_ema


def _logs(method) -> dict:
    return {m.name: float(m.result()) for m in method.metrics}


def _reset(method) -> None:
    for m in method.metrics:
        m.reset_state()


def distributed_fit(
    method,
    strategy: tf.distribute.Strategy,
    dataset: tf.data.Dataset,
    *,
    epochs: int,
    steps_per_epoch: int,
    initial_epoch: int = 0,
    validation_data: tf.data.Dataset | None = None,
    callbacks=(),
    verbose: int = 1,
    steps_per_execution: int = 1,
) -> dict:
    """Trains ``method`` (already built and compiled in ``strategy.scope()``).

    Args:
      dataset: infinite dataset of global batches.
      epochs, steps_per_epoch, initial_epoch: as in ``keras.Model.fit``.
      validation_data: finite dataset evaluated at the end of each epoch.
      callbacks: Keras callbacks.
      steps_per_execution: training steps run in one ``tf.function`` call, as Keras'
        ``compile(steps_per_execution=...)``; callbacks see every ``steps_per_execution``-th
        batch end, with its step index. Must divide ``steps_per_epoch``.

    Returns:
      ``history`` dict ``{name: [value per epoch]}`` like ``History.history``.
    """
    if steps_per_epoch % steps_per_execution:
        raise ValueError(
            f"steps_per_execution={steps_per_execution} must divide "
            f"steps_per_epoch={steps_per_epoch}."
        )
    dist = strategy.experimental_distribute_dataset(dataset)
    iterator = iter(dist)

    @tf.function
    def train_steps(it):
        for _ in tf.range(steps_per_execution):
            strategy.run(method.train_step, args=(next(it),))

    cbs = keras.callbacks.CallbackList(
        list(callbacks),
        add_history=True,
        add_progbar=verbose != 0,
        model=method,
        verbose=verbose,
        epochs=epochs,
        steps=steps_per_epoch,
    )
    method.stop_training = False
    cbs.on_train_begin()
    logs = {}
    for epoch in range(initial_epoch, epochs):
        _reset(method)
        cbs.on_epoch_begin(epoch)
        for first in range(0, steps_per_epoch, steps_per_execution):
            cbs.on_train_batch_begin(first)
            train_steps(iterator)
            logs = _logs(method)
            cbs.on_train_batch_end(first + steps_per_execution - 1, logs)
        epoch_logs = dict(logs)
        if validation_data is not None:
            cbs.on_test_begin()
            val = distributed_evaluate(method, strategy, validation_data)
            cbs.on_test_end(val)
            epoch_logs.update({f"val_{k}": v for k, v in val.items()})
        cbs.on_epoch_end(epoch, epoch_logs)
        if method.stop_training:
            break
    cbs.on_train_end(logs)
    if uses_ema(method.optimizer):
        method.optimizer.finalize_variable_values(method.trainable_variables)
    history = next(c for c in cbs.callbacks if isinstance(c, keras.callbacks.History))
    return history.history


def distributed_evaluate(
    method, strategy: tf.distribute.Strategy, dataset: tf.data.Dataset
) -> dict:
    """Runs ``method.test_step`` over a finite dataset on all replicas; returns aggregated logs."""
    _reset(method)
    dist = strategy.experimental_distribute_dataset(dataset)

    @tf.function
    def test_step(batch):
        strategy.run(method.test_step, args=(batch,))

    for batch in dist:
        test_step(batch)
    return _logs(method)

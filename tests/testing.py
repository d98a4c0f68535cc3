"""Shared test harness: tiny builders, "it learns" and "two replicas compute what one does".

Import from tests as ``from tests.testing import run_method_learns, ...`` (``tests`` is a
package; pytest puts the repository root on ``sys.path`` when it loads ``tests/conftest.py``).
The two-replica strategy is the session fixture ``mirrored_strategy`` of ``tests/conftest.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from unittest import mock

import keras
import numpy as np
import tensorflow as tf

from tfless.augment import rng
from tfless.backbones import build_backbone
from tfless.data import digits_arrays

# --------------------------------------------------------------------------- builders


def tiny_encoder(shape=(8, 8, 1), widths=(8, 16), *, seed=0, **kwargs) -> keras.Model:
    """A small ``convnet`` backbone ``[B, *shape] -> [B, widths[-1]]``.

    Args:
      shape: ``(H, W, C)`` of the input images.
      widths: channels of the conv blocks.
      seed: ``keras.utils.set_random_seed(seed)`` first, so two calls build the same
        initial weights; ``None`` leaves the global random state as it is.
      **kwargs: passed to ``build_backbone`` (``bn_synchronized``, ``bn_momentum``, ``norm``).
    """
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return build_backbone("convnet", tuple(shape), widths=tuple(widths), **kwargs)


def digits_images(size: int = 8, channels: int = 1, split: str = "train", n=None) -> np.ndarray:
    """The scikit-learn digits as float32 ``[n, size, size, channels]`` in [0, 1].

    ``size`` other than 8 resizes bilinearly; ``channels=3`` repeats the gray channel;
    ``n`` keeps the first ``n`` images (all when ``None``).
    """
    x, _ = digits_arrays(split)
    x = x[:n] if n else x
    if size != 8:
        x = tf.image.resize(x, (size, size), antialias=True).numpy().clip(0, 1)
    if channels == 3:
        x = np.repeat(x, 3, axis=-1)
    return np.asarray(x, np.float32)


def image_batches(images: np.ndarray, batch_size: int, seed: int = 0) -> tf.data.Dataset:
    """Infinite shuffled ``{"image": [batch_size, ...]}`` batches of ``images``."""
    ds = tf.data.Dataset.from_tensor_slices({"image": images})
    return ds.shuffle(len(images), seed=seed).repeat().batch(batch_size, drop_remainder=True)


def first_batch(dataset: tf.data.Dataset):
    """The first element of ``dataset`` as a nest of NumPy arrays (a fixed batch)."""
    return tf.nest.map_structure(np.asarray, next(iter(dataset)))


# ----------------------------------------------------------------------- learning


def run_method_learns(
    method,
    data,
    steps: int,
    *,
    steps_per_epoch: int = 1,
    optimizer=None,
    lr: float = 3e-3,
    batch_size: int = 32,
    seed=None,
    loss_key: str = "loss",
    window: int = 1,
    above: dict | None = None,
    callbacks=None,
) -> dict:
    """Trains a method for a few steps on tiny data and asserts that it learns.

    Args:
      method: a method, or a zero-argument callable building one.
      data: an infinite ``tf.data.Dataset`` of batches, or images ``[N, H, W, C]``
        (streamed by :func:`image_batches` with ``batch_size``).
      steps: number of epochs of ``steps_per_epoch`` steps each.
      optimizer: used when the method is not compiled yet (default ``Adam(lr)``).
      seed: when given, ``keras.utils.set_random_seed(seed)`` before compiling.
      loss_key: the history entry that must fall.
      window: the mean of the last ``window`` epochs of ``loss_key`` must be below the
        mean of the first ``window``.
      above: ``{history_key: bound}``: the mean of the last ``window`` epochs must exceed
        ``bound`` (for an accuracy: chance level or better).

    Returns:
      The Keras history dict (one entry per epoch), for the test's own sharper checks.
    """
    if callable(method) and not isinstance(method, keras.Model):
        method = method()
    if seed is not None:
        keras.utils.set_random_seed(seed)
    if not method.compiled:
        method.compile(optimizer=optimizer or keras.optimizers.Adam(lr), jit_compile=False)
    if not isinstance(data, tf.data.Dataset):
        data = image_batches(data, batch_size, seed or 0)
    hist = method.fit(
        data, steps_per_epoch=steps_per_epoch, epochs=steps, verbose=0, callbacks=callbacks
    ).history
    loss = np.asarray(hist[loss_key], np.float64)
    assert np.all(np.isfinite(loss)), loss
    assert loss[-window:].mean() < loss[:window].mean(), (loss_key, loss)
    for key, bound in (above or {}).items():
        assert np.mean(hist[key][-window:]) > bound, (key, bound, hist[key])
    return hist


# ----------------------------------------------------------- one vs two replicas


@contextlib.contextmanager
def replica_invariant_random(seed: int = 1234):
    """Makes ``tf.random.uniform`` / ``tf.random.normal`` draws (and those of
    :mod:`tfless.augment.rng`, stateless inside a training step) independent of the replica split.

    Inside the block each draw of shape ``[b, ...]`` made on replica ``r`` of ``R`` is the
    slice ``[r*b, (r+1)*b)`` of one stateless draw of shape ``[R*b, ...]``: image ``i`` of
    the global batch gets the same random numbers whether it sits on one replica or two.
    It holds for draws whose leading axis is the batch in global order (per-image crops,
    labels, noise); a draw over ``concat([a_local, b_local])`` is not covered. Every call
    uses the same ``seed``, so two draws of one shape are equal: fine for comparing runs.
    """
    stateless_uniform, stateless_normal = tf.random.stateless_uniform, tf.random.stateless_normal
    base = int(seed)

    def global_rows(draw, shape):
        shape = tf.convert_to_tensor(shape, tf.int32)
        ctx = tf.distribute.get_replica_context()
        replicas = 1 if ctx is None else ctx.num_replicas_in_sync
        replica = 0 if ctx is None else ctx.replica_id_in_sync_group
        local = shape[0]
        values = draw(tf.concat([[local * replicas], shape[1:]], 0))
        return values[tf.cast(replica, tf.int32) * local :][:local]

    def uniform(shape, minval=0, maxval=None, dtype=tf.float32, seed=None, name=None):
        return global_rows(
            lambda s: stateless_uniform(s, [base, 0], minval, maxval, dtype=dtype), shape
        )

    def normal(shape, mean=0.0, stddev=1.0, dtype=tf.float32, seed=None, name=None):
        return global_rows(lambda s: stateless_normal(s, [base, 1], mean, stddev, dtype), shape)

    with (
        mock.patch.object(tf.random, "uniform", uniform),
        mock.patch.object(tf.random, "normal", normal),
        mock.patch.object(rng, "uniform", uniform),
        mock.patch.object(rng, "normal", normal),
    ):
        yield


def _synchronize_batch_norm(model: keras.Model) -> None:
    """Batch norm over the global batch on any number of replicas (plain BN on one)."""
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = True


def _build_compiled(build_fn, strategy, seed, optimizer_fn, sync_batch_norm, eager=False):
    with strategy.scope():
        keras.utils.set_random_seed(seed)
        method = build_fn()
        if sync_batch_norm:
            _synchronize_batch_norm(method)
        method.compile(optimizer=optimizer_fn(), jit_compile=False, run_eagerly=eager)
    return method


def replica_values(variable) -> list:
    """Per-replica NumPy values of a (possibly mirrored) variable; one entry off strategies."""
    value = variable.value if isinstance(variable, keras.Variable) else variable
    return [np.asarray(v) for v in getattr(value, "values", (value,))]


def run_mirrored_equivalence(
    build_fn: Callable[[], keras.Model],
    batch,
    strategy: tf.distribute.Strategy,
    *,
    steps: int = 1,
    optimizer_fn: Callable = lambda: keras.optimizers.SGD(0.05),
    callbacks_fn: Callable | None = None,
    seed: int = 0,
    sync_batch_norm: bool = True,
    invariant_random: bool = False,
    keys=("loss",),
    loss_rtol: float = 1e-4,
    loss_atol: float = 1e-5,
    weight_rtol: float = 1e-3,
    weight_atol: float = 1e-5,
) -> tuple[keras.Model, keras.Model, dict, dict]:
    """Asserts that two replicas train a method as one device does on the same global batch.

    The method is built by ``build_fn`` (after ``keras.utils.set_random_seed(seed)``)
    once under the default one-device strategy and once under ``strategy`` (two
    replicas); the second gets the first one's initial weights. Both run ``steps``
    optimizer steps on the same fixed global ``batch`` (a nest of arrays; each replica
    of ``strategy`` receives half of every array).

    Asserted: the per-step values of ``keys`` (``loss`` and any tracker) agree within
    ``loss_rtol``/``loss_atol``; every weight agrees within ``weight_rtol``/``weight_atol``
    (the defaults absorb float32 re-association of sums split over replicas and a few
    SGD steps; momentum-free SGD keeps weight differences proportional to gradient
    differences, which adaptive optimizers would amplify where gradients are ~0); the
    run did move some weight by more than ten times ``weight_atol`` (the comparison is
    not vacuous); and every trainable variable holds the same value on both replicas.

    Batch norm is made synchronized (``sync_batch_norm``), since per-replica statistics
    of half batches legitimately differ from the global batch's. Methods that draw
    random numbers in their step need ``invariant_random=True``
    (:func:`replica_invariant_random`) or their deterministic settings.

    Args:
      callbacks_fn: ``method -> list`` of callbacks for ``fit`` (e.g. re-clustering).

    Returns:
      ``(one_device_method, mirrored_method, one_device_history, mirrored_history)``.
    """
    assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync
    ctx = replica_invariant_random() if invariant_random else contextlib.nullcontext()
    build = (seed, optimizer_fn, sync_batch_norm)
    # The reference runs eagerly: a few eager steps cost less than tracing a graph.
    one = _build_compiled(build_fn, tf.distribute.get_strategy(), *build, eager=True)
    two = _build_compiled(build_fn, strategy, *build)
    start = one.get_weights()
    two.set_weights(start)
    data = tf.data.Dataset.from_tensors(batch).repeat()
    histories = []
    with ctx:
        for method in (one, two):
            callbacks = callbacks_fn(method) if callbacks_fn else None
            fit = method.fit(data, steps_per_epoch=1, epochs=steps, verbose=0, callbacks=callbacks)
            histories.append(fit.history)
    h1, h2 = histories
    for key in keys:
        assert np.all(np.isfinite(h1[key])), (key, h1[key])
        np.testing.assert_allclose(h2[key], h1[key], rtol=loss_rtol, atol=loss_atol, err_msg=key)
    w1, w2 = one.get_weights(), two.get_weights()
    for v, a, b in zip(one.weights, w1, w2, strict=True):
        np.testing.assert_allclose(b, a, rtol=weight_rtol, atol=weight_atol, err_msg=v.path)
    moved = max(float(np.abs(a - s).max()) for a, s in zip(w1, start) if a.size)
    assert moved > 10 * weight_atol, f"training moved no weight (max change {moved})"
    for v in two.trainable_variables:
        first, *others = replica_values(v)
        for other in others:
            np.testing.assert_array_equal(other, first, err_msg=v.path)
    return one, two, h1, h2


def tfless_train_in_process(cli_module, monkeypatch, *args: str) -> int:
    """``tfless-train ARGS`` run in this process (no TensorFlow start-up): its exit status.

    ``cli_module`` and ``monkeypatch`` are the fixtures; ``sys.argv`` is set as the shell
    would set it, because ml_collections defines the ``--config.*`` flags from it.
    """
    import sys

    from absl import flags

    argv = ["tfless-train", *args]
    monkeypatch.setattr(sys, "argv", argv)
    with cli_module("train") as module:
        flags.FLAGS(argv)
        try:
            module.main(argv[:1])
        except SystemExit as e:
            return e.code
    return 0

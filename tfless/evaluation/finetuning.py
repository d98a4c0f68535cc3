"""Fine-tuning an encoder with a fraction of the labels (semi-supervised evaluation).

The protocol of Zhai et al. 2019 (S4L) and Chen et al. 2020 (SimCLR, Sec. 4.2):
the pre-trained encoder plus a new linear layer are trained end to end on 1%, 10%
or 100% of the labeled training set (class-balanced subsets), and top-1 accuracy
on the test split is reported. The encoder passed in is copied, never modified.
"""

from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf

from tfless.data.splits import labeled_unlabeled_split
from tfless.evaluation.features import keras_encoder
from tfless.evaluation.linear_probe import _check_xy
from tfless.evaluation.settings import DEFAULTS
from tfless.layers.batchnorm import bn_layers


def trainable_copy(encoder) -> keras.layers.Layer:
    """A trainable copy of ``encoder`` (a Method's feature network, a ``keras.Model``, or
    the directory of a SavedModel export, loaded as a trainable ``TFSMLayer``).

    Raises:
      ValueError: for objects whose weights cannot be trained (a bare callable, an
        already loaded SavedModel object).
    """
    if isinstance(encoder, (str, os.PathLike)):
        # Exports carry "call_training" (batch norm on the batch's statistics); fine-tuning
        # through serving_default's moving statistics scales the gradients by
        # gamma / sqrt(moving_variance) and ends below the frozen encoder's accuracy.
        try:
            return keras.layers.TFSMLayer(
                os.fspath(encoder),
                call_endpoint="serving_default",
                call_training_endpoint="call_training",
                trainable=True,
            )
        except ValueError:  # an export written before it had call_training
            return keras.layers.TFSMLayer(
                os.fspath(encoder), call_endpoint="serving_default", trainable=True
            )
    model = keras_encoder(encoder)
    if model is not None:
        copy = keras.models.clone_model(model)
        copy.set_weights(model.get_weights())
        copy.trainable = True
        return copy
    raise ValueError(
        f"Cannot fine-tune {type(encoder).__name__}: expected a Method, a keras.Model or a "
        "SavedModel export directory (loaded as a trainable TFSMLayer)."
    )


def _adam_fit(model: keras.Model, ds: tf.data.Dataset, steps: int, learning_rate: float):
    """Adam (Kingma & Ba 2015, default betas) in a plain TF loop.

    Used for SavedModel exports: Keras optimizers name their slot variables after the
    model's variables, and SavedModel variable names ("conv0/kernel:0") are no valid
    scope names, so ``keras.optimizers.Adam`` refuses them.
    """
    variables = model.trainable_variables
    m = [tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False) for v in variables]
    s2 = [tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False) for v in variables]
    b1, b2, eps = 0.9, 0.999, 1e-7

    @tf.function
    def step(x, y, t):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = tf.reduce_mean(
                keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
            )
        grads = tape.gradient(loss, variables)
        lr = learning_rate * tf.sqrt(1 - b2**t) / (1 - b1**t)
        for v, g, mv, sv in zip(variables, grads, m, s2, strict=True):
            if g is None:
                continue
            mv.assign(b1 * mv + (1 - b1) * g)
            sv.assign(b2 * sv + (1 - b2) * tf.square(g))
            v.assign_sub(lr * mv / (tf.sqrt(sv) + eps))
        return loss

    for t, (x, y) in enumerate(ds.take(steps), start=1):
        step(x, y, tf.constant(t, tf.float32))


def recompute_batch_norm(model: keras.Model, images, max_images: int = 1024) -> int:
    """Sets every BatchNormalization's moving statistics to those of ``images``.

    "Precise BN" (Wu & Johnson 2021, "Rethinking 'Batch' in BatchNorm"): after a short
    fine-tuning the exponential moving averages (momentum 0.99) still remember their
    initial values, so inference-mode accuracy lags the trained weights. One forward
    pass in training mode with momentum 0 replaces them by the statistics of up to
    ``max_images`` images. Inside a SavedModel (a ``TFSMLayer`` with a training endpoint)
    the momentum cannot be changed; see :func:`_recompute_saved_batch_norm`.

    Returns:
      the number of BatchNormalization layers updated (SavedModel ones included).
    """
    x = tf.convert_to_tensor(np.asarray(images[:max_images], np.float32))
    saved_count = _recompute_saved_batch_norm(model, x)
    layers = bn_layers(model)
    if not layers:
        return saved_count
    saved = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 0.0
    try:
        model(x, training=True)
    finally:
        for layer, m in zip(layers, saved, strict=True):
            layer.momentum = m
    return len(layers) + saved_count


def _recompute_saved_batch_norm(model: keras.layers.Layer, x) -> int:
    """Precise BN for the batch norms inside the SavedModels (TFSMLayers) of ``model``.

    Their update is linear in the old value, ``new = m * old + (1 - m) * stat``, and a
    training pass normalizes with the batch's statistics, not the moving ones. So a
    pass from 0 gives ``(1 - m) * stat`` and a pass from 1 adds ``m``: both exactly,
    whatever the saved momentum. A layer with ``m = 1`` (frozen) keeps its values.
    """
    stats = [
        w
        for layer in model._flatten_layers(include_self=True, recursive=True)
        if isinstance(layer, keras.layers.TFSMLayer) and layer.call_training_endpoint
        for w in layer.non_trainable_weights
        if "moving_mean" in w.name or "moving_variance" in w.name
    ]
    if not stats:
        return 0
    old = [v.numpy() for v in stats]
    passes = []
    for start in (0.0, 1.0):
        for v in stats:
            v.assign(tf.fill(v.shape, tf.constant(start, v.dtype)))
        model(x, training=True)
        passes.append([v.numpy() for v in stats])
    for v, before, a, c in zip(stats, old, *passes, strict=True):
        rest = 1.0 - (c - a)  # 1 - m
        v.assign(np.where(rest > 1e-6, a / np.maximum(rest, 1e-6), before))
    return len(stats) // 2


def label_subset(labels, fraction: float, seed: int = 0) -> np.ndarray:
    """Sorted indices of a class-balanced subset holding ``fraction`` of the labels
    (at least one per class)."""
    labels = np.asarray(labels)
    if not 0 < fraction <= 1:
        raise ValueError(f"label fraction must be in (0, 1]; got {fraction!r}.")
    if fraction == 1:
        return np.arange(len(labels))
    num_classes = len(np.unique(labels))
    per_class = max(1, int(round(fraction * len(labels) / num_classes)))
    return labeled_unlabeled_split(labels, per_class, seed)[0]


def finetune(
    encoder,
    train_images,
    train_labels,
    test_images,
    test_labels,
    fractions=DEFAULTS.finetune_fractions,
    steps: int = DEFAULTS.finetune_steps,
    batch_size: int = DEFAULTS.finetune_batch_size,
    learning_rate: float = DEFAULTS.finetune_learning_rate,
    seed: int = DEFAULTS.seed,
    precise_bn: bool = DEFAULTS.finetune_precise_bn,
) -> dict:
    """Fine-tunes a copy of the encoder + a Dense head for each label fraction.

    Args:
      encoder: see :func:`trainable_copy`.
      train_images, test_images: float32 ``[N, H, W, C]`` in [0, 1].
      train_labels, test_labels: int ``[N]``.
      fractions: label fractions in (0, 1].
      steps: Adam steps per fraction.
      batch_size: batch size (capped at the subset size).
      learning_rate: Adam learning rate.
      seed: seed of the subsets and the initialisation.
      precise_bn: recompute batch-norm statistics on the labeled subset after training
        (see :func:`recompute_batch_norm`).

    Returns:
      ``{"finetune_1%": acc, "finetune_10%": acc, "finetune_100%": acc, ...}`` (test
      top-1 accuracy) plus ``"finetune_labels_<p>%"``: the number of labels used.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1; got {steps!r}.")
    train_images = np.asarray(train_images, np.float32)
    test_images = np.asarray(test_images, np.float32)
    _, train_labels = _check_xy(train_images.reshape(len(train_images), -1), train_labels, "train")
    _, test_labels = _check_xy(test_images.reshape(len(test_images), -1), test_labels, "test")
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    results = {}
    for fraction in fractions:
        idx = label_subset(train_labels, fraction, seed)
        keras.utils.set_random_seed(seed)
        backbone = trainable_copy(encoder)
        inputs = keras.Input(train_images.shape[1:])
        feats = backbone(inputs)
        if isinstance(feats, dict):
            feats = feats["feature_vector"]
        model = keras.Model(inputs, keras.layers.Dense(num_classes)(feats))
        bs = min(batch_size, len(idx))
        ds = tf.data.Dataset.from_tensor_slices((train_images[idx], train_labels[idx]))
        ds = ds.shuffle(len(idx), seed=seed).repeat().batch(bs, drop_remainder=True)
        if isinstance(backbone, keras.layers.TFSMLayer):
            _adam_fit(model, ds, steps, learning_rate)
        else:
            model.compile(
                optimizer=keras.optimizers.Adam(learning_rate),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                jit_compile=False,
            )
            model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
        if precise_bn:
            recompute_batch_norm(model, train_images[idx])
        logits = np.concatenate(
            [
                np.asarray(model(test_images[i : i + 256], training=False))
                for i in range(0, len(test_images), 256)
            ]
        )
        acc = np.mean(logits.argmax(-1) == test_labels)
        key = f"{fraction * 100:g}%"
        results[f"finetune_{key}"] = float(acc)
        results[f"finetune_labels_{key}"] = int(len(idx))
    return results

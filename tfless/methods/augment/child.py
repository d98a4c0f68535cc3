"""Child models of the augmentation searches: a reduced digits split and their trainer.

AutoAugment (Cubuk et al., CVPR 2019, https://arxiv.org/abs/1805.09501) scores a policy by
the validation accuracy of a child model trained from scratch with it on a reduced
training split; the RandAugment sweep (Cubuk et al., NeurIPS 2020,
https://arxiv.org/abs/1909.13719) scores each (N, M) cell the same way. Here the child is a
small ConvNet trained for a few hundred steps on a reduced digits split (the paper:
Wide-ResNet-40-2 for 120 epochs on 4,000 CIFAR-10 images).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from tfless.backbones import build_backbone
from tfless.data import digits_arrays, labeled_unlabeled_split


def reduced_digits(
    labels_per_class: int = 10,
    num_validation: int = 300,
    image_size: int = 16,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """A reduced digits split for child models: labeled train images and a held-out set.

    Both come from the training split (the test split is never used for the search), as
    AutoAugment searched on reduced CIFAR-10 with a held-out part of its training data.

    Returns:
      ``{"x_train", "y_train", "x_val", "y_val"}`` float32 ``[N, S, S, 1]`` / int32.
    """
    x, y = digits_arrays("train")
    if image_size != x.shape[1]:
        x = tf.image.resize(x, [image_size, image_size], antialias=True).numpy()
    x = np.clip(x, 0.0, 1.0).astype(np.float32)
    labeled, rest, _ = labeled_unlabeled_split(y, labels_per_class, seed=seed)
    rng = np.random.RandomState(seed)
    if num_validation > len(rest):
        raise ValueError(f"num_validation must be <= {len(rest)}, got {num_validation!r}")
    val = rng.choice(rest, num_validation, replace=False)
    return {"x_train": x[labeled], "y_train": y[labeled], "x_val": x[val], "y_val": y[val]}


class ChildTrainer:
    """Trains a fresh small ConvNet with an augmentation and returns validation accuracy.

    Every call starts from the same initial weights and a reset optimizer, so rewards
    differ only by the augmentation (and its randomness). The training step is one
    ``tf.function`` whose augmentation parameters are tensors, so thousands of policies
    share one trace.

    Args:
      data: ``reduced_digits()``-style dict.
      augment: ``fn(images, *params) -> images`` run inside the step.
      steps: optimizer steps per child.
      batch_size: child batch size.
      learning_rate: Adam learning rate.
      widths: ConvNet widths.
      seed: initialisation and batch-order seed.
    """

    def __init__(
        self,
        data: dict,
        augment: Callable,
        steps: int = 300,
        batch_size: int = 32,
        learning_rate: float = 3e-3,
        widths=(16, 32, 64),
        seed: int = 0,
    ):
        if steps < 1 or batch_size < 1:
            raise ValueError(f"steps and batch_size must be >= 1, got {steps!r}, {batch_size!r}")
        self.data = data
        self.steps = int(steps)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        num_classes = int(max(data["y_train"].max(), data["y_val"].max()) + 1)
        keras.utils.set_random_seed(seed)
        encoder = build_backbone("convnet", data["x_train"].shape[1:], widths=tuple(widths))
        # A few hundred steps at the default momentum 0.99 leave the initial statistics
        # (variance 1, far above the real one) in the moving averages.
        for layer in encoder.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = 0.9
        inputs = keras.Input(data["x_train"].shape[1:])
        self.model = keras.Model(inputs, keras.layers.Dense(num_classes)(encoder(inputs)))
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build(self.model.trainable_variables)
        self._initial = [v.numpy() for v in self.model.variables]
        # Includes the learning-rate variable, so a reset restores values, not zeros.
        self._initial_optimizer = [v.numpy() for v in self.optimizer.variables]
        self._augment = augment
        self._step = tf.function(self._train_step)
        self._predict = tf.function(lambda x: self.model(x, training=False))

    def _train_step(self, images, labels, *params):
        images = self._augment(images, *params)
        with tf.GradientTape() as tape:
            logits = self.model(images, training=True)
            loss = tf.reduce_mean(
                keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
            )
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.optimizer.apply(grads, self.model.trainable_variables)
        return loss

    def reset(self) -> None:
        """Restores the initial weights and optimizer state."""
        for v, value in zip(self.model.variables, self._initial, strict=True):
            v.assign(value)
        for v, value in zip(self.optimizer.variables, self._initial_optimizer, strict=True):
            v.assign(value)

    def __call__(self, *params, seed: int | None = None) -> float:
        """Trains a child with augmentation parameters ``params``; returns val accuracy."""
        self.reset()
        rng = np.random.RandomState(self.seed if seed is None else seed)
        x, y = self.data["x_train"], self.data["y_train"]
        params = tuple(tf.convert_to_tensor(p) for p in params)
        for _ in range(self.steps):
            idx = rng.randint(0, len(y), self.batch_size)
            self._step(tf.constant(x[idx]), tf.constant(y[idx]), *params)
        logits = self._predict(tf.constant(self.data["x_val"])).numpy()
        return float(np.mean(logits.argmax(1) == self.data["y_val"]))

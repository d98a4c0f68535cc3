"""BiT fine-tuning: a zero-initialized head on a pre-trained trunk, with BiT's MixUp."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.augment import rng
from tfless.methods.base import ClassifierMixin, Method


class BiT(ClassifierMixin, Method):
    """Fine-tuning as in "Big Transfer (BiT): General Visual Representation Learning".

    Kolesnikov et al. 2020, arXiv:1912.11370 (official code google-research/big_transfer).
    The trunk is usually :func:`tfless.backbones.resnet_v2_gn` loaded from pre-training;
    the new head (BiT's 1x1 convolution on the pooled features, a ``Dense`` here) starts at
    zero, so the first steps do not scramble the pre-trained features. The loss is softmax
    cross-entropy, with MixUp of ``mixup_alpha`` (BiT-HyperRule: 0.1 from 20k training
    examples, 0 below; :func:`tfless.train.hyperrule.hyperrule_mixup`). As in BiT, one
    ``lambda ~ Beta(alpha, alpha)`` is drawn per batch and the batch is mixed with a
    permutation of itself. No weight decay (the HyperRule has none). The optimizer and
    schedule are the HyperRule's (:func:`tfless.train.hyperrule.hyperrule_optimizer`).

    Reads ``image`` and ``label``.

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      num_classes: classes of the target task.
      mixup_alpha: Beta concentration of MixUp; 0 turns it off.
      zero_init_head: start the head at zero (BiT); False uses Keras' default init.
    """

    input_keys = ("image", "label")

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        mixup_alpha: float = 0.0,
        zero_init_head: bool = True,
        name: str = "bit",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        if not mixup_alpha >= 0:
            raise ValueError(f"mixup_alpha must be >= 0; got {mixup_alpha!r}.")
        self.num_classes = int(num_classes)
        self.mixup_alpha = float(mixup_alpha)
        init = "zeros" if zero_init_head else "glorot_uniform"
        self.head = keras.layers.Dense(self.num_classes, kernel_initializer=init, name="head")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def call(self, inputs, training=False):
        if isinstance(inputs, dict):
            inputs = inputs["image"]
        return self.logits(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        images, labels = x["image"], x["label"]
        targets = tf.one_hot(labels, self.num_classes)
        if training and self.mixup_alpha > 0:
            lam = rng.beta([], self.mixup_alpha)
            perm = rng.shuffle(tf.range(tf.shape(images)[0]))
            images = lam * images + (1.0 - lam) * tf.gather(images, perm)
            targets = lam * targets + (1.0 - lam) * tf.gather(targets, perm)
        logits = self.logits(images, training=training)
        self.accuracy_tracker.update_state(labels, logits)
        return keras.ops.mean(
            keras.losses.categorical_crossentropy(targets, logits, from_logits=True)
        )

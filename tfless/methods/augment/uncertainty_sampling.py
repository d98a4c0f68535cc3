"""Uncertainty-based sampling of augmentations as a training method."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from tfless.augment import ops as aug_ops
from tfless.augment import sampling
from tfless.augment.policies import RANDAUGMENT_OPS
from tfless.methods.base import ClassifierMixin, Method, l2_weight_penalty


class UncertaintySampling(ClassifierMixin, Method):
    """Trains on the highest-loss of ``K`` random augmentations of every example.

    Wu, Zhang, Valiant, Re, "On the Generalization Effects of Linear Transformations in
    Data Augmentation", ICML 2020, https://arxiv.org/abs/2005.00695 (Section 5,
    "uncertainty-based sampling"). Each step draws ``K`` random compositions of
    ``num_layers`` transformations per labeled image (:func:`tfless.augment.sampling.
    random_compositions`), runs the network once on all ``K * B`` copies, and keeps the
    ``L`` copies per image with the highest cross-entropy; the loss is the mean over the
    kept copies, so only they receive gradient. Defaults are the authors' (K = 4, L = 1,
    compositions of 2 ops from the RandAugment list, magnitudes uniform in [0, 10]).

    The base augmentation of the recipe (pad-crop, flip, Cutout after the random ops)
    belongs in the data pipeline's view (``data.augment``); this method adds the sampled
    compositions on the device, because choosing them needs the current model.

    Batch norm sees all ``K * B`` copies in training mode (one forward pass), which is the
    cheapest faithful reading of "compute the loss of every copy, back-propagate the
    selected ones".

    Reads ``image`` and ``label``. Trackers: ``loss``, ``xent`` (selected copies),
    ``sample_xent`` (all copies), ``accuracy``.

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      num_classes: classes of the linear head.
      num_samples: K, random compositions per image.
      num_selected: L, highest-loss compositions kept per image (L <= K).
      num_layers: transformations per composition.
      transforms: op names to compose (default: the RandAugment list).
      magnitude: a magnitude or ``(low, high)`` range on the 0..10 scale.
      weight_decay: coupled L2 coefficient on kernels (the recipe's 5e-4 for WRN).
    """

    input_keys = ("image", "label")
    xla_unsupported = "keeping the hardest copy of each image uses DynamicStitch, which XLA lacks"

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        num_samples: int = sampling.DEFAULT_NUM_SAMPLES,
        num_selected: int = sampling.DEFAULT_NUM_SELECTED,
        num_layers: int = sampling.DEFAULT_NUM_LAYERS,
        transforms: Sequence[str] = RANDAUGMENT_OPS,
        magnitude=(0.0, aug_ops.MAX_MAGNITUDE),
        weight_decay: float = 0.0,
        name: str = "uncertainty_sampling",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        self.transforms = sampling.check_sampling_args(
            num_samples, num_selected, num_layers, transforms, magnitude
        )
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        self.num_classes = int(num_classes)
        self.num_samples = int(num_samples)
        self.num_selected = int(num_selected)
        self.num_layers = int(num_layers)
        self.magnitude = tuple(magnitude) if isinstance(magnitude, (list, tuple)) else magnitude
        self.weight_decay = float(weight_decay)
        self.head = keras.layers.Dense(self.num_classes, name="head")
        self.xent_tracker = keras.metrics.Mean(name="xent")
        self.sample_xent_tracker = keras.metrics.Mean(name="sample_xent")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def call(self, inputs, training=False):
        if isinstance(inputs, dict):
            inputs = inputs["image"]
        return self.logits(inputs, training=training)

    def augment(self, images) -> tf.Tensor:
        """The ``[K * B, H, W, C]`` sampled copies of ``images`` (sample-major)."""
        return sampling.random_compositions(
            images, self.num_samples, self.transforms, self.num_layers, self.magnitude
        )

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        images, labels = x["image"], x["label"]
        copies = self.augment(images)
        tiled = tf.tile(labels, [self.num_samples])
        logits = self.logits(copies, training=training)
        per_copy = keras.losses.sparse_categorical_crossentropy(tiled, logits, from_logits=True)
        chosen = sampling.select_highest_loss(
            tf.stop_gradient(tf.reshape(per_copy, [self.num_samples, -1])), self.num_selected
        )
        chosen = tf.reshape(chosen, [-1])
        xent = tf.reduce_mean(tf.gather(per_copy, chosen))
        self.xent_tracker.update_state(xent)
        self.sample_xent_tracker.update_state(tf.reduce_mean(per_copy))
        self.accuracy_tracker.update_state(tiled, logits)
        return xent + l2_weight_penalty(self.trainable_variables, self.weight_decay)

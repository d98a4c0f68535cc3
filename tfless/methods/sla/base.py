"""Shared pieces of the SLA family: transformed copies of a batch, class weights, trackers."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from tfless.augment.label_transforms import TransformSet, get_transform_set
from tfless.losses.sla import class_balanced_weights
from tfless.methods.base import ClassifierMixin, Method, encoder_feature_dim, l2_weight_penalty


def encoder_image_shape(encoder: keras.Model, what: str) -> tuple:
    """``(H, W, C)`` of a built encoder's input (entries may be None); ValueError if not 4-d."""
    shape = getattr(encoder, "input_shape", None)
    if shape is None or len(tuple(shape)) != 4:
        raise ValueError(
            f"{what} needs an encoder of images [B, H, W, C]; got input shape {shape!r}. "
            "Start it with keras.Input(shape=(H, W, C))."
        )
    return tuple(shape[1:])


class TransformClassifier(ClassifierMixin, Method):
    """Base of the methods trained on the ``M`` transformed copies of every image.

    Every labeled image of the batch is expanded into its ``M`` copies (interleaved: row
    ``b * M + j`` is image ``b`` under transformation ``j``), so a step forwards ``B * M``
    images. Subclasses define the heads, :meth:`transform_loss` and :meth:`logits`.

    Reads ``image`` and ``label``. Trackers: ``loss``, ``xent`` (the objective without
    weight decay), ``accuracy`` (of the inference prediction on the training copies).

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      num_classes: ``N``.
      transforms: a :class:`~tfless.augment.label_transforms.TransformSet` or its name
        (``"rotation"``, ``"rot_color_perm12"``, ``"rotation x color_perm3"``...).
      weight_decay: coupled L2 ``wd * sum ||W||^2 / 2`` on kernels (the authors' SGD
        weight decay 1e-4 is set in the configs; 0 here so a plain run is plain).
      class_balanced: weight each image's loss by the inverse frequency of its class
        (:func:`tfless.losses.sla.class_balanced_weights`), for long-tailed training sets.
      label_distribution: ``[N]`` class frequencies of the training set; the trainer fills
        it in from the labeled split. Required when ``class_balanced``.
    """

    input_keys = ("image", "label")

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        transforms: TransformSet | str = "rotation",
        weight_decay: float = 0.0,
        class_balanced: bool = False,
        label_distribution=None,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        what = type(self).__name__
        self.transforms = get_transform_set(transforms)
        self.transforms.check_image_shape(encoder_image_shape(encoder, what))
        if isinstance(num_classes, bool) or int(num_classes) < 2:
            raise ValueError(f"{what}: num_classes must be an int >= 2; got {num_classes!r}.")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0; got {weight_decay!r}.")
        self.num_classes = int(num_classes)
        self.m = self.transforms.size
        self.weight_decay = float(weight_decay)
        self.feature_dim = encoder_feature_dim(encoder, what)
        self.class_weights = None
        if class_balanced:
            if label_distribution is None:
                raise ValueError(
                    f"{what}(class_balanced=True) needs label_distribution, the [N] class "
                    "frequencies of the training set (the trainer fills it in)."
                )
            weights = class_balanced_weights(label_distribution)
            if weights.size != self.num_classes:
                raise ValueError(
                    f"label_distribution has {weights.size} entries; expected num_classes = "
                    f"{self.num_classes}."
                )
            self.class_weights = tuple(float(w) for w in weights)
        self.xent_tracker = keras.metrics.Mean(name="xent")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    #: Accepted values of :attr:`inference` (empty: the method has one way to predict).
    inference_modes: tuple[str, ...] = ()

    @property
    def inference(self) -> str:
        """How :meth:`logits` predicts; setting it forgets compiled test/predict functions."""
        return self._inference

    @inference.setter
    def inference(self, value: str) -> None:
        what = f"{type(self).__name__} inference"
        self._inference = check_choice(value, self.inference_modes, what)
        # Keras caches the traced test step, which read the previous mode.
        self.test_function = None
        self.predict_function = None

    def dense(self, units: int, name: str) -> keras.layers.Dense:
        """A linear head on the encoder's features, built now (the optimizer must see it)."""
        layer = keras.layers.Dense(units, name=name)
        layer.build((None, self.feature_dim))
        return layer

    def image_weights(self, labels):
        """``[B]`` per-image loss weights (class-balanced), or None without re-weighting."""
        if self.class_weights is None:
            return None
        table = ops.convert_to_tensor(np.asarray(self.class_weights, np.float32))
        return ops.take(table, ops.cast(labels, "int32"), axis=0)

    def expanded_features(self, images, training: bool = False):
        """Features of the ``B * M`` interleaved copies: ``[B * M, D]``."""
        return self.encoder(self.transforms.expand(images), training=training)

    def transform_loss(self, images, labels, weights, training: bool):
        """``(objective, inference logits [B, N] of the batch)``; subclasses define it."""
        raise NotImplementedError

    def call(self, inputs, training=False):
        if isinstance(inputs, dict):
            inputs = inputs["image"]
        return self.logits(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        labels = x["label"]
        weights = self.image_weights(labels)
        objective, logits = self.transform_loss(x["image"], labels, weights, training)
        self.xent_tracker.update_state(objective)
        self.accuracy_tracker.update_state(labels, logits)
        return objective + l2_weight_penalty(self.trainable_variables, self.weight_decay)


def check_choice(value: str, accepted: tuple, what: str) -> str:
    """``value`` if it is one of ``accepted``; else ValueError naming both."""
    if value not in accepted:
        raise ValueError(f"Unknown {what} {value!r}. Expected one of {list(accepted)}.")
    return value

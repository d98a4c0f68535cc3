"""What every semi-supervised method shares: the batch contract, the head, checks.

A semi-supervised batch is ``{"labeled": {"image", "label"}, "unlabeled": {...}}``
with images float32 ``[B, H, W, C]`` in [0, 1]; the unlabeled part is ``mu``
times the labeled one and carries the views the method asks for plus
``true_label``, which is only ever read by monitoring metrics.
"""

from __future__ import annotations

import keras
from keras import ops

from tfless.methods.base import ClassifierMixin, Method, l2_weight_penalty


def validate_threshold(threshold, name: str = "threshold", allow_zero: bool = False) -> float:
    """Returns ``threshold`` as a float; raises ``ValueError`` unless it is in (0, 1).

    ``allow_zero`` admits 0 (Lee 2013's plain arg-max pseudo-labels).
    """
    ok = 0.0 <= threshold < 1.0 if allow_zero else 0.0 < threshold < 1.0
    if not ok:
        interval = "[0, 1)" if allow_zero else "(0, 1)"
        raise ValueError(f"{name} must be in {interval}; got {threshold!r}.")
    return float(threshold)


def view_list(views) -> list:
    """The K view tensors ``[B, H, W, C]`` of a list/tuple or of a stacked ``[K, B, H, W, C]``.

    ``tf.data`` stacks a Python list inside a dict element into one tensor, so a
    ``views`` entry may arrive either way.
    """
    if isinstance(views, (list, tuple)):
        return list(views)
    if len(views.shape) == 5:
        return list(ops.unstack(views, axis=0)) if views.shape[0] is not None else [views]
    return [views]


def check_semi_batch(batch, unlabeled_keys) -> None:
    """Checks a semi-supervised batch's structure and static image shapes.

    Args:
      batch: ``{"labeled": {"image", "label"}, "unlabeled": {...}}`` of tensors or specs.
      unlabeled_keys: keys the method reads from ``batch["unlabeled"]``; ``"views"``
        is a list of image tensors.

    Raises:
      ValueError: naming the missing key or the image whose ``(H, W, C)`` differs from
        the labeled images'.
    """
    if not isinstance(batch, dict) or "labeled" not in batch or "unlabeled" not in batch:
        got = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
        raise ValueError(
            f"Expected a semi-supervised batch {{'labeled': ..., 'unlabeled': ...}}; got {got}."
        )
    lab, unl = batch["labeled"], batch["unlabeled"]
    for key in ("image", "label"):
        if key not in lab:
            raise ValueError(f"batch['labeled'] lacks {key!r}; it has {sorted(lab)}.")
    shape = tuple(lab["image"].shape[1:])
    for key in unlabeled_keys:
        if key not in unl:
            raise ValueError(
                f"batch['unlabeled'] lacks {key!r} (needed by this method); it has {sorted(unl)}."
            )
        if not key.startswith(("image", "views")):
            continue
        many = isinstance(unl[key], (list, tuple)) or len(unl[key].shape) == 5
        images = view_list(unl[key])
        for i, im in enumerate(images):
            got = tuple(im.shape[1:])
            if None not in got and None not in shape and got != shape:
                where = f"{key}[{i}]" if many else key
                raise ValueError(
                    f"Unlabeled images batch['unlabeled'][{where!r}] have shape {got}; expected "
                    f"the labeled images' shape {shape}."
                )


class SemiMethod(ClassifierMixin, Method):
    """Base of the semi-supervised methods: encoder + linear head, shared trackers.

    Subclasses set :attr:`unlabeled_keys` and implement :meth:`semi_loss`, which
    returns the replica-local mean loss (without weight decay) of one batch.

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      num_classes: classes of the linear head.
      weight_decay: coupled L2 ``wd * sum ||W||^2 / 2`` on kernels (5e-4 in the WRN recipes).
    """

    #: Keys the method reads from ``batch["unlabeled"]`` (``views``: a list of images).
    unlabeled_keys: tuple[str, ...] = ("image_weak",)

    def __init__(self, encoder, num_classes: int, weight_decay: float = 0.0, name=None, **kwargs):
        super().__init__(encoder, name=name, **kwargs)
        if int(num_classes) < 2:
            raise ValueError(f"num_classes must be >= 2; got {num_classes!r}.")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0; got {weight_decay!r}.")
        self.num_classes = int(num_classes)
        self.weight_decay = float(weight_decay)
        self.head = keras.layers.Dense(self.num_classes, name="head")
        # Built now so that an optimizer built before the first step (fit under a
        # strategy, the trainer) knows every variable.
        self.feature_dim = int(encoder.outputs[0].shape[-1])
        self.head.build((None, self.feature_dim))
        self.labeled_loss_tracker = keras.metrics.Mean(name="labeled_loss")
        self.unlabeled_loss_tracker = keras.metrics.Mean(name="unlabeled_loss")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    @property
    def input_keys(self) -> tuple[str, ...]:
        """``labeled/image``, ``labeled/label``, and ``unlabeled/<key>`` per unlabeled key."""
        return ("labeled/image", "labeled/label", *(f"unlabeled/{k}" for k in self.unlabeled_keys))

    def call(self, inputs, training=False):
        if isinstance(inputs, dict):
            inputs = inputs["labeled"]["image"] if "labeled" in inputs else inputs["image"]
        return self.logits(inputs, training=training)

    def step(self):
        """The optimizer step as float32 (0 before compile), for ramp-ups."""
        if getattr(self, "optimizer", None) is None:
            return ops.zeros((), "float32")
        return ops.cast(self.optimizer.iterations, "float32")

    def semi_loss(self, labeled, unlabeled, training=True):
        raise NotImplementedError

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        check_semi_batch(x, self.unlabeled_keys)
        loss = self.semi_loss(x["labeled"], x["unlabeled"], training=training)
        return loss + l2_weight_penalty(self.trainable_variables, self.weight_decay)

    def track_labeled(self, labels, logits):
        xent = ops.mean(
            keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        )
        self.labeled_loss_tracker.update_state(xent)
        self.accuracy_tracker.update_state(labels, logits)
        return xent

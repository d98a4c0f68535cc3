"""Supervised cross-entropy baseline."""

from __future__ import annotations

import keras

from tfless.methods.base import ClassifierMixin, Method, l2_weight_penalty


class Supervised(ClassifierMixin, Method):
    """Softmax cross-entropy on labeled images: the baseline every other method is measured by.

    Reads ``image`` and ``label``. Defaults follow the WRN/FixMatch supervised
    baselines (Zagoruyko & Komodakis 2016; Sohn et al. 2020): no label
    smoothing, coupled L2 weight decay given as ``weight_decay`` (5e-4 in
    those recipes; 0 here so a plain run is plain). Label smoothing as in
    Szegedy et al. 2016 (0.1 in their ImageNet recipe).

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      num_classes: number of classes of the linear head.
      label_smoothing: epsilon of label smoothing, in [0, 1).
      weight_decay: coefficient of the L2 penalty ``wd * sum ||W||^2 / 2`` on kernels.
    """

    input_keys = ("image", "label")
    #: Name of the metric that reports the mean of :meth:`example_losses` (without the L2 term).
    loss_metric_name = "xent"

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        label_smoothing: float = 0.0,
        weight_decay: float = 0.0,
        name: str = "supervised",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing!r}.")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0; got {weight_decay!r}.")
        self.num_classes = int(num_classes)
        self.label_smoothing = float(label_smoothing)
        self.weight_decay = float(weight_decay)
        self.head = keras.layers.Dense(self.num_classes, name="head")
        self.xent_tracker = keras.metrics.Mean(name=self.loss_metric_name)
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def call(self, inputs, training=False):
        if isinstance(inputs, dict):
            inputs = inputs["image"]
        return self.logits(inputs, training=training)

    def example_losses(self, onehot, logits):
        """Per-example loss ``[B]`` of one-hot targets and logits: (smoothed) cross-entropy.

        Subclasses with another loss on the same labels override this alone
        (:class:`tfless.methods.NoisyLabel`).
        """
        return keras.losses.categorical_crossentropy(
            onehot, logits, from_logits=True, label_smoothing=self.label_smoothing
        )

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        labels = x["label"]
        logits = self.logits(x["image"], training=training)
        onehot = keras.ops.one_hot(labels, self.num_classes)
        xent = keras.ops.mean(self.example_losses(onehot, logits))
        self.xent_tracker.update_state(xent)
        self.accuracy_tracker.update_state(labels, logits)
        return xent + l2_weight_penalty(self.trainable_variables, self.weight_decay)

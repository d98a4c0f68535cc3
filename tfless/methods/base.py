"""The method contract shared by every tfless method.

A method is a ``keras.Model`` subclass that holds built sub-models and scalar
hyperparameters, reads dict batches (see DESIGN.md), and exposes ``encoder``:
the network that gets exported. Most methods override :meth:`compute_loss`
only: it receives the whole batch dict as ``x``, runs whatever forward passes
the method needs, updates the method's metric trackers and returns the
replica-local mean loss. :meth:`Method.train_step` turns that into one
optimizer step that is correct under ``tf.distribute`` (the loss is scaled so
that gradients summed over replicas equal the gradient of the global-batch
mean), and then calls :meth:`after_train_step` for updates that follow the
step (EMA teachers, MoCo's key encoder and queue).

Methods with several optimizers or meta-learning override ``train_step``
itself, and keep the same return value: ``{tracker_name: value}``.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras.src.losses import loss as _keras_loss


def scale_for_replicas(loss):
    """Divides a replica-local mean loss by the number of replicas in sync.

    Summing the gradients of the scaled per-replica losses (what
    ``tf.distribute`` does) then gives the gradient of the global-batch mean.
    """
    return _keras_loss.scale_loss_for_distribution(loss)


def l2_weight_penalty(variables, weight_decay: float):
    """``weight_decay * sum(||W||^2) / 2`` over convolution and dense kernels.

    The coupled L2 weight decay of the WRN/FixMatch/MixMatch recipes (TF's
    ``tf.nn.l2_loss`` summed over kernels). Biases, BN scales and offsets are
    not decayed.
    """
    kernels = [v for v in variables if "kernel" in v.path or v.path.endswith("/w")]
    if not kernels or not weight_decay:
        return tf.constant(0.0)
    return weight_decay * tf.add_n([tf.reduce_sum(tf.square(v)) for v in kernels]) / 2.0


class Method(keras.Model):
    """Base class of tfless methods.

    Args:
      encoder: the built feature network (``[B, H, W, C] -> [B, D]``); exported by
        :mod:`tfless.export`.
      name: Keras model name.

    Subclasses create their trackers with ``keras.metrics.Mean(name=...)`` and
    list them in :attr:`metrics` via attribute assignment; ``loss`` always exists.
    """

    #: batch keys the method reads; checked by the trainer before training starts.
    input_keys: tuple[str, ...] = ("image",)

    def __init__(self, encoder: keras.Model, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.encoder = encoder
        self.loss_tracker = keras.metrics.Mean(name="loss")

    # ------------------------------------------------------------------ training
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Returns the replica-local mean loss of the batch dict ``x``.

        Subclasses must override this (or ``train_step``).
        """
        raise NotImplementedError(
            f"{type(self).__name__} must override compute_loss or train_step."
        )

    def after_train_step(self, data) -> None:
        """Hook run after the optimizer update (EMA teachers, queues). Default: nothing."""
        return None

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = self.compute_loss(x=data, training=True)
            scaled = scale_for_replicas(loss)
            if self.optimizer is not None:
                scaled = self.optimizer.scale_loss(scaled)
        variables = self.trainable_variables
        grads = tape.gradient(scaled, variables)
        self.optimizer.apply(grads, variables)
        self.loss_tracker.update_state(loss)
        self.after_train_step(data)
        return self.metrics_result()

    def metrics_result(self) -> dict:
        return {m.name: m.result() for m in self.metrics}

    # ---------------------------------------------------------------- evaluation
    def feature_encoder(self) -> keras.Model:
        """The network whose features are evaluated and exported: ``[B, H, W, C] -> [B, D]``.

        :attr:`encoder` itself for most methods. A method whose paper evaluates
        something else on whole images (CPC: the encoder over the patch grid,
        mean-pooled) returns that model, sharing the encoder's weights.
        """
        return self.encoder

    def features(self, images, training: bool = False):
        """Features ``[B, D]`` of images ``[B, H, W, C]`` in [0, 1] (:meth:`feature_encoder`)."""
        return self.feature_encoder()(images, training=training)

    def call(self, inputs, training=False):
        if isinstance(inputs, dict):
            inputs = inputs["image"]
        return self.features(inputs, training=training)

    def build_from_batch(self, batch) -> None:
        """Creates every variable by running one loss computation on ``batch``.

        Used by the trainer (inside the strategy scope) before restoring a
        checkpoint or running a custom distributed loop.
        """
        self.compute_loss(x=batch, training=False)
        for m in self.metrics:
            m.reset_state()


class ClassifierMixin:
    """Evaluation for methods that carry a classification head (``self.head``).

    ``test_step`` reports top-1 ``accuracy`` and cross-entropy ``loss`` on
    ``data['image']`` / ``data['label']``.
    """

    def logits(self, images, training: bool = False):
        return self.head(self.encoder(images, training=training), training=training)

    def test_step(self, data):
        logits = self.logits(data["image"], training=False)
        labels = data["label"]
        loss = keras.ops.mean(
            keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        )
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(labels, logits)
        return {"loss": self.loss_tracker.result(), "accuracy": self.accuracy_tracker.result()}

"""The Neural Rendering Model: a CNN whose top-down rendering path shares its kernels."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.losses import adversarial
from tfless.methods.base import ClassifierMixin, Method

#: Slope of the leaky rectifier of the all-convolutional networks (and of the ReLU states).
LEAK = 0.1


def _records(encoder: keras.Model) -> list:
    """The encoder's layers as a checked chain of Conv2D / LeakyReLU / MaxPool / GAP."""
    kinds = (
        keras.layers.Conv2D,
        keras.layers.LeakyReLU,
        keras.layers.MaxPooling2D,
        keras.layers.GlobalAveragePooling2D,
        keras.layers.InputLayer,
    )
    layers = [la for la in encoder.layers if not isinstance(la, keras.layers.InputLayer)]
    bad = [la.name for la in layers if not isinstance(la, kinds)]
    if bad or not layers or not isinstance(layers[-1], keras.layers.GlobalAveragePooling2D):
        raise ValueError(
            f"NRM renders back through a chain of Conv2D, LeakyReLU, MaxPooling2D layers "
            f"ending in global average pooling (the 'allconv' backbone); {encoder.name!r} "
            f"has {bad or [la.name for la in layers[-1:]]}."
        )
    for conv, act in zip(layers, layers[1:]):
        if isinstance(conv, keras.layers.Conv2D) and not isinstance(act, keras.layers.LeakyReLU):
            raise ValueError(f"NRM needs a LeakyReLU after each Conv2D; {conv.name!r} has none.")
    return layers


class NRM(ClassifierMixin, Method):
    """Neural Rendering Model: joint generation and prediction, semi-supervised.

    Ho, Nguyen, Patel, Anandkumar, Jordan, Baraniuk, "Neural Rendering Model: Joint
    Generation and Prediction for Semi-Supervised Learning", arXiv 1811.02657 (presented as
    the latent-dependent deep rendering model). The bottom-up network is the CNN
    (``allconv`` backbone + linear head); the top-down path renders an image from a one-hot
    class (the label of a labeled image, the predicted class of an unlabeled one) through
    the same weights: the head's transpose, the un-pooling of the global average, then per
    layer the ReLU state of the forward pass (1 where the pre-activation was > 0, else the
    leak 0.1), a transposed convolution with the layer's own kernel, and at each max-pool
    the switches (1 where the input equalled its window's maximum). Losses:

    * the max-min cross-entropy on labeled images (:func:`tfless.losses.adversarial.
      max_min_cross_entropy`): the min branch shares every weight and replaces each leaky
      rectifier ``max(x, 0.1 x)`` by ``min(x, 0.1 x)`` and each max-pool by a min-pool;
    * ``reconstruction_weight`` times the squared error of the rendering (labeled and
      unlabeled images);
    * ``rpn_weight`` times the rendering path normalization: the rendering gated by the
      ReLU states of a zero image (the bias-only path), started from the all-ones class
      vector, compared with the image's rendering through the layer biases.

    tfless's choices where the paper's text that could be read is silent: no batch norm
    (the authors' bias variant), reconstruction as a pixel MSE with weight 1, RPN weight
    0.01, min-branch weight 0.5, and predictions from the max branch (the CNN itself).

    Reads ``{"labeled": {"image", "label"}, "unlabeled": {"image"}}``. Trackers: ``loss``,
    ``xent``, ``reconstruction``, ``rpn``, ``accuracy``.

    Args:
      encoder: an ``allconv`` backbone (a chain of Conv2D, LeakyReLU, MaxPool, GAP).
      num_classes: classes of the linear head.
      reconstruction_weight, rpn_weight, min_weight: loss weights.
    """

    input_keys = ("labeled/image", "labeled/label", "unlabeled/image")

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        reconstruction_weight=1.0,
        rpn_weight=0.01,
        min_weight=0.5,
        name: str = "nrm",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        self.chain = _records(encoder)
        for key, value in dict(
            reconstruction_weight=reconstruction_weight, rpn_weight=rpn_weight
        ).items():
            if value < 0:
                raise ValueError(f"{key} must be >= 0; got {value!r}.")
        if not 0.0 <= min_weight <= 1.0:
            raise ValueError(f"min_weight must be in [0, 1]; got {min_weight!r}.")
        self.num_classes = int(num_classes)
        self.reconstruction_weight = float(reconstruction_weight)
        self.rpn_weight, self.min_weight = float(rpn_weight), float(min_weight)
        self.head = keras.layers.Dense(self.num_classes, name="head")
        self.head.build((None, int(encoder.output.shape[-1])))
        names = ("xent", "reconstruction", "rpn")
        self.trackers = {n: keras.metrics.Mean(name=n) for n in names}
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    @property
    def metrics(self):
        return [self.loss_tracker, *self.trackers.values(), self.accuracy_tracker]

    def call(self, inputs, training=False):
        if isinstance(inputs, dict):
            inputs = inputs["image"] if "image" in inputs else inputs["labeled"]["image"]
        return self.logits(inputs, training=training)

    # ------------------------------------------------------------------ bottom-up
    def bottom_up(self, images, branch: str = "max"):
        """Forward pass; returns ``(logits, states)`` with the latent states per layer.

        ``states`` lists, in forward order, ``("conv", layer)``, ``("relu", mask, layer)``
        (mask 1 / 0.1), ``("pool", switches)``, ``("gap", (h, w))``. ``branch="min"`` runs
        the min network of the max-min cross-entropy (its states are not used).
        """
        x, states, conv = images, [], None
        for layer in self.chain:
            if isinstance(layer, keras.layers.Conv2D):
                x, conv = layer(x), layer
                states.append(("conv", layer))
            elif isinstance(layer, keras.layers.LeakyReLU):
                # The rendering path computes in float32 whatever the policy.
                states.append(("relu", tf.where(x > 0, 1.0, LEAK), conv))
                x = tf.maximum(x, LEAK * x) if branch == "max" else tf.minimum(x, LEAK * x)
            elif isinstance(layer, keras.layers.MaxPooling2D):
                pooled = layer(x) if branch == "max" else -layer(-x)
                up = tf.repeat(tf.repeat(pooled, 2, axis=1), 2, axis=2)
                states.append(("pool", tf.cast(tf.equal(x, up), tf.float32)))
                x = pooled
            else:
                states.append(("gap", (x.shape[1], x.shape[2])))
                x = tf.reduce_mean(x, axis=[1, 2])
        return self.head(x), states

    # ------------------------------------------------------------------- top-down
    def top_down(self, classes, states, relu_masks=None):
        """Renders ``[B, H, W, C]`` images from ``[B or 1, K]`` class vectors.

        Args:
          classes: one-hot (or all-ones) class vectors.
          states: the forward states of :meth:`bottom_up`.
          relu_masks: ReLU masks to gate with instead of the states' own (the bias-only
            path of the rendering path normalization), in forward order.

        Returns:
          ``(rendering, [(bias, mu)] per rectifier)`` where ``mu`` is the gated signal.
        """
        mu = tf.matmul(classes, self.head.kernel, transpose_b=True)  # head^T: [B, D]
        masks = list(relu_masks) if relu_masks is not None else None
        gated = []
        for state in reversed(states):
            kind = state[0]
            if kind == "gap":
                h, w = state[1]
                mu = tf.tile(mu[:, None, None, :], [1, h, w, 1]) / float(h * w)
            elif kind == "relu":
                mask = masks.pop() if masks is not None else state[1]
                mu = mu * mask
                gated.append((state[2].bias, mu))
            elif kind == "pool":
                mu = tf.repeat(tf.repeat(mu, 2, axis=1), 2, axis=2) * state[1]
            else:
                layer = state[1]
                shape = tf.concat([tf.shape(mu)[:3], [layer.kernel.shape[2]]], 0)
                mu = tf.nn.conv2d_transpose(mu, layer.kernel, shape, 1, padding="SAME")
        return mu, gated[::-1]

    def render(self, images, labels=None):
        """``(logits, rendering, rpn)`` of images: rendered from ``labels`` or predictions."""
        logits, states = self.bottom_up(images)
        if labels is None:
            labels = tf.argmax(tf.stop_gradient(logits), axis=-1)
        onehot = tf.one_hot(labels, self.num_classes)
        rendering, gated = self.top_down(onehot, states)
        _, zero_states = self.bottom_up(tf.zeros_like(images[:1]))
        path_masks = [s[1] for s in zero_states if s[0] == "relu"]
        path_masks = [tf.broadcast_to(m, tf.shape(g[1])) for m, g in zip(path_masks, gated)]
        ones = tf.ones((1, self.num_classes))
        _, path = self.top_down(ones, states, relu_masks=path_masks)
        rpn = adversarial.rendering_path_normalization(
            [b for b, _ in gated], [m for _, m in gated], [m for _, m in path]
        )
        return logits, rendering, rpn

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        lab, unl = x["labeled"], x["unlabeled"]
        logits, rendered_l, rpn_l = self.render(lab["image"], lab["label"])
        min_logits, _ = self.bottom_up(lab["image"], branch="min")
        xent = adversarial.max_min_cross_entropy(lab["label"], logits, min_logits, self.min_weight)
        _, rendered_u, rpn_u = self.render(unl["image"])
        recon = 0.5 * (
            adversarial.reconstruction_loss(lab["image"], rendered_l)
            + adversarial.reconstruction_loss(unl["image"], rendered_u)
        )
        rpn = 0.5 * (rpn_l + rpn_u)
        loss = xent + self.reconstruction_weight * recon + self.rpn_weight * rpn
        for key, value in dict(xent=xent, reconstruction=recon, rpn=rpn).items():
            self.trackers[key].update_state(value)
        self.accuracy_tracker.update_state(lab["label"], logits)
        return loss

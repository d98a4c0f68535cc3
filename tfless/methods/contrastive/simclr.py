"""SimCLR: a simple framework for contrastive learning of visual representations."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.layers.heads import simclr_head
from tfless.losses.contrastive import check_temperature, nt_xent
from tfless.methods.base import Method, encoder_feature_dim
from tfless.methods.contrastive.common import (
    batch_images,
    check_global_batch,
    gather,
    replica_info,
    two_views,
)


class SimCLR(Method):
    """SimCLR (Chen, Kornblith, Norouzi & Hinton, ICML 2020, arXiv:2002.05709).

    Two augmented views of each image go through the encoder ``f`` and a 2-layer
    MLP projection head ``g`` (hidden = feature size, output 128, Sec. 2.1 and
    B.9); the NT-Xent loss (Eq. 1) pulls the two projections of each image
    together and pushes the other ``2N - 2`` projections of the global batch
    away. Negatives come from ALL replicas: each replica all-gathers the
    projections and scores its local anchors against the global set, so the
    mean over replicas is the single-device loss of the global batch and the
    gradients flowing back through the gather are those of the global loss.

    Paper defaults: temperature 0.1 for ImageNet with large batches (Table 5,
    B.9); 0.5 for CIFAR-10 (Sec. B.9), projection to 128-d, LARS with learning
    rate ``0.3 * batch / 256`` and weight decay 1e-6 (Sec. B.9; see
    :mod:`tfless.train.lars`). Synchronized batch norm ("global BN", Sec. 2.2)
    is a backbone option: build the encoder with ``bn_synchronized=True``; the
    head then synchronizes its batch norm too (``bn_synchronized``).

    Reads ``views`` = ``[v1, v2]`` (``[B, H, W, C]`` each); ``label`` is ignored.

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      projection_dim: output size of the head (128).
      hidden_dim: hidden width of the head; default the feature size D.
      temperature: tau of NT-Xent, > 0.
      bn_synchronized: synchronize the head's batch norm across replicas; default: as the
        encoder does.
    """

    input_keys = ("views",)

    def __init__(
        self,
        encoder: keras.Model,
        projection_dim: int = 128,
        hidden_dim: int | None = None,
        temperature: float = 0.1,
        bn_synchronized: bool | None = None,
        name: str = "simclr",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        self.temperature = check_temperature(temperature)
        feature_dim = encoder_feature_dim(encoder, "SimCLR")
        if bn_synchronized is None:
            bn_synchronized = any(
                getattr(layer, "synchronized", False) for layer in encoder._flatten_layers()
            )
        self.head = simclr_head(
            feature_dim, hidden_dim, int(projection_dim), bn_synchronized=bn_synchronized
        )
        self.contrast_accuracy = keras.metrics.Mean(name="contrast_accuracy")

    def call(self, inputs, training=False):
        return self.features(batch_images(inputs), training=training)

    def project(self, images, training: bool = False):
        """Projections ``[B, projection_dim]`` of images ``[B, H, W, C]``."""
        return self.head(self.encoder(images, training=training), training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        v1, v2 = two_views(x, "SimCLR")
        ctx, replicas, replica_id = replica_info()
        check_global_batch(v1.shape[0], replicas, "SimCLR")
        local = tf.shape(v1)[0]
        # One encoder pass over both views so batch norm sees 2B images, as in the paper.
        z = self.project(tf.concat([v1, v2], axis=0), training=training)
        z1, z2 = z[:local], z[local:]
        z1_all, z2_all = gather(z1, ctx), gather(z2, ctx)
        loss = nt_xent(z1, z2, self.temperature, z1_all, z2_all, offset=replica_id * local)
        self.contrast_accuracy.update_state(_top1(z1, z2_all, replica_id * local))
        return loss


def _top1(z1, z2_all, offset):
    """Fraction of anchors whose most similar other-view projection is their partner."""
    sims = tf.matmul(tf.math.l2_normalize(z1, 1), tf.math.l2_normalize(z2_all, 1), transpose_b=True)
    target = tf.range(tf.shape(z1)[0]) + offset
    hits = tf.equal(tf.argmax(sims, 1, output_type=tf.int32), target)
    return tf.reduce_mean(tf.cast(hits, "float32"))

"""What every episodic few-shot method shares: the batch keys, embedding a meta-batch, the
training loss and the trackers.

A meta-batch (:mod:`tfless.data.episodes`) holds ``support_image`` ``[E, N*K, H, W, C]``
(class-major), ``support_label`` ``[E, N*K]`` in ``[0, N)``, ``query_image``
``[E, N*Q, H, W, C]`` and ``query_label`` ``[E, N*Q]``. A method turns one into query logits
``[E, N*Q, N]`` with :meth:`EpisodicMethod.episode_logits`; training minimises their
cross-entropy and :mod:`tfless.evaluation.fewshot` measures their accuracy on episodes of
novel classes.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.losses import fewshot as fs
from tfless.methods.base import Method

EPISODE_KEYS = ("support_image", "support_label", "query_image", "query_label")


def episode_ways(support_label):
    """N of a meta-batch: one more than its largest episode-local label (a scalar tensor)."""
    return tf.reduce_max(tf.cast(support_label, tf.int32)) + 1


def embed_sets(encoder, sets, training: bool = False) -> list:
    """Embeds several ``[E, M_i, H, W, C]`` image sets in one forward pass of ``encoder``
    (one set of batch-norm statistics, as the reference ProtoNet code embeds support and
    queries together); returns ``[E, M_i, D]`` each."""
    episodes = tf.shape(sets[0])[0]
    counts = [tf.shape(s)[0] * tf.shape(s)[1] for s in sets]
    flat = [tf.reshape(s, tf.concat([[-1], tf.shape(s)[2:]], 0)) for s in sets]
    flat = tf.ensure_shape(tf.concat(flat, 0), [None, *sets[0].shape[2:]])
    z = encoder(flat, training=training)
    parts = tf.split(z, tf.stack(counts), axis=0, num=len(sets))
    return [
        tf.reshape(p, [episodes, -1 if s.shape[1] is None else s.shape[1], z.shape[-1]])
        for p, s in zip(parts, sets)
    ]


class EpisodicMethod(Method):
    """Base of the episodic few-shot methods: reads meta-batches, minimises the query
    cross-entropy of :meth:`episode_logits`, tracks ``loss`` and ``accuracy`` (of the
    queries).

    Attributes:
      fewshot_head: the frozen-feature head (``"protonet"``, ``"baseline"``,
        ``"baseline_pp"``) that :meth:`episode_logits` equals at test time, when it is one;
        the evaluation then embeds every test image once and samples episodes on the
        features. None when test episodes must run through :meth:`episode_logits`.
    """

    input_keys = EPISODE_KEYS
    fewshot_head: str | None = None

    def __init__(self, encoder: keras.Model, name: str | None = None, **kwargs):
        super().__init__(encoder, name=name, **kwargs)
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")

    def episode_logits(self, support_image, support_label, query_image, ways, training=False):
        """Query logits ``[E, N*Q, N]`` of a meta-batch (see the module doc)."""
        raise NotImplementedError(f"{type(self).__name__} must define episode_logits.")

    def call(self, inputs, training=False):
        """Query logits of a meta-batch dict (Keras builds the model by calling it on a
        batch); features of an image batch otherwise."""
        if isinstance(inputs, dict) and "support_image" in inputs:
            labels = tf.cast(inputs["support_label"], tf.int32)
            return self.episode_logits(
                inputs["support_image"],
                labels,
                inputs["query_image"],
                episode_ways(labels),
                training=training,
            )
        return super().call(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        ways = episode_ways(x["support_label"])
        logits = self.episode_logits(
            x["support_image"], x["support_label"], x["query_image"], ways, training=training
        )
        loss = fs.episode_cross_entropy(x["query_label"], logits)
        self.accuracy_tracker.update_state(fs.episode_accuracy(x["query_label"], logits))
        return loss

    def test_step(self, data):
        loss = self.compute_loss(x=data, training=False)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result(), "accuracy": self.accuracy_tracker.result()}

"""Multi-tag (hashtag-style) weakly supervised pre-training."""

from __future__ import annotations

import keras

from tfless.losses import noisy
from tfless.methods.base import ClassifierMixin, Method


class MultiTag(ClassifierMixin, Method):
    """Training on multi-hot tags, as Mahajan et al. pre-train on Instagram hashtags.

    "Exploring the Limits of Weakly Supervised Pretraining" (Mahajan et al. 2018,
    arXiv:1805.00932): the default ``objective="softmax"`` is their loss, softmax
    cross-entropy against the tag distribution (each of an image's ``k`` tags has target
    ``1/k``), which they found better than ``"sigmoid"`` (a binary log-loss per tag, summed
    over the vocabulary). Images without a tag are refused by the softmax objective (drop
    them with :func:`tfless.data.noise.drop_untagged`, as untagged images are absent from
    hashtag data).

    Reads ``image`` and ``tags`` (float multi-hot ``[B, num_tags]``). Tags are numbered as
    :class:`tfless.data.tags.TagVocabulary` numbers them: the ``num_classes`` class tags
    first, then the non-visual ones, so evaluation on ``{"image", "label"}`` batches scores
    the first ``num_classes`` logits.

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      num_tags: width of the tag output (classes plus non-visual tags).
      num_classes: class tags among them (the first ones); default ``num_tags``.
      objective: ``"softmax"`` or ``"sigmoid"``.
    """

    input_keys = ("image", "tags")

    def __init__(
        self,
        encoder: keras.Model,
        num_tags: int,
        num_classes: int | None = None,
        objective: str = "softmax",
        name: str = "multi_tag",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        if objective not in noisy.MULTI_TAG_OBJECTIVES:
            raise ValueError(
                f"Unknown objective {objective!r}. Expected one of "
                f"{sorted(noisy.MULTI_TAG_OBJECTIVES)}."
            )
        self.num_tags = int(num_tags)
        self.num_classes = int(num_classes if num_classes is not None else num_tags)
        if not 1 <= self.num_classes <= self.num_tags:
            raise ValueError(
                f"num_classes must be in [1, num_tags={self.num_tags}]; got {num_classes!r}."
            )
        self.objective = objective
        self.head = keras.layers.Dense(self.num_tags, name="head")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def logits(self, images, training: bool = False):
        """Class logits ``[B, num_classes]``: the class tags' scores."""
        return self.tag_logits(images, training=training)[:, : self.num_classes]

    def tag_logits(self, images, training: bool = False):
        """Logits of every tag ``[B, num_tags]``."""
        return self.head(self.encoder(images, training=training), training=training)

    def call(self, inputs, training=False):
        if isinstance(inputs, dict):
            inputs = inputs["image"]
        return self.tag_logits(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        logits = self.tag_logits(x["image"], training=training)
        loss_fn = noisy.MULTI_TAG_OBJECTIVES[self.objective]
        return keras.ops.mean(loss_fn(x["tags"], logits))

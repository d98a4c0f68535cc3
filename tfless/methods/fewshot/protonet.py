"""Prototypical Networks (Snell, Swersky & Zemel 2017)."""

from __future__ import annotations

import keras

from tfless.losses import fewshot as fs
from tfless.methods.fewshot.episodic import EpisodicMethod, embed_sets


class ProtoNet(EpisodicMethod):
    """Prototypical Networks: queries classified by the softmax over the negative squared
    Euclidean distances to the class means of the support embeddings.

    Snell, Swersky & Zemel 2017, "Prototypical Networks for Few-shot Learning"
    (arXiv:1703.05175; official code jakesnell/prototypical-networks). The prototype of class
    n is the mean of its support embeddings (Eq. 1); ``p(y = n | x)`` is the softmax of
    ``-||f(x) - c_n||^2`` (Eq. 2, the squared Euclidean distance, which the paper finds better
    than the cosine); the loss is its negative log-likelihood on the queries. Support and
    query images go through the encoder in one batch, as in the official code. The paper's
    training recipe (in the configs): Conv-4 (64 filters), Adam 1e-3 halved every 2,000
    episodes; Omniglot 60-way 5-query episodes, miniImageNet 30-way (1-shot) / 20-way
    (5-shot) with 15 queries, training shots equal to test shots.

    Reads ``support_image``, ``support_label``, ``query_image``, ``query_label``; reports
    ``loss`` and ``accuracy`` (of the training queries).

    Args:
      encoder: the embedding network ``[B, H, W, C] -> [B, D]`` (Conv-4 in the paper).
    """

    fewshot_head = "protonet"

    def __init__(self, encoder: keras.Model, name: str = "protonet", **kwargs):
        super().__init__(encoder, name=name, **kwargs)

    def episode_logits(self, support_image, support_label, query_image, ways, training=False):
        """``-||f(x) - c_n||^2``: float ``[E, N*Q, N]`` for a meta-batch."""
        support, query = embed_sets(self.encoder, [support_image, query_image], training)
        prototypes = fs.class_prototypes(support, support_label, ways)
        return fs.prototype_logits(query, prototypes)

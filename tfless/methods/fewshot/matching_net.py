"""Matching Networks with full-context embeddings (Vinyals et al. 2016)."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.losses import fewshot as fs
from tfless.methods.base import encoder_feature_dim
from tfless.methods.fewshot.episodic import EpisodicMethod, embed_sets


class MatchingNet(EpisodicMethod):
    """Matching Networks: each query's label distribution is an attention-weighted sum of the
    support labels, the attention a softmax of cosine similarities between embeddings.

    Vinyals, Blundell, Lillicrap, Kavukcuoglu & Wierstra 2016, "Matching Networks for One Shot
    Learning" (arXiv:1606.04080). ``P(y | x, S) = sum_i a(x, x_i) y_i`` with
    ``a = softmax_i(cos(f(x), g(x_i)))`` (Eq. 1-2); the loss is its negative log-likelihood on
    the queries.

    Full-context embeddings (``fce=True``, Sec. 2.1.2 and Appendix A.1-A.2): the support
    embeddings are read by a bidirectional LSTM, ``g(x_i) = h_fwd_i + h_bwd_i + g'(x_i)``;
    each query embedding ``f'(x)`` is refined by an attention LSTM over the support set for
    ``fce_steps`` steps, ``r_{k-1} = sum_i softmax(h_{k-1} . g(x_i)) g(x_i)``,
    ``h_k, c_k = LSTM([f'(x), r_{k-1}], (h_{k-1}, c_{k-1}))``, ``h_k += f'(x)``, and
    ``f(x) = h_K``. Both
    LSTMs have as many units as the embedding. Where the paper is silent: ``fce_steps`` None
    runs as many steps as the support set has images (as the re-implementation of Chen et al.
    2019, wyharveychen/CloserLookFewShot, does), the first state is ``h_0 = f'(x)``,
    ``c_0 = 0``. The paper used FCE on miniImageNet and reports it did not
    help on Omniglot (``fce=False`` there). The cosine enters the softmax unscaled, as in the
    paper (``attention_scale=1``; Chen et al.'s code uses ``100 * relu(cos)`` instead).

    Reads ``support_image``, ``support_label``, ``query_image``, ``query_label``; reports
    ``loss`` and ``accuracy``.

    Args:
      encoder: the embedding network ``g' = f'`` (Conv-4 in the paper).
      fce: full-context embeddings.
      fce_steps: attention-LSTM steps (None: the support-set size).
      attention_scale: multiplies the cosine before the attention softmax.
    """

    def __init__(
        self,
        encoder: keras.Model,
        fce: bool = True,
        fce_steps: int | None = None,
        attention_scale: float = 1.0,
        name: str = "matching_net",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        if fce_steps is not None and int(fce_steps) < 1:
            raise ValueError(f"fce_steps must be None or >= 1; got {fce_steps!r}.")
        if not attention_scale > 0:
            raise ValueError(f"attention_scale must be > 0; got {attention_scale!r}.")
        self.fce = bool(fce)
        self.fce_steps = None if fce_steps is None else int(fce_steps)
        self.attention_scale = float(attention_scale)
        if self.fce:
            dim = encoder_feature_dim(encoder, "MatchingNet")
            self.support_lstm = keras.layers.Bidirectional(
                keras.layers.LSTM(dim, return_sequences=True),
                merge_mode="sum",
                name="support_lstm",
            )
            self.query_cell = keras.layers.LSTMCell(dim, name="query_lstm")

    def _query_context(self, query, support):
        """The attention LSTM: ``f(x)`` ``[E, Q, D]`` from ``f'(x)`` and ``g(S)`` ``[E, S, D]``."""
        episodes, per_episode, dim = tf.shape(query)[0], tf.shape(query)[1], query.shape[-1]
        steps = self.fce_steps or support.shape[1]
        if steps is None:
            raise ValueError("MatchingNet needs a static support size or fce_steps.")
        f = tf.reshape(query, [-1, dim])
        # Each query attends to its own episode's support set.
        support_of = tf.repeat(support, per_episode, axis=0)  # [E*Q, S, D]
        h, c = f, tf.zeros_like(f)
        for _ in range(int(steps)):
            attention = tf.nn.softmax(tf.einsum("bd,bsd->bs", h, support_of), axis=-1)
            r = tf.einsum("bs,bsd->bd", attention, support_of)
            h, (h, c) = self.query_cell(tf.concat([f, r], -1), [h, c])
            h = h + f
        return tf.reshape(h, [episodes, per_episode, dim])

    def episode_logits(self, support_image, support_label, query_image, ways, training=False):
        """Log of ``sum_i a(x, x_i) y_i``: float ``[E, N*Q, N]`` for a meta-batch."""
        support, query = embed_sets(self.encoder, [support_image, query_image], training)
        if self.fce:
            support = support + self.support_lstm(support, training=training)
            query = self._query_context(query, support)
        return fs.attention_logits(query, support, support_label, ways, scale=self.attention_scale)

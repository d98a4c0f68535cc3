"""Few-shot losses and logits: pure functions of tensors (``keras.ops``).

Shapes carry a leading episode axis ``E`` (one meta-batch of episodes); support rows are
class-major with episode-local labels in ``[0, N)``.

* :func:`class_prototypes`: per-class mean of the support embeddings (Snell et al. 2017).
* :func:`squared_euclidean`: squared Euclidean distances between two sets of vectors.
* :func:`prototype_logits`: ProtoNet's logits, the negative squared distances to the
  prototypes; :func:`prototypical_loss` their softmax cross-entropy, ``-log_softmax(-d)``.
* :func:`cosine_similarity_matrix` and :func:`attention_logits`: Matching Networks'
  cosine attention over the support set and the label distribution it induces
  (Vinyals et al. 2016).
* :func:`cosine_classifier_logits`: Baseline++'s cosine classifier (Chen et al. 2019).
* :func:`episode_cross_entropy` and :func:`episode_accuracy`: mean over the queries of an
  episode meta-batch.
"""

from __future__ import annotations

import tensorflow as tf
from keras import ops

_EPS = 1e-12


def class_prototypes(support, support_label, ways: int):
    """Mean embedding of each class of each episode.

    Args:
      support: float ``[E, S, D]`` support embeddings.
      support_label: int ``[E, S]`` in ``[0, ways)``.
      ways: N, the classes per episode.

    Returns:
      float ``[E, N, D]``; row ``n`` is the mean of the support rows labelled ``n`` (zero for
      a class without support rows).
    """
    onehot = ops.one_hot(ops.cast(support_label, "int32"), ways, dtype=support.dtype)  # E,S,N
    sums = ops.einsum("esn,esd->end", onehot, support)
    counts = ops.sum(onehot, axis=1)[..., None]  # E,N,1
    return sums / ops.maximum(counts, 1.0)


def squared_euclidean(x, y):
    """``||x_i - y_j||^2`` for every pair.

    Args:
      x: float ``[E, A, D]``; y: float ``[E, B, D]``.

    Returns:
      float ``[E, A, B]``, computed by differences (exact for near-equal vectors, as the
      reference implementation's ``(x - y)^2`` sum).
    """
    diff = x[:, :, None, :] - y[:, None, :, :]
    return ops.sum(ops.square(diff), axis=-1)


def prototype_logits(query, prototypes):
    """ProtoNet logits: ``-||f(x) - c_n||^2`` (Snell et al. 2017, Eq. 2).

    Args:
      query: float ``[E, Q, D]`` query embeddings; prototypes: float ``[E, N, D]``.

    Returns:
      float ``[E, Q, N]``; their softmax is ``p(y = n | x)``.
    """
    return -squared_euclidean(query, prototypes)


def prototypical_loss(query, query_label, prototypes):
    """Mean ``-log softmax(-d(f(x), c))[y]`` over the queries (Snell et al. 2017, Eq. 2-3).

    Args:
      query: float ``[E, Q, D]``; query_label: int ``[E, Q]``; prototypes: float ``[E, N, D]``.

    Returns:
      scalar loss.
    """
    return episode_cross_entropy(query_label, prototype_logits(query, prototypes))


def l2_normalize(x, axis: int = -1):
    """``x / max(||x||, 1e-12)`` along ``axis``."""
    norm = ops.sqrt(ops.sum(ops.square(x), axis=axis, keepdims=True))
    return x / ops.maximum(norm, _EPS)


def cosine_similarity_matrix(x, y):
    """Cosine similarity of every pair.

    Args:
      x: float ``[E, A, D]``; y: float ``[E, B, D]``.

    Returns:
      float ``[E, A, B]`` in ``[-1, 1]``.
    """
    return ops.einsum("ead,ebd->eab", l2_normalize(x), l2_normalize(y))


def attention_logits(query, support, support_label, ways: int, scale: float = 1.0):
    """Matching Networks' prediction ``sum_i a(x, x_i) y_i`` as log-probabilities.

    ``a`` is the softmax over the support set of ``scale * cos(f(x), g(x_i))`` (Vinyals et al.
    2016, Eq. 1-2; the paper's scale is 1). The returned logits are
    ``log(sum_i a(x, x_i) y_i)``, so their softmax is the paper's label distribution and
    their cross-entropy its training loss.

    Args:
      query: float ``[E, Q, D]`` embeddings f(x); support: float ``[E, S, D]`` embeddings g(x_i).
      support_label: int ``[E, S]`` in ``[0, ways)``.
      ways: N.
      scale: multiplies the cosine before the softmax.

    Returns:
      float ``[E, Q, N]`` log-probabilities.
    """
    attention = ops.softmax(scale * cosine_similarity_matrix(query, support), axis=-1)
    onehot = ops.one_hot(ops.cast(support_label, "int32"), ways, dtype=attention.dtype)
    probs = ops.einsum("eqs,esn->eqn", attention, onehot)
    return ops.log(ops.maximum(probs, _EPS))


def cosine_classifier_logits(features, weights, scale: float, gain=None):
    """Baseline++ logits ``scale * g_n * cos(f(x), v_n)`` (Chen et al. 2019, Sec. 3.2).

    The authors' ``distLinear`` (wyharveychen/CloserLookFewShot) is a bias-free linear layer
    under weight normalisation ``w_n = g_n v_n / ||v_n||`` applied to the L2-normalised
    feature: the cosine times a learnable per-class norm ``g_n``.

    Args:
      features: float ``[..., D]``; weights: float ``[D, N]`` class directions ``v_n``
        (columns).
      scale: the temperature factor (2 in the authors' code for at most 200 classes, 10
        above).
      gain: float ``[N]`` per-class norms ``g_n``; None for 1 (the plain cosine).

    Returns:
      float ``[..., N]``.
    """
    cos = ops.matmul(l2_normalize(features), l2_normalize(weights, axis=0))
    return scale * (cos if gain is None else cos * gain)


def episode_cross_entropy(labels, logits):
    """Mean softmax cross-entropy over every query of every episode.

    Args:
      labels: int ``[E, Q]`` in ``[0, N)``; logits: float ``[E, Q, N]``.
    """
    logp = ops.log_softmax(logits, axis=-1)
    picked = ops.take_along_axis(logp, ops.cast(labels, "int32")[..., None], axis=-1)
    return -ops.mean(picked)


def episode_accuracy(labels, logits):
    """Fraction of queries whose arg-max logit is their label (scalar float32)."""
    hits = ops.equal(ops.cast(ops.argmax(logits, axis=-1), "int32"), ops.cast(labels, "int32"))
    return ops.mean(ops.cast(hits, "float32"))


# ----------------------------------------------------------- heads fit on frozen features
def _head_init(seed, episodes, dim: int, ways: int, cosine: bool):
    """PyTorch's ``nn.Linear`` initialisation, U(-1/sqrt(D), 1/sqrt(D)) for weights and bias,
    one head per episode; a cosine head starts its per-class norms at the columns' norms, as
    weight normalisation does."""
    bound = 1.0 / float(dim) ** 0.5
    seeds = tf.random.experimental.stateless_split(seed, 2)
    w = tf.random.stateless_uniform([episodes, dim, ways], seeds[0], -bound, bound)
    if cosine:
        second = tf.norm(w, axis=1)
    else:
        second = tf.random.stateless_uniform([episodes, ways], seeds[1], -bound, bound)
    return [w, second]


def head_logits(features, params, cosine: bool, scale: float):
    """Logits ``[E, B, N]`` of one head per episode on features ``[E, B, D]``: linear
    ``x W + b`` or Baseline++'s ``scale * g * cos(x, v)`` (``params = [W or v, b or g]``)."""
    w, second = params
    if cosine:
        cos = tf.einsum("ebd,edn->ebn", l2_normalize(features), l2_normalize(w, axis=1))
        return scale * cos * second[:, None, :]
    return tf.einsum("ebd,edn->ebn", features, w) + second[:, None, :]


def fit_support_head(
    support,
    support_label,
    ways: int,
    *,
    cosine: bool = False,
    scale: float = 2.0,
    epochs: int = 100,
    batch_size: int = 4,
    learning_rate: float = 0.01,
    momentum: float = 0.9,
    dampening: float = 0.9,
    weight_decay: float = 1e-3,
    seed=(0, 0),
):
    """Trains a new linear (Baseline) or cosine (Baseline++) head on each episode's support
    features, as Chen et al. 2019 do at test time ("A Closer Look at Few-shot
    Classification", arXiv:1904.04232; the authors' ``set_forward_adaptation``): ``epochs``
    passes over the support set in a fresh random order, mini-batches of ``batch_size``
    (the last one smaller), SGD with momentum and dampening and coupled weight decay in
    PyTorch's form (``d = g + wd p``; ``buf = d`` at the first step, then
    ``buf = m buf + (1 - dampening) d``; ``p -= lr buf``).

    Every episode of the meta-batch trains its own head at once: its loss is the mean
    cross-entropy of its own mini-batch, so the heads do not interact.

    Args:
      support: float ``[E, S, D]`` frozen support features; support_label: int ``[E, S]``.
      ways: N.
      cosine, scale: Baseline++'s cosine head and its scale factor; else a linear head.
      epochs, batch_size, learning_rate, momentum, dampening, weight_decay: the recipe
        (defaults: the authors' code).
      seed: int ``[2]`` stateless seed of the initialisation and the orders.

    Returns:
      the trained ``[W or v, b or g]`` (each with a leading ``E`` axis), for
      :func:`head_logits`.
    """
    support = tf.convert_to_tensor(support, tf.float32)
    labels = tf.cast(support_label, tf.int32)
    episodes, size, dim = tf.shape(support)[0], support.shape[1], support.shape[2]
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    params = _head_init(seed, episodes, int(dim), ways, cosine)
    starts = list(range(0, int(size), int(batch_size)))

    def step(t, params, bufs, idx):
        x = tf.gather(support, idx, batch_dims=1)
        y = tf.gather(labels, idx, batch_dims=1)
        with tf.GradientTape() as tape:
            tape.watch(params)
            logits = head_logits(x, params, cosine, scale)
            xent = tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits)
            loss = tf.reduce_sum(tf.reduce_mean(xent, axis=1))
        grads = tape.gradient(loss, params)
        grads = [g + weight_decay * p for g, p in zip(grads, params)]
        first = tf.cast(tf.equal(t, 0), tf.float32)
        bufs = [
            first * g + (1.0 - first) * (momentum * b + (1.0 - dampening) * g)
            for b, g in zip(bufs, grads)
        ]
        params = [p - learning_rate * b for p, b in zip(params, bufs)]
        return params, bufs

    def epoch(e, params, bufs):
        keys = tf.random.stateless_uniform(
            [episodes, size], tf.random.experimental.stateless_fold_in(seed, e + 1)
        )
        order = tf.argsort(keys, axis=1)
        for j, start in enumerate(starts):
            idx = order[:, start : start + int(batch_size)]
            params, bufs = step(e * len(starts) + j, params, bufs, idx)
        return e + 1, params, bufs

    bufs = [tf.zeros_like(p) for p in params]
    _, params, bufs = tf.while_loop(lambda e, *_: e < epochs, epoch, (tf.constant(0), params, bufs))
    return params

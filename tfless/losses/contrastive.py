"""Contrastive losses: NT-Xent (SimCLR), InfoNCE (CPC), MoCo's queue loss, PIRL's NCE.

Every function is pure (``tf`` ops only), takes embeddings and keyword
hyperparameters, and returns the mean loss over the rows it is given. The
distributed wiring (gathering negatives from every replica) lives in the
methods; the losses accept the gathered tensors as arguments.
"""

from __future__ import annotations

import tensorflow as tf

#: Added to logits that must never win (an anchor against itself).
_MASK_LOGIT = -1e9


def check_temperature(temperature: float, name: str = "temperature") -> float:
    """Returns ``temperature`` as a float; raises ``ValueError`` unless it is > 0."""
    try:
        value = float(temperature)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number; got {temperature!r}.") from None
    if not value > 0.0:
        raise ValueError(f"{name} must be > 0 (it divides the similarities); got {temperature!r}.")
    return value


def l2_normalize(x, axis: int = -1):
    """``x / ||x||`` along ``axis`` (with a small epsilon so zero rows stay finite)."""
    return tf.math.l2_normalize(x, axis=axis, epsilon=1e-12)


def _xent(logits, labels):
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    )


def nt_xent(
    z1,
    z2,
    temperature: float = 0.5,
    z1_all=None,
    z2_all=None,
    offset=0,
    normalize: bool = True,
):
    """Normalized temperature-scaled cross-entropy of SimCLR (Chen et al. 2020, Eq. 1).

    Row ``i`` of ``z1`` and row ``i`` of ``z2`` are two views of the same image.
    Each of the ``2B`` local embeddings is an anchor whose positive is its
    partner view and whose negatives are the other ``2N - 2`` embeddings of the
    global batch (both views of every other image).

    Args:
      z1, z2: ``[B, D]`` local projections of view 1 and view 2.
      temperature: tau > 0.
      z1_all, z2_all: ``[N, D]`` projections of the whole global batch (gathered
        from all replicas, in replica order); ``None`` means ``z1`` / ``z2``.
      offset: row of ``z1[0]`` inside ``z1_all`` (``replica_id * B``).
      normalize: L2-normalize the embeddings first (cosine similarity).

    Returns:
      Scalar: mean loss over the ``2B`` local anchors. With equal local batches,
      the mean over replicas equals the loss of the global batch on one device.
    """
    temperature = check_temperature(temperature)
    if z1_all is None:
        z1_all, z2_all = z1, z2
    if normalize:
        z1, z2 = l2_normalize(z1), l2_normalize(z2)
        z1_all, z2_all = l2_normalize(z1_all), l2_normalize(z2_all)
    local = tf.shape(z1)[0]
    total = tf.shape(z1_all)[0]
    positives = tf.range(local) + offset
    self_mask = tf.one_hot(positives, total, dtype=z1.dtype) * _MASK_LOGIT

    def one_direction(anchor, partner_all, same_all):
        to_partner = tf.matmul(anchor, partner_all, transpose_b=True) / temperature
        to_same = tf.matmul(anchor, same_all, transpose_b=True) / temperature + self_mask
        return _xent(tf.concat([to_partner, to_same], axis=1), positives)

    return 0.5 * (one_direction(z1, z2_all, z1_all) + one_direction(z2, z1_all, z2_all))


def info_nce(predictions, targets, temperature: float = 1.0, positive_index=None, normalize=False):
    """InfoNCE (van den Oord et al. 2018): pick each prediction's target among all targets.

    Args:
      predictions: ``[M, D]`` predicted embeddings (queries).
      targets: ``[T, D]`` candidate embeddings; every row that is not a
        prediction's positive is one of its negatives.
      temperature: tau > 0 dividing the scores (CPC uses plain dot products: 1).
      positive_index: ``[M]`` int row of each prediction's positive in
        ``targets``; default ``range(M)`` (requires ``T >= M``).
      normalize: L2-normalize both sides first (cosine scores).

    Returns:
      Scalar: mean over the ``M`` predictions of ``-log softmax(scores)[positive]``.
    """
    temperature = check_temperature(temperature)
    if normalize:
        predictions, targets = l2_normalize(predictions), l2_normalize(targets)
    if positive_index is None:
        positive_index = tf.range(tf.shape(predictions)[0])
    logits = tf.matmul(predictions, targets, transpose_b=True) / temperature
    return _xent(logits, tf.cast(positive_index, tf.int32))


def moco_loss(queries, keys, queue, temperature: float = 0.07):
    """MoCo's InfoNCE against a queue of negatives (He et al. 2019, Eq. 1 and Algorithm 1).

    Args:
      queries: ``[B, D]`` query projections (gradients flow here).
      keys: ``[B, D]`` key projections from the momentum encoder; row ``i`` is
        query ``i``'s positive. Treated as constants.
      queue: ``[K, D]`` L2-normalized keys of earlier batches: the negatives.
      temperature: tau > 0 (0.07 in MoCo v1, 0.2 in MoCo v2).

    Returns:
      Scalar: mean over queries of cross-entropy with the positive at logit 0.
    """
    temperature = check_temperature(temperature)
    q = l2_normalize(queries)
    k = tf.stop_gradient(l2_normalize(keys))
    positive = tf.reduce_sum(q * k, axis=1, keepdims=True)
    negative = tf.matmul(q, tf.stop_gradient(queue), transpose_b=True)
    logits = tf.concat([positive, negative], axis=1) / temperature
    return _xent(logits, tf.zeros(tf.shape(q)[0], tf.int32))


def pirl_nce(
    memory,
    representations,
    negatives,
    temperature: float = 0.07,
    num_data: int = 1,
    log_z=0.0,
):
    """PIRL's noise-contrastive estimation loss (Misra & van der Maaten 2019, Eqs. 3-5).

    With ``s(u, v)`` the cosine similarity and ``p(u, v) = exp(s / tau) / Z``,
    ``h(u, v) = p / (p + M / num_data)`` is the probability that ``(u, v)`` came
    from the data rather than from the uniform noise distribution over the
    ``num_data`` examples, with ``M`` noise samples per positive (Gutmann &
    Hyvarinen 2010; Wu et al. 2018). For a memory-bank entry ``m_I`` and a
    network representation ``r`` of the same image (``g(v_It)`` or ``f(v_I)``),
    ``L_NCE(m_I, r) = -log h(m_I, r) - sum_j log(1 - h(r, m_j'))`` over the
    negatives ``m_j'``, averaged over the batch.

    Args:
      memory: ``[B, D]`` memory-bank representations ``m_I`` of the batch's images.
      representations: ``[B, D]`` network outputs for the same images (gradients flow here).
      negatives: ``[B, M, D]`` or ``[M, D]`` (shared) memory-bank rows of other images.
      temperature: tau > 0 (0.07 in the paper).
      num_data: dataset size ``|D|``; the noise distribution is uniform over it.
      log_z: ``log Z``, the normalization constant of ``p``.

    Returns:
      Scalar mean loss.
    """
    temperature = check_temperature(temperature)
    m, r, n = l2_normalize(memory), l2_normalize(representations), l2_normalize(negatives)
    pos_score = tf.reduce_sum(m * r, axis=-1) / temperature
    if len(n.shape) == 2:
        neg_score = tf.matmul(r, n, transpose_b=True) / temperature
    else:
        neg_score = tf.einsum("bd,bmd->bm", r, n) / temperature
    num_noise = tf.cast(tf.shape(neg_score)[1], r.dtype)
    log_noise = tf.math.log(num_noise / float(num_data))
    # Written with softplus for stability: log h = -softplus(log(M/n) - log p) and
    # log(1 - h) = -softplus(log p - log(M/n)).
    log_h_pos = -tf.nn.softplus(log_noise - (pos_score - log_z))
    log_one_minus_h_neg = -tf.nn.softplus((neg_score - log_z) - log_noise)
    return -tf.reduce_mean(log_h_pos + tf.reduce_sum(log_one_minus_h_neg, axis=1))


def nce_log_partition(scores, num_data: int):
    """Monte Carlo ``log Z`` of NCE: ``log(num_data * mean(exp(scores)))`` (Wu et al. 2018, Eq. 8).

    Args:
      scores: ``[..., M]`` temperature-scaled similarities to ``M`` uniformly drawn examples.
      num_data: dataset size.

    Returns:
      Scalar ``log Z`` (no gradient).
    """
    scores = tf.stop_gradient(scores)
    count = tf.cast(tf.size(scores), scores.dtype)
    return tf.math.log(float(num_data)) + tf.reduce_logsumexp(scores) - tf.math.log(count)


def tanh_clip(scores, clip: float = 20.0):
    """Soft clipping ``c * tanh(s / c)`` of AMDIM's scores (Bachman et al. 2019, Sec. 3.3)."""
    return clip * tf.tanh(scores / clip)


def amdim_nce(anchors, local_features, clip: float = 20.0, reg_weight: float = 5e-2, offset=0):
    """AMDIM's NCE between anchor vectors of one view and local vectors of the other.

    Anchor ``i`` (a global vector, or each of ``A`` local vectors of image ``i``)
    has as positives the ``L`` local vectors of the same image in the other
    view, ``local_features[offset + i]``; the negatives of each positive are all
    local vectors of the other images. Scores are ``<a, l> / sqrt(D)``; each
    positive is scored against all negatives with a softmax after soft clipping
    ``c * tanh(s / c)``, and ``reg_weight * mean(raw_score^2)`` keeps the raw
    scores small (Bachman, Hjelm & Buchwalter 2019, Sec. 3.3 and Sec. 4's
    stabilization; c = 20 and weight 5e-2 as in the authors' code).

    Args:
      anchors: ``[B, D]`` or ``[B, A, D]`` (view A).
      local_features: ``[N, L, D]`` local vectors of the global batch (view B), ``N >= B``.
      clip: c of the tanh clip.
      reg_weight: weight of the squared-score penalty.
      offset: row of anchor 0's image in ``local_features`` (``replica_id * B``).

    Returns:
      ``(nce, reg)``: scalar NCE loss (mean over anchors and positives) and the
      weighted regularizer.
    """
    if len(anchors.shape) == 2:
        anchors = anchors[:, None]
    b = tf.shape(anchors)[0]
    n = tf.shape(local_features)[0]
    dim = tf.cast(tf.shape(anchors)[-1], anchors.dtype)
    raw = tf.einsum("iad,jld->iajl", anchors, local_features) / tf.sqrt(dim)  # [B, A, N, L]
    reg = reg_weight * tf.reduce_mean(tf.square(raw))
    scores = tanh_clip(raw, clip)
    same = tf.one_hot(tf.range(b) + offset, n, dtype=scores.dtype)[:, None, :, None]  # [B,1,N,1]
    pos = tf.reduce_sum(scores * same, axis=2)  # [B, A, L]
    neg = scores + same * _MASK_LOGIT  # positives never count as negatives
    shape = tf.shape(neg)
    neg_lse = tf.reduce_logsumexp(tf.reshape(neg, [shape[0], shape[1], -1]), axis=2)  # [B, A]
    # -log(e^pos / (e^pos + sum_neg e^neg)) for every positive.
    nce = tf.reduce_mean(tf.nn.softplus(neg_lse[:, :, None] - pos))
    return nce, reg

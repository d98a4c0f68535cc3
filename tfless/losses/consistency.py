"""Consistency and pseudo-labelling losses of semi-supervised learning.

Pure functions of tensors (``keras.ops`` / ``tf``) and keyword
hyperparameters: no state, no variables. Probabilities are ``[B, C]`` rows that
sum to one, logits are ``[B, C]``; every loss returns a scalar mean over the
batch unless said otherwise.

References:
  Lee 2013, "Pseudo-Label" (ICML workshop).
  Tarvainen & Valpola 2017, "Mean teachers are better role models" (NeurIPS).
  Miyato et al. 2018, "Virtual Adversarial Training" (TPAMI).
  Berthelot et al. 2019, "MixMatch" (NeurIPS).
  Berthelot et al. 2020, "ReMixMatch" (ICLR).
  Sohn et al. 2020, "FixMatch" (NeurIPS).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

# ----------------------------------------------------------------------------- ramp-ups


def sigmoid_rampup(step, rampup_steps):
    """``exp(-5 (1 - t)^2)`` with ``t = clip(step / rampup_steps, 0, 1)``.

    The consistency-weight ramp-up of Laine & Aila 2017 and Mean Teacher
    (Tarvainen & Valpola 2017). ``rampup_steps <= 0`` means no ramp-up (1).

    Args:
      step: scalar (int or float tensor) training step.
      rampup_steps: scalar length of the ramp-up.

    Returns:
      float32 scalar in (0, 1].
    """
    step = ops.cast(step, "float32")
    if isinstance(rampup_steps, (int, float)) and rampup_steps <= 0:
        return ops.ones((), "float32")
    t = ops.clip(step / ops.cast(rampup_steps, "float32"), 0.0, 1.0)
    return ops.exp(-5.0 * ops.square(1.0 - t))


def linear_rampup(step, rampup_steps):
    """``clip(step / rampup_steps, 0, 1)``; MixMatch's ramp-up of lambda_u (16k steps).

    ``rampup_steps <= 0`` means no ramp-up (1). Returns a float32 scalar.
    """
    step = ops.cast(step, "float32")
    if isinstance(rampup_steps, (int, float)) and rampup_steps <= 0:
        return ops.ones((), "float32")
    return ops.clip(step / ops.cast(rampup_steps, "float32"), 0.0, 1.0)


def pseudo_label_rampup(step, start_step, end_step):
    """Lee 2013's alpha(t)/alpha_f: 0 before ``start_step`` (T1), linear to 1 at ``end_step`` (T2).

    Returns a float32 scalar in [0, 1].
    """
    step = ops.cast(step, "float32")
    if end_step <= start_step:
        return ops.cast(step >= float(start_step), "float32")
    t = (step - float(start_step)) / float(end_step - start_step)
    return ops.clip(t, 0.0, 1.0)


# ---------------------------------------------------------------------- label guessing


def sharpen(probs, temperature):
    """MixMatch's sharpening ``p_i^(1/T) / sum_j p_j^(1/T)``.

    Args:
      probs: ``[B, C]`` probabilities.
      temperature: T > 0; T -> 0 gives one-hot rows.

    Returns:
      ``[B, C]`` probabilities.
    """
    # Power in log space so that tiny probabilities raised to 1/T do not underflow to 0/0.
    logp = ops.log(ops.maximum(probs, 1e-30)) / temperature
    return ops.softmax(logp, axis=-1)


def distribution_alignment(probs, model_marginal, target_marginal):
    """ReMixMatch's distribution alignment ``Normalize(p * p(y) / p~(y))``.

    Args:
      probs: ``[B, C]`` model predictions on unlabeled data.
      model_marginal: ``[C]`` running average of the model's predictions (p~(y)).
      target_marginal: ``[C]`` class marginal of the labeled data (p(y)).

    Returns:
      ``[B, C]`` rows renormalised to sum to one.
    """
    ratio = target_marginal / ops.maximum(model_marginal, 1e-6)
    aligned = probs * ops.expand_dims(ratio, 0)
    return aligned / ops.maximum(ops.sum(aligned, axis=-1, keepdims=True), 1e-12)


def confidence_mask(probs, threshold):
    """Hard pseudo-labels and the mask of rows whose top probability reaches ``threshold``.

    Args:
      probs: ``[B, C]`` probabilities.
      threshold: scalar in [0, 1).

    Returns:
      ``(labels int32 [B], mask float32 [B])``; FixMatch keeps ``max p >= tau``.
    """
    labels = ops.cast(ops.argmax(probs, axis=-1), "int32")
    mask = ops.cast(ops.max(probs, axis=-1) >= threshold, "float32")
    return labels, mask


# ------------------------------------------------------------------------------ losses


def masked_cross_entropy(labels, logits, mask):
    """``mean_b(mask_b * CE(labels_b, logits_b))``: FixMatch's / Pseudo-Label's unlabeled loss.

    The mean is over the whole batch (masked rows count as zeros), as in
    Sohn et al. 2020 eq. (4).

    Args:
      labels: int ``[B]`` hard (pseudo-)labels.
      logits: ``[B, C]``.
      mask: ``[B]`` weights in [0, 1].
    """
    xent = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    return ops.mean(xent * ops.cast(mask, xent.dtype))


def soft_cross_entropy(targets, logits):
    """``mean_b(-sum_c targets_bc log softmax(logits)_bc)`` for soft targets ``[B, C]``."""
    return ops.mean(-ops.sum(targets * ops.log_softmax(logits, axis=-1), axis=-1))


def softmax_mse(student_logits, teacher_probs):
    """Mean Teacher's consistency ``mean_{b,c}(softmax(student)_bc - teacher_bc)^2``.

    Equals ``||p - q||^2 / C`` averaged over the batch (the MSE of the papers'
    code, which also equals MixMatch's L2 loss ``||q - p||^2 / (C |U|)``).

    Args:
      student_logits: ``[B, C]``.
      teacher_probs: ``[B, C]`` targets (gradient is not stopped here).
    """
    return ops.mean(ops.square(ops.softmax(student_logits, axis=-1) - teacher_probs))


def kl_divergence_logits(p_logits, q_logits):
    """``mean_b KL(softmax(p) || softmax(q))`` from logits ``[B, C]`` (VAT's distance)."""
    logp = ops.log_softmax(p_logits, axis=-1)
    logq = ops.log_softmax(q_logits, axis=-1)
    return ops.mean(ops.sum(ops.exp(logp) * (logp - logq), axis=-1))


def entropy_logits(logits):
    """``mean_b H(softmax(logits_b))``; entropy minimisation of Grandvalet & Bengio 2005."""
    logp = ops.log_softmax(logits, axis=-1)
    return ops.mean(-ops.sum(ops.exp(logp) * logp, axis=-1))


# ------------------------------------------------------------------------------- MixUp


def mixmatch_mixup(x1, y1, x2, y2, lam):
    """MixMatch's MixUp with ``lam' = max(lam, 1 - lam)`` so the result stays close to ``x1``.

    Args:
      x1, x2: inputs ``[B, ...]`` (images).
      y1, y2: targets ``[B, C]``.
      lam: ``[B]`` Beta(alpha, alpha) samples (or a scalar).

    Returns:
      ``(x, y)`` with ``x = lam' x1 + (1 - lam') x2`` (same for ``y``).
    """
    lam = ops.cast(lam, x1.dtype)
    lam = ops.maximum(lam, 1.0 - lam)
    lam_x = ops.reshape(lam, [-1] + [1] * (len(x1.shape) - 1)) if len(lam.shape) else lam
    lam_y = ops.reshape(lam, [-1, 1]) if len(lam.shape) else lam
    return lam_x * x1 + (1.0 - lam_x) * x2, lam_y * y1 + (1.0 - lam_y) * y2


def sample_beta(shape, alpha, seed=None):
    """Samples Beta(alpha, alpha) of ``shape`` with two Gamma draws (TF has no Beta sampler)."""
    a = tf.random.gamma(shape, alpha, seed=seed)
    b = tf.random.gamma(shape, alpha, seed=None if seed is None else seed + 1)
    return a / tf.maximum(a + b, 1e-12)


# --------------------------------------------------------------------------------- VAT


def _l2_normalize_per_example(d):
    axes = list(range(1, len(d.shape)))
    # Rescale by the max first: the raw gradient at xi=1e-6 is tiny and its square underflows.
    d = d / (tf.reduce_max(tf.abs(d), axis=axes, keepdims=True) + 1e-12)
    return d / tf.sqrt(tf.reduce_sum(tf.square(d), axis=axes, keepdims=True) + 1e-12)


def vat_direction(logits_fn, x, logits, xi=1e-6, num_iterations=1, initial=None, seed=None):
    """VAT's adversarial direction by power iteration (Miyato et al. 2018, Alg. 1).

    Starting from a random unit vector ``d`` per example, repeats
    ``d <- normalize(grad_r KL(p(y|x) || p(y|x + r)) at r = xi d)``. Since the
    KL's gradient at ``r`` is ``H r`` to first order (``H`` its Hessian at
    ``r = 0``), this is the power method and converges to the top eigenvector
    of ``H``.

    Args:
      logits_fn: callable ``[B, ...] -> [B, C]`` (the model).
      x: inputs ``[B, ...]``.
      logits: ``[B, C]`` logits of ``x`` (treated as constants).
      xi: finite-difference step (1e-6 in the paper).
      num_iterations: power iterations (1 in the paper).
      initial: optional starting directions ``[B, ...]`` (default: Gaussian).
      seed: optional op seed of the random start.

    Returns:
      ``[B, ...]`` unit-L2-norm directions per example, without gradient.
    """
    logits = tf.stop_gradient(logits)
    d = tf.random.normal(tf.shape(x), seed=seed) if initial is None else initial
    d = _l2_normalize_per_example(tf.cast(d, x.dtype))
    for _ in range(int(num_iterations)):
        r = xi * d
        with tf.GradientTape() as tape:
            tape.watch(r)
            # Batch-sum so each example's gradient is its own KL's gradient.
            dist = kl_divergence_logits(logits, logits_fn(x + r)) * tf.cast(tf.shape(x)[0], x.dtype)
        d = _l2_normalize_per_example(tf.stop_gradient(tape.gradient(dist, r)))
    return tf.stop_gradient(d)


# ------------------------------------------------------------------------ label diffusion


def _normalized_knn_graph(feats, k: int, gamma: float, chunk: int):
    """``D^-1/2 W D^-1/2`` (sparse ``[N, N]``) of the symmetric kNN affinities of unit rows."""
    import scipy.sparse

    n = feats.shape[0]
    nbrs, vals = [], []
    # Row blocks keep memory at chunk x N instead of N x N (CIFAR: 50k x 50k would be 20 GB).
    for start in range(0, n, chunk):
        sims = feats[start : start + chunk] @ feats.T
        sims[np.arange(sims.shape[0]), np.arange(start, start + sims.shape[0])] = -np.inf
        idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        nbrs.append(idx)
        vals.append(np.maximum(np.take_along_axis(sims, idx, axis=1), 0.0) ** gamma)
    nbrs, vals = np.concatenate(nbrs), np.concatenate(vals)
    rows = np.repeat(np.arange(n), k)
    a = scipy.sparse.csr_matrix((vals.ravel(), (rows, nbrs.ravel())), shape=(n, n))
    w = a + a.T
    w.setdiag(0.0)
    w.eliminate_zeros()
    degree = np.asarray(w.sum(axis=1)).ravel()
    dinv = 1.0 / np.sqrt(np.maximum(degree, 1e-12))
    dmat = scipy.sparse.diags(dinv)
    return dmat @ w @ dmat


def _diffuse(wn, alpha, labels, labeled_mask, num_classes, tol, max_iterations):
    """Scores ``[N, C]``: ``(I - alpha W_n) z_c = y_c`` solved by CG for each labeled class."""
    import scipy.sparse
    import scipy.sparse.linalg

    n = wn.shape[0]
    system = scipy.sparse.eye(n) - alpha * wn
    scores = np.zeros((n, num_classes))
    for c in range(num_classes):
        y = np.zeros(n)
        y[labeled_mask & (labels == c)] = 1.0
        if not y.any():
            continue
        z, _ = scipy.sparse.linalg.cg(system, y, rtol=tol, maxiter=max_iterations)
        scores[:, c] = z
    return scores


def label_diffusion(
    features,
    labels,
    labeled_mask,
    num_classes,
    k=50,
    alpha=0.99,
    gamma=3.0,
    max_iterations=20,
    tol=1e-6,
    chunk=4096,
):
    """Iscen et al. 2019's label propagation over a kNN graph, solved by conjugate gradient.

    NumPy/SciPy (it runs between epochs, on the whole dataset). Steps: cosine
    affinities ``a_ij = max(v_i . v_j, 0)^gamma`` to the ``k`` nearest
    neighbours of L2-normalised features; ``W = A + A^T`` with a zero diagonal;
    ``W_n = D^-1/2 W D^-1/2``; for each class solve
    ``(I - alpha W_n) z_c = y_c`` (``y_c`` one-hot columns of the labeled
    examples) by CG; negative scores are clipped to 0 and rows normalised.

    Args:
      features: ``[N, D]`` float features.
      labels: int ``[N]``; read only where ``labeled_mask`` is true.
      labeled_mask: bool ``[N]``.
      num_classes: ``C``.
      k: neighbours (50 in the paper).
      alpha: diffusion parameter (0.99).
      gamma: affinity power (3).
      max_iterations: CG iterations (20 in the paper's code).
      tol: CG tolerance.
      chunk: rows of the similarity matrix computed at once.

    Returns:
      ``(pseudo_labels int32 [N], certainty float32 [N], class_weights float32 [C],
      scores float32 [N, C])`` where ``certainty = 1 - H(z_i) / log C`` (labeled
      examples keep their label and get certainty 1) and
      ``class_weights_c = N / (C |L_c|)`` is the inverse frequency of class ``c``
      among the labeled + pseudo-labeled examples.
    """
    feats = np.asarray(features, dtype=np.float64)
    feats = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
    labels = np.asarray(labels).astype(np.int64)
    labeled_mask = np.asarray(labeled_mask, dtype=bool)
    n = feats.shape[0]
    wn = _normalized_knn_graph(feats, int(min(k, n - 1)), gamma, chunk)
    scores = _diffuse(wn, alpha, labels, labeled_mask, num_classes, tol, max_iterations)
    scores = np.maximum(scores, 0.0)
    sums = scores.sum(axis=1, keepdims=True)
    probs = np.where(sums > 0, scores / np.maximum(sums, 1e-12), 1.0 / num_classes)
    pseudo = probs.argmax(axis=1)
    ent = -np.sum(probs * np.log(np.maximum(probs, 1e-12)), axis=1)
    certainty = 1.0 - ent / np.log(num_classes)
    pseudo[labeled_mask] = labels[labeled_mask]
    certainty[labeled_mask] = 1.0
    counts = np.bincount(pseudo, minlength=num_classes).astype(np.float64)
    class_weights = np.where(counts > 0, n / (num_classes * np.maximum(counts, 1.0)), 0.0)
    return (
        pseudo.astype(np.int32),
        certainty.astype(np.float32),
        class_weights.astype(np.float32),
        probs.astype(np.float32),
    )

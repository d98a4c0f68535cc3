"""Few-shot losses against NumPy references."""

import numpy as np
import tensorflow as tf

from tfless.losses import fewshot as fs

RNG = np.random.default_rng(0)
E, N, K, Q, D = 2, 3, 2, 4, 5


def _episode():
    support = RNG.normal(size=(E, N * K, D)).astype(np.float32)
    labels = np.stack([RNG.permutation(np.repeat(np.arange(N), K)) for _ in range(E)])
    query = RNG.normal(size=(E, N * Q, D)).astype(np.float32)
    query_label = RNG.integers(0, N, size=(E, N * Q))
    return support, labels.astype(np.int32), query, query_label.astype(np.int32)


def _np_prototypes(support, labels):
    return np.stack(
        [np.stack([support[e][labels[e] == n].mean(0) for n in range(N)]) for e in range(E)]
    )


def _np_log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def test_prototypes_and_distances_match_numpy():
    support, labels, query, _ = _episode()
    protos = fs.class_prototypes(support, labels, N).numpy()
    np.testing.assert_allclose(protos, _np_prototypes(support, labels), rtol=1e-5, atol=1e-6)
    d = fs.squared_euclidean(query, protos).numpy()
    ref = np.array(
        [[[np.sum((q - c) ** 2) for c in protos[e]] for q in query[e]] for e in range(E)]
    )
    np.testing.assert_allclose(d, ref, rtol=1e-5)
    np.testing.assert_allclose(fs.prototype_logits(query, protos).numpy(), -ref, rtol=1e-5)


def test_prototypical_loss_is_log_softmax_of_negative_distances():
    support, labels, query, query_label = _episode()
    protos = _np_prototypes(support, labels)
    d = ((query[:, :, None, :] - protos[:, None, :, :]) ** 2).sum(-1)
    logp = _np_log_softmax(-d)
    ref = -np.mean(np.take_along_axis(logp, query_label[..., None], -1))
    got = float(fs.prototypical_loss(query, query_label, fs.class_prototypes(support, labels, N)))
    np.testing.assert_allclose(got, ref, rtol=1e-5)
    acc = float(fs.episode_accuracy(query_label, -d))
    np.testing.assert_allclose(acc, np.mean(np.argmax(-d, -1) == query_label))


def test_cosine_attention_matches_numpy():
    support, labels, query, _ = _episode()
    qn = query / np.linalg.norm(query, axis=-1, keepdims=True)
    sn = support / np.linalg.norm(support, axis=-1, keepdims=True)
    cos = np.einsum("eqd,esd->eqs", qn, sn)
    np.testing.assert_allclose(fs.cosine_similarity_matrix(query, support), cos, atol=1e-6)
    a = np.exp(3.0 * cos) / np.exp(3.0 * cos).sum(-1, keepdims=True)
    probs = np.einsum("eqs,esn->eqn", a, np.eye(N)[labels])
    got = fs.attention_logits(query, support, labels, N, scale=3.0).numpy()
    np.testing.assert_allclose(np.exp(got), probs, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.exp(got).sum(-1), 1.0, rtol=1e-5)


def test_cosine_classifier_logits_match_numpy():
    x = RNG.normal(size=(6, D)).astype(np.float32)
    w = RNG.normal(size=(D, N)).astype(np.float32)
    g = RNG.uniform(0.5, 2.0, size=(N,)).astype(np.float32)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    wn = w / np.linalg.norm(w, axis=0, keepdims=True)
    np.testing.assert_allclose(fs.cosine_classifier_logits(x, w, 2.0), 2.0 * xn @ wn, rtol=1e-5)
    np.testing.assert_allclose(
        fs.cosine_classifier_logits(x, w, 10.0, g), 10.0 * (xn @ wn) * g, rtol=1e-5
    )


def _np_fit_head(support, labels, params, orders, cosine, lr=0.01, m=0.9, damp=0.9, wd=1e-3):
    """PyTorch's SGD (momentum, dampening, coupled weight decay) on one episode's head,
    gradients by finite-free closed form for the linear head."""
    w, b = [p.astype(np.float64) for p in params]
    bufs, t = None, 0
    for order in orders:
        for start in range(0, len(order), 4):
            idx = order[start : start + 4]
            x, y = support[idx].astype(np.float64), labels[idx]
            p = np.exp(_np_log_softmax(x @ w + b))
            p[np.arange(len(y)), y] -= 1.0
            grads = [x.T @ p / len(y) + wd * w, p.mean(0) + wd * b]
            if bufs is None:
                bufs = grads
            else:
                bufs = [m * u + (1 - damp) * g for u, g in zip(bufs, grads)]
            w, b = w - lr * bufs[0], b - lr * bufs[1]
            t += 1
    return w, b


def test_fit_support_head_is_pytorch_sgd_with_dampening():
    support, labels, _, _ = _episode()
    seed = tf.constant([3, 0], tf.int64)
    epochs = 3
    params = fs.fit_support_head(support, labels, N, epochs=epochs, seed=seed)
    init = fs._head_init(seed, E, D, N, cosine=False)
    for e in range(E):
        orders = []
        for ep in range(epochs):
            keys = tf.random.stateless_uniform(
                [E, N * K], tf.random.experimental.stateless_fold_in(seed, ep + 1)
            )
            orders.append(tf.argsort(keys, axis=1).numpy()[e])
        w, b = _np_fit_head(
            support[e], labels[e], [init[0][e].numpy(), init[1][e].numpy()], orders, cosine=False
        )
        np.testing.assert_allclose(params[0][e].numpy(), w, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(params[1][e].numpy(), b, rtol=1e-4, atol=1e-6)


def test_fit_support_heads_classify_queries_of_clustered_features():
    # Features of 3 classes around distinct centres: 1 support image each, 4 queries.
    centres = 2.0 * RNG.normal(size=(E, N, 16)).astype(np.float32)
    support = centres + 0.3 * RNG.normal(size=(E, N, 16)).astype(np.float32)
    query = np.repeat(centres, Q, axis=1) + 0.3 * RNG.normal(size=(E, N * Q, 16))
    labels = np.tile(np.arange(N), (E, 1))
    for cosine in (False, True):
        params = fs.fit_support_head(support, labels, N, cosine=cosine, scale=2.0)
        logits = fs.head_logits(tf.constant(query, tf.float32), params, cosine, 2.0).numpy()
        accuracy = np.mean(np.argmax(logits, -1) == np.repeat(labels, Q, axis=1))
        assert accuracy >= 0.9, (cosine, accuracy)

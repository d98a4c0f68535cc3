"""Contrastive losses against straightforward NumPy references."""

import numpy as np
import pytest
import tensorflow as tf

from tfless.losses import contrastive as C


def _norm(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _logsumexp(x):
    m = x.max()
    return m + np.log(np.exp(x - m).sum())


def _np_nt_xent(z1, z2, tau):
    z = _norm(np.concatenate([z1, z2]))
    n = len(z1)
    losses = []
    for i in range(2 * n):
        j = (i + n) % (2 * n)
        logits = np.array([z[i] @ z[k] / tau for k in range(2 * n) if k != i])
        pos = z[i] @ z[j] / tau
        losses.append(_logsumexp(logits) - pos)
    return np.mean(losses)


def test_nt_xent_matches_numpy():
    rng = np.random.RandomState(0)
    z1, z2 = rng.randn(6, 5).astype("f4"), rng.randn(6, 5).astype("f4")
    for tau in (0.1, 0.5, 1.0):
        got = C.nt_xent(tf.constant(z1), tf.constant(z2), temperature=tau).numpy()
        np.testing.assert_allclose(got, _np_nt_xent(z1, z2, tau), rtol=1e-4)


def test_nt_xent_local_slices_average_to_global_loss():
    rng = np.random.RandomState(1)
    z1, z2 = rng.randn(8, 4).astype("f4"), rng.randn(8, 4).astype("f4")
    halves = [
        C.nt_xent(z1[s : s + 4], z2[s : s + 4], 0.5, z1, z2, offset=s).numpy() for s in (0, 4)
    ]
    np.testing.assert_allclose(np.mean(halves), _np_nt_xent(z1, z2, 0.5), rtol=1e-5)


def test_info_nce_matches_numpy():
    rng = np.random.RandomState(2)
    p, t = rng.randn(5, 3).astype("f4"), rng.randn(9, 3).astype("f4")
    pos = np.array([0, 3, 8, 2, 2])
    logits = p @ t.T / 0.7
    ref = np.mean([_logsumexp(logits[i]) - logits[i, pos[i]] for i in range(5)])
    got = C.info_nce(tf.constant(p), tf.constant(t), 0.7, positive_index=pos).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-5)
    # default positives: the diagonal
    logits = p @ t[:5].T
    ref = np.mean([_logsumexp(logits[i]) - logits[i, i] for i in range(5)])
    np.testing.assert_allclose(C.info_nce(p, t[:5]).numpy(), ref, rtol=1e-5)


def test_moco_loss_matches_numpy():
    rng = np.random.RandomState(3)
    q, k = rng.randn(4, 6).astype("f4"), rng.randn(4, 6).astype("f4")
    queue = _norm(rng.randn(10, 6)).astype("f4")
    qn, kn = _norm(q), _norm(k)
    ref = []
    for i in range(4):
        logits = np.concatenate([[qn[i] @ kn[i]], queue @ qn[i]]) / 0.07
        ref.append(_logsumexp(logits) - logits[0])
    got = C.moco_loss(tf.constant(q), tf.constant(k), tf.constant(queue), 0.07).numpy()
    np.testing.assert_allclose(got, np.mean(ref), rtol=1e-4)


def test_moco_loss_does_not_backpropagate_into_keys_or_queue():
    q, k, queue = tf.random.normal((3, 4)), tf.random.normal((3, 4)), tf.random.normal((5, 4))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([q, k, queue])
        loss = C.moco_loss(q, k, queue, 0.2)
    assert tape.gradient(loss, q) is not None
    assert tape.gradient(loss, k) is None and tape.gradient(loss, queue) is None


def test_pirl_nce_matches_numpy():
    rng = np.random.RandomState(4)
    a, p = rng.randn(3, 5).astype("f4"), rng.randn(3, 5).astype("f4")
    negs = rng.randn(3, 7, 5).astype("f4")
    tau, n_data, log_z = 0.2, 50, 1.3
    an, pn, nn = _norm(a), _norm(p), _norm(negs)
    noise = 7 / n_data

    def h(u, v):
        pr = np.exp(u @ v / tau - log_z)
        return pr / (pr + noise)

    ref = np.mean(
        [
            -np.log(h(an[i], pn[i])) - sum(np.log(1 - h(pn[i], nn[i, j])) for j in range(7))
            for i in range(3)
        ]
    )
    got = C.pirl_nce(a, p, negs, tau, num_data=n_data, log_z=log_z).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-4)
    # shared negatives [M, D] equal per-anchor copies
    shared = C.pirl_nce(a, p, negs[0], tau, num_data=n_data, log_z=log_z).numpy()
    tiled = C.pirl_nce(a, p, np.repeat(negs[:1], 3, 0), tau, num_data=n_data, log_z=log_z)
    np.testing.assert_allclose(shared, tiled.numpy(), rtol=1e-5)


def _np_amdim(anchors, loc, offset, clip=20.0):
    raw = np.einsum("iad,jld->iajl", anchors, loc) / np.sqrt(anchors.shape[-1])
    s = clip * np.tanh(raw / clip)
    ref = []
    for i in range(anchors.shape[0]):
        own = offset + i
        for a in range(anchors.shape[1]):
            negs = np.concatenate([s[i, a, j] for j in range(loc.shape[0]) if j != own])
            for k in range(loc.shape[1]):
                ref.append(_logsumexp(np.concatenate([[s[i, a, own, k]], negs])) - s[i, a, own, k])
    return np.mean(ref), np.mean(raw**2)


def test_amdim_nce_matches_numpy():
    rng = np.random.RandomState(5)
    g, loc = rng.randn(3, 4).astype("f4") * 3, rng.randn(3, 2, 4).astype("f4") * 3
    ref, sq = _np_amdim(g[:, None], loc, 0)
    nce, reg = C.amdim_nce(tf.constant(g), tf.constant(loc), clip=20.0, reg_weight=0.05)
    np.testing.assert_allclose(nce.numpy(), ref, rtol=1e-4)
    np.testing.assert_allclose(reg.numpy(), 0.05 * sq, rtol=1e-4)
    # several anchors per image, and a replica's slice of a larger gathered batch
    anchors, loc = rng.randn(2, 3, 4).astype("f4"), rng.randn(5, 2, 4).astype("f4")
    ref, _ = _np_amdim(anchors, loc, 2, clip=5.0)
    nce, _ = C.amdim_nce(anchors, loc, clip=5.0, offset=2)
    np.testing.assert_allclose(nce.numpy(), ref, rtol=1e-4)


@pytest.mark.parametrize("tau", [0.0, -0.1, None, "x"])
def test_bad_temperature_raises(tau):
    z = tf.random.normal((4, 3))
    with pytest.raises(ValueError, match="temperature"):
        C.nt_xent(z, z, temperature=tau)
    with pytest.raises(ValueError, match="temperature"):
        C.moco_loss(z, z, z, temperature=tau)

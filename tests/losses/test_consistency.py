import numpy as np
import pytest
import tensorflow as tf

from tfless.losses import consistency as C

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Every test draws its data from seed 0, whatever ran before it in this process
    (pytest-xdist hands a module's tests to workers in any order)."""
    global RNG
    RNG = np.random.default_rng(0)
    tf.random.set_seed(0)


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _probs(b=5, c=4):
    return _softmax(RNG.normal(size=(b, c)) * 2).astype(np.float32)


def test_ramps():
    steps = np.array([0, 25, 50, 100, 150], np.float32)
    ref = np.exp(-5 * (1 - np.clip(steps / 100, 0, 1)) ** 2)
    got = [float(C.sigmoid_rampup(s, 100)) for s in steps]
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    assert float(C.sigmoid_rampup(3, 0)) == 1.0
    np.testing.assert_allclose(
        [float(C.linear_rampup(s, 100)) for s in steps], [0, 0.25, 0.5, 1, 1]
    )
    np.testing.assert_allclose(
        [float(C.pseudo_label_rampup(s, 50, 150)) for s in steps], [0, 0, 0, 0.5, 1.0]
    )


def test_sharpen_matches_numpy():
    p = _probs()
    for t in (0.5, 1.0, 0.1):
        ref = p ** (1 / t) / (p ** (1 / t)).sum(-1, keepdims=True)
        np.testing.assert_allclose(np.asarray(C.sharpen(p, t)), ref, rtol=1e-4, atol=1e-7)
    hard = np.asarray(C.sharpen(p, 1e-3))
    np.testing.assert_allclose(hard.argmax(-1), p.argmax(-1))
    np.testing.assert_allclose(hard.max(-1), 1.0, atol=1e-5)


def test_distribution_alignment_matches_numpy():
    p = _probs()
    model = np.array([0.4, 0.3, 0.2, 0.1], np.float32)
    target = np.full(4, 0.25, np.float32)
    ref = p * target / model
    ref /= ref.sum(-1, keepdims=True)
    np.testing.assert_allclose(
        np.asarray(C.distribution_alignment(p, model, target)), ref, rtol=1e-5
    )
    # Aligning to the model's own marginal is the identity.
    np.testing.assert_allclose(np.asarray(C.distribution_alignment(p, model, model)), p, rtol=1e-5)


def test_confidence_mask_and_masked_cross_entropy():
    p = np.array([[0.96, 0.02, 0.02], [0.5, 0.3, 0.2], [0.01, 0.01, 0.98]], np.float32)
    labels, mask = C.confidence_mask(p, 0.95)
    np.testing.assert_array_equal(np.asarray(labels), [0, 0, 2])
    np.testing.assert_array_equal(np.asarray(mask), [1, 0, 1])
    logits = RNG.normal(size=(3, 3)).astype(np.float32)
    q = _softmax(logits.astype(np.float64))
    ref = np.mean(np.array([1, 0, 1]) * -np.log(q[[0, 1, 2], [0, 0, 2]]))
    got = float(C.masked_cross_entropy(np.asarray(labels), logits, np.asarray(mask)))
    assert got == pytest.approx(ref, rel=1e-5)


def test_soft_cross_entropy_mse_kl_entropy():
    logits = RNG.normal(size=(6, 5)).astype(np.float32)
    other = RNG.normal(size=(6, 5)).astype(np.float32)
    t = _probs(6, 5)
    q, r = _softmax(logits.astype(np.float64)), _softmax(other.astype(np.float64))
    assert float(C.soft_cross_entropy(t, logits)) == pytest.approx(
        np.mean(-(t * np.log(q)).sum(-1)), rel=1e-5
    )
    assert float(C.softmax_mse(logits, t)) == pytest.approx(np.mean((q - t) ** 2), rel=1e-5)
    assert float(C.kl_divergence_logits(logits, other)) == pytest.approx(
        np.mean((q * (np.log(q) - np.log(r))).sum(-1)), rel=1e-4
    )
    assert float(C.entropy_logits(logits)) == pytest.approx(
        np.mean(-(q * np.log(q)).sum(-1)), rel=1e-5
    )


def test_mixmatch_mixup_keeps_the_first_input_dominant():
    # float32 inputs and reference: the function computes in float32, and a float64
    # reference differs by more than rtol where the two terms nearly cancel.
    x1 = RNG.normal(size=(4, 3, 3, 1)).astype(np.float32)
    x2 = RNG.normal(size=(4, 3, 3, 1)).astype(np.float32)
    y1, y2 = _probs(4, 3), _probs(4, 3)
    lam = np.array([0.1, 0.5, 0.7, 0.95], np.float32)
    lp = np.maximum(lam, 1 - lam)
    x, y = C.mixmatch_mixup(x1, y1, x2, y2, lam)
    np.testing.assert_allclose(
        np.asarray(x), lp[:, None, None, None] * x1 + (1 - lp[:, None, None, None]) * x2, rtol=1e-5
    )
    np.testing.assert_allclose(np.asarray(y), lp[:, None] * y1 + (1 - lp[:, None]) * y2, rtol=1e-5)


def test_sample_beta_moments():
    tf.random.set_seed(0)
    s = np.asarray(C.sample_beta([20000], 0.75))
    assert s.min() >= 0 and s.max() <= 1
    # Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)).
    assert s.mean() == pytest.approx(0.5, abs=0.01)
    assert s.var() == pytest.approx(1 / (4 * 2.5), abs=0.01)


def _linear_softmax_hessian(w, x):
    """Hessian in r of KL(p(x) || p(x + r)) at r = 0 for logits = x W: W (diag p - p p^T) W^T."""
    p = _softmax(x @ w)
    return w @ (np.diag(p) - np.outer(p, p)) @ w.T


def test_vat_direction_one_iteration_is_hessian_times_start():
    w = RNG.normal(size=(6, 4))
    x = RNG.normal(size=(1, 6))
    d0 = RNG.normal(size=(1, 6))
    w_t = tf.constant(w, tf.float64)

    def logits_fn(inp):
        return tf.matmul(inp, w_t)

    xt = tf.constant(x, tf.float64)
    d = np.asarray(C.vat_direction(logits_fn, xt, logits_fn(xt), xi=1e-6, initial=tf.constant(d0)))[
        0
    ]
    h = _linear_softmax_hessian(w, x[0])
    ref = h @ (d0[0] / np.linalg.norm(d0[0]))
    np.testing.assert_allclose(d, ref / np.linalg.norm(ref), atol=1e-4)


def test_vat_direction_converges_to_top_eigenvector_float32():
    w = RNG.normal(size=(6, 4)) * 2
    x = RNG.normal(size=(3, 6)) * 0.3
    w_t = tf.constant(w, tf.float32)

    def logits_fn(inp):
        return tf.matmul(inp, w_t)

    xt = tf.constant(x, tf.float32)
    d = np.asarray(C.vat_direction(logits_fn, xt, logits_fn(xt), xi=1e-6, num_iterations=30))
    for i in range(3):
        vals, vecs = np.linalg.eigh(_linear_softmax_hessian(w, x[i]))
        assert vals[-1] > 1.5 * vals[-2]  # a clear gap, so the power method converges
        assert abs(np.dot(d[i], vecs[:, -1])) > 0.99
        assert np.linalg.norm(d[i]) == pytest.approx(1.0, abs=1e-5)


def test_label_diffusion_on_two_clusters():
    rng = np.random.default_rng(0)
    centers = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    feats = np.concatenate(
        [centers[0] + 0.1 * rng.normal(size=(20, 3)), centers[1] + 0.1 * rng.normal(size=(10, 3))]
    )
    truth = np.array([0] * 20 + [1] * 10)
    labeled = np.zeros(30, bool)
    labeled[[0, 20]] = True
    labels = np.where(labeled, truth, -1)
    pseudo, cert, cw, probs = C.label_diffusion(feats, labels, labeled, 2, k=5, alpha=0.99, gamma=3)
    np.testing.assert_array_equal(pseudo, truth)
    assert cert.shape == (30,) and np.all(cert >= 0) and np.all(cert <= 1 + 1e-6)
    assert cert[labeled].tolist() == [1.0, 1.0]
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    # Class weights are the inverse class frequencies N / (C |L_c|).
    np.testing.assert_allclose(cw, [30 / (2 * 20), 30 / (2 * 10)], rtol=1e-6)
    ent = -(probs * np.log(np.maximum(probs, 1e-12))).sum(1)
    np.testing.assert_allclose(cert[~labeled], 1 - ent[~labeled] / np.log(2), rtol=1e-4)


def test_label_diffusion_matches_dense_solve():
    """The CG solution equals the closed form (I - alpha W_n)^-1 Y on a small graph."""
    rng = np.random.default_rng(1)
    feats = rng.normal(size=(12, 4))
    labeled = np.zeros(12, bool)
    labeled[[0, 1, 2]] = True
    labels = np.array([0, 1, 2] + [-1] * 9)
    k, alpha, gamma = 4, 0.9, 3.0
    _, _, _, probs = C.label_diffusion(
        feats,
        labels,
        labeled,
        3,
        k=k,
        alpha=alpha,
        gamma=gamma,
        max_iterations=200,
        tol=1e-10,
        chunk=5,  # several row blocks
    )
    v = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    s = v @ v.T
    np.fill_diagonal(s, -np.inf)
    a = np.zeros((12, 12))
    for i in range(12):
        nn = np.argsort(-s[i])[:k]
        a[i, nn] = np.maximum(s[i, nn], 0) ** gamma
    w = a + a.T
    np.fill_diagonal(w, 0)
    dinv = 1 / np.sqrt(w.sum(1))
    wn = dinv[:, None] * w * dinv[None]
    y = np.zeros((12, 3))
    y[[0, 1, 2], [0, 1, 2]] = 1
    z = np.maximum(np.linalg.solve(np.eye(12) - alpha * wn, y), 0)
    ref = z / z.sum(1, keepdims=True)
    np.testing.assert_allclose(probs, ref, rtol=1e-4, atol=1e-6)

"""SLA losses against NumPy references and hand-computed values."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfless.losses import sla


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _ce(labels, logits):
    return -_log_softmax(logits)[np.arange(len(labels)), labels]


def _conditional(joint, m):
    """NumPy [B, M, N]: copy j's logits over the columns i * M + j."""
    b = joint.shape[0] // m
    n = joint.shape[1] // m
    out = np.zeros((b, m, n))
    for bi in range(b):
        for j in range(m):
            out[bi, j] = [joint[bi * m + j, i * m + j] for i in range(n)]
    return out


RNG = np.random.RandomState(0)
JOINT = RNG.randn(3 * 4, 5 * 4).astype("float32")  # B=3, M=4, N=5
LABELS = np.array([4, 0, 2], "int32")


def test_joint_labels_are_y_times_m_plus_j():
    np.testing.assert_array_equal(sla.joint_labels(np.array([2, 0]), 3), [6, 7, 8, 0, 1, 2])
    np.testing.assert_array_equal(sla.repeat_labels(np.array([2, 0]), 2), [2, 2, 0, 0])
    np.testing.assert_array_equal(sla.transform_labels(2, 3), [0, 1, 2, 0, 1, 2])


def test_single_and_aggregated_logits_match_numpy():
    cond = _conditional(JOINT.astype(np.float64), 4)
    np.testing.assert_allclose(sla.single_logits(JOINT, 4), cond[:, 0], rtol=1e-6)
    np.testing.assert_allclose(sla.aggregated_logits(JOINT, 4), cond.mean(1), rtol=1e-5, atol=1e-6)


def test_aggregation_equals_mean_conditional_log_probability_not_mean_probability():
    cond = _conditional(JOINT.astype(np.float64), 4)
    agg = np.asarray(sla.aggregated_logits(JOINT, 4), np.float64)
    mean_logp = _log_softmax(cond).mean(1)  # mean_j log P(i | t_j(x), j)
    diff = agg - mean_logp
    # Equal up to one constant per example, so equal after softmax.
    np.testing.assert_allclose(diff, diff[:, :1].repeat(5, 1), atol=1e-5)
    np.testing.assert_allclose(_log_softmax(agg), _log_softmax(mean_logp), atol=1e-5)
    # Not the average of the conditional probabilities.
    mean_p = np.exp(_log_softmax(cond)).mean(1)
    assert np.abs(np.exp(_log_softmax(agg)) - mean_p).max() > 1e-2


def test_sla_loss_is_mean_joint_cross_entropy():
    ref = _ce(np.repeat(LABELS, 4) * 4 + np.tile(np.arange(4), 3), JOINT).mean()
    assert float(sla.sla_loss(JOINT, LABELS, 4)) == pytest.approx(ref, rel=1e-5)
    w = np.array([0.5, 2.0, 1.0], "float32")
    ref_w = np.repeat(w, 4) * _ce(np.repeat(LABELS, 4) * 4 + np.tile(np.arange(4), 3), JOINT)
    assert float(sla.sla_loss(JOINT, LABELS, 4, w)) == pytest.approx(ref_w.mean(), rel=1e-5)


# A hand-worked example: B = 1, N = 2 classes, M = 2 transformations, label 0.
# Columns are (i, j) = (0,0), (0,1), (1,0), (1,1).
HAND_JOINT = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]], "float32")
HAND_SINGLE = np.array([[math.log(3.0), 0.0]], "float32")  # P = (3/4, 1/4)


def test_self_distillation_loss_hand_computed():
    # Joint labels (0, 1): CE row 0 = log(e + 3) - 1, row 1 = log(e + 3).
    joint = math.log(math.e + 3) - 0.5
    # Copy 0 given j=0 scores (1, 0), copy 1 given j=1 scores (0, 1): aggregate (1/2, 1/2),
    # a uniform teacher.
    single = math.log(4 / 3)
    distill = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    total, parts = sla.self_distillation_loss(HAND_JOINT, HAND_SINGLE, np.array([0]), 2)
    assert float(parts["joint"]) == pytest.approx(joint, rel=1e-6)
    assert float(parts["single"]) == pytest.approx(single, rel=1e-6)
    assert float(parts["distill"]) == pytest.approx(distill, rel=1e-5)
    assert float(total) == pytest.approx(joint + single + distill, rel=1e-6)
    # T = 2: the student is softened to (sqrt3, 1) / (sqrt3 + 1); the KL is scaled by T^2.
    s3 = math.sqrt(3.0)
    q = (s3 / (s3 + 1), 1 / (s3 + 1))
    kl_t2 = 4 * (0.5 * math.log(0.5 / q[0]) + 0.5 * math.log(0.5 / q[1]))
    _, parts2 = sla.self_distillation_loss(HAND_JOINT, HAND_SINGLE, np.array([0]), 2, 2.0)
    assert float(parts2["distill"]) == pytest.approx(kl_t2, rel=1e-5)


def test_distillation_teacher_gets_no_gradient():
    joint = tf.Variable(HAND_JOINT)
    single = tf.Variable(HAND_SINGLE)
    with tf.GradientTape(persistent=True) as tape:
        _, parts = sla.self_distillation_loss(joint, single, np.array([0]), 2)
    assert tape.gradient(parts["distill"], joint) is None
    # d KL / d student = softmax(student) - teacher = (3/4 - 1/2, 1/4 - 1/2).
    np.testing.assert_allclose(tape.gradient(parts["distill"], single), [[0.25, -0.25]], atol=1e-6)


def test_da_and_mt_losses_match_numpy():
    logits = RNG.randn(12, 5).astype("float32")
    tlogits = RNG.randn(12, 4).astype("float32")
    da_ref = _ce(np.repeat(LABELS, 4), logits).mean()
    assert float(sla.da_loss(logits, LABELS, 4)) == pytest.approx(da_ref, rel=1e-5)
    t_ref = _ce(np.tile(np.arange(4), 3), tlogits).mean()
    total, parts = sla.mt_loss(logits, tlogits, LABELS, 4)
    assert float(parts["transform"]) == pytest.approx(t_ref, rel=1e-5)
    assert float(total) == pytest.approx(da_ref + t_ref, rel=1e-5)


def test_class_balanced_weights():
    np.testing.assert_allclose(sla.class_balanced_weights([0.5, 0.25, 0.25]), [0.6, 1.2, 1.2])
    np.testing.assert_allclose(sla.class_balanced_weights([10, 10]), [1.0, 1.0])
    with pytest.raises(ValueError, match=r"positive frequency for every class; got \[1.0, 0.0\]"):
        sla.class_balanced_weights([1, 0])

"""SLA family: each objective learns on tiny digits, inference modes, weights, bad input."""

import numpy as np
import pytest
import tensorflow as tf

from tests.testing import run_method_learns, tiny_encoder
from tfless.data import digits_arrays
from tfless.losses import sla as sla_losses
from tfless.methods import METHODS, SLA, SLASelfDistillation
from tfless.methods.sla import SLA_METHODS, TransformAugmentation, TransformMultiTask

X, Y = digits_arrays("train")
XT, YT = digits_arrays("test")


def _train_batches(batch_size=32):
    ds = tf.data.Dataset.from_tensor_slices({"image": X, "label": Y})
    return ds.shuffle(len(X), seed=0).repeat().batch(batch_size, drop_remainder=True)


def _test_accuracy(method, inference=None):
    if inference is not None:
        method.inference = inference
    # Top-1 accuracy of eager logits: what ``evaluate`` reports, without tracing a test step.
    logits = np.asarray(method.logits(tf.constant(XT), training=False))
    return float(np.mean(np.argmax(logits, axis=-1) == YT))


@pytest.mark.parametrize(
    "cls, extra, bound",
    [
        # Rotation-invariance is a hard task on digits (a turned 6 is a 9): the paper's
        # point; twice chance is asked of DA and MT.
        (TransformAugmentation, {}, 0.2),
        (TransformMultiTask, {}, 0.2),
        (SLA, {"inference": "single"}, 0.4),
        (SLASelfDistillation, {"inference": "aggregated"}, 0.4),
    ],
    ids=["da", "mt", "sla", "sla_sd"],
)
def test_each_objective_learns_on_digits(cls, extra, bound):
    method = cls(tiny_encoder((8, 8, 1), (8, 16), bn_momentum=0.8), 10)
    run_method_learns(method, _train_batches(), steps=6, steps_per_epoch=10, lr=1e-2, seed=0)
    acc = _test_accuracy(method)
    assert acc > bound  # chance is 0.1
    for mode in extra.values():  # the other inference of the same model learned too
        other = _test_accuracy(method, mode)
        assert other > 0.2 and other != acc, (mode, other, acc)


def test_sla_inference_modes_read_the_joint_head():
    method = SLA(tiny_encoder((8, 8, 1), (4,)), 3, transforms="rotation2")
    images = tf.constant(X[:5])
    joint = np.asarray(method.joint_logits(images))
    agg = np.asarray(method.logits(images))
    np.testing.assert_allclose(agg, sla_losses.aggregated_logits(joint, 2), rtol=1e-5, atol=1e-6)
    method.inference = "single"
    single = np.asarray(method.logits(images))
    np.testing.assert_allclose(single, joint[::2, ::2], rtol=1e-5, atol=1e-6)
    # The exported head (features -> N logits) is SLA+SI.
    feats = method.encoder(images)
    np.testing.assert_allclose(method.head(feats), single, rtol=1e-5, atol=1e-6)
    assert method.head(feats).shape == (5, 3)


def test_class_balanced_weights_enter_the_loss():
    dist = [0.5, 0.3, 0.2]
    method = SLASelfDistillation(
        tiny_encoder((8, 8, 1), (4,)), 3, class_balanced=True, label_distribution=dist
    )
    batch = {"image": X[:6], "label": np.array([0, 1, 2, 0, 1, 2], "int32")}
    loss = float(method.compute_loss(x=batch, training=False))
    feats = method.expanded_features(tf.constant(batch["image"]))
    w = sla_losses.class_balanced_weights(dist)[batch["label"]]
    ref, _ = sla_losses.self_distillation_loss(
        method.joint_head(feats), method.head(feats[::4]), batch["label"], 4, 1.0, w
    )
    assert loss == pytest.approx(float(ref), rel=1e-5)
    plain = SLASelfDistillation(tiny_encoder((8, 8, 1), (4,)), 3)
    assert float(plain.compute_loss(x=batch, training=False)) != pytest.approx(loss, rel=1e-3)


def test_registry_and_bad_input():
    assert {k: METHODS[k] for k in SLA_METHODS} == SLA_METHODS
    gray = tiny_encoder((8, 8, 1), (4,))
    with pytest.raises(ValueError, match=r"'color_perm3' permutes colour channels.*1 channel"):
        SLA(gray, 10, transforms="color_perm3")
    with pytest.raises(ValueError, match=r"Unknown transformation set 'rot'. Expected one of"):
        TransformAugmentation(gray, 10, transforms="rot")
    with pytest.raises(ValueError, match=r"Unknown SLA inference 'mean'.*'aggregated', 'single'"):
        SLA(gray, 10, inference="mean")
    with pytest.raises(ValueError, match="needs label_distribution"):
        TransformMultiTask(gray, 10, class_balanced=True)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        SLASelfDistillation(gray, 10, temperature=0.0)
    rgb = tiny_encoder((8, 8, 3), (4,))
    assert SLA(rgb, 10, transforms="rot_color_perm12").joint_head.units == 120


def test_two_replicas_train_as_one(mirrored_strategy):
    # SLA+SD runs every piece of the family: the expansion, the joint and the single heads.
    from tests.testing import run_mirrored_equivalence

    batch = {"image": X[:8], "label": Y[:8]}
    run_mirrored_equivalence(
        lambda: SLASelfDistillation(tiny_encoder((8, 8, 1), (4,), seed=None), 10),
        batch,
        mirrored_strategy,
        steps=2,
        keys=("loss", "xent"),
    )

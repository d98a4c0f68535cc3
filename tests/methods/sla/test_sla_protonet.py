"""Few-shot SLA (Prototypical Networks on joint class x transformation prototypes): the joint
prototypes, scores, loss and aggregation against NumPy; it learns novel glyph classes; two
replicas train it as one device does."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import run_mirrored_equivalence, tiny_encoder
from tfless.data.episodes import EpisodeSampler, episode_batch
from tfless.data.glyphs import glyph_arrays
from tfless.losses.sla import aggregated_logits
from tfless.methods import METHODS, ProtoNet, SLAProtoNet
from tfless.methods.sla.sla_protonet import aggregated_episode_logits

SHAPE = (8, 8, 1)


def _tiny_episode(episodes=2, ways=3, shots=2, queries=2, seed=0):
    x = np.random.default_rng(seed).uniform(size=(ways * 2 * 5, *SHAPE)).astype(np.float32)
    labels = np.repeat(np.arange(ways * 2), 5)
    return episode_batch(
        x, labels, ways=ways, shots=shots, queries=queries, episodes=episodes, seed=seed
    )


def _reference_joint(encoder, batch, ways, m=4, training=False):
    """NumPy joint scores ``[E, N*Q*M, N*M]``: every quarter-turn copy of the support and
    query images embedded in one batch (one set of batch-norm statistics), joint prototype
    ``i*M+j`` the mean of the K support copies of class ``i`` under ``t_j``."""
    sup, qry = batch["support_image"], batch["query_image"]
    e, s, q = sup.shape[0], sup.shape[1], qry.shape[1]
    flat = np.concatenate([sup.reshape(e * s, *SHAPE), qry.reshape(e * q, *SHAPE)])
    copies = np.concatenate([np.rot90(flat, k, axes=(1, 2)) for k in range(m)])
    z = encoder(copies, training=training).numpy().reshape(m, e * (s + q), -1)
    zs = z[:, : e * s].reshape(m, e, s, -1).transpose(1, 2, 0, 3)  # [E, S, M, D]
    zq = z[:, e * s :].reshape(m, e, q, -1).transpose(1, 2, 0, 3)
    labels = batch["support_label"]
    protos = np.stack(
        [np.stack([zs[i][labels[i] == c].mean(0) for c in range(ways)]) for i in range(e)]
    ).reshape(e, ways * m, -1)  # column c*M+j
    rows = zq.reshape(e, q * m, -1)  # row q*M+j
    return -((rows[:, :, None] - protos[:, None]) ** 2).sum(-1)


def test_joint_prototypes_scores_loss_and_aggregation_match_numpy():
    ways, shots, queries, m = 3, 2, 2, 4
    batch = _tiny_episode(ways=ways, shots=shots, queries=queries)
    method = SLAProtoNet(tiny_encoder(SHAPE))
    args = (batch["support_image"], batch["support_label"], batch["query_image"], ways)
    joint = method.joint_logits(*args).numpy()
    ref = _reference_joint(method.encoder, batch, ways)
    np.testing.assert_allclose(joint, ref, rtol=1e-4, atol=1e-3)

    # SLA+AG: s_i = mean_j of copy j's score for prototype (i, j).
    z = ref.reshape(2, ways * queries, m, ways, m)
    agg = np.mean([z[:, :, j, :, j] for j in range(m)], axis=0)
    logits = method.episode_logits(*args).numpy()
    np.testing.assert_allclose(logits, agg, rtol=1e-4, atol=1e-3)
    # The episode form equals the batch form of tfless.losses.sla.
    flat = aggregated_logits(tf.constant(ref.reshape(-1, ways * m), tf.float32), m)
    np.testing.assert_allclose(
        aggregated_episode_logits(tf.constant(ref, tf.float32), m).numpy(),
        flat.numpy().reshape(agg.shape),
        rtol=1e-6,
    )
    # Averaging the scores = averaging the conditional log-probabilities log P(i | t_j x, j)
    # (softmax over i of column j), not the probabilities (scores spread enough to differ).
    wide = np.random.default_rng(1).normal(scale=3.0, size=(1, 2 * m, ways * m))
    zw = wide.reshape(1, 2, m, ways, m)
    cond = np.stack([zw[:, :, j, :, j] for j in range(m)], axis=2)  # [E, Q, M, N]
    logp = cond - np.log(np.exp(cond).sum(-1, keepdims=True))
    soft = tf.nn.softmax(aggregated_episode_logits(tf.constant(wide, tf.float32), m)).numpy()
    np.testing.assert_allclose(soft, tf.nn.softmax(logp.mean(2)).numpy(), rtol=1e-4, atol=1e-6)
    probs_avg = np.exp(logp).mean(2)
    assert not np.allclose(soft, probs_avg / probs_avg.sum(-1, keepdims=True), atol=1e-2)

    # Training loss: cross-entropy of the query copies over the N*M joint classes.
    loss = float(method.compute_loss(x=batch, training=False))
    jl = (batch["query_label"][:, :, None] * m + np.arange(m)).reshape(2, -1)
    top = ref.max(-1, keepdims=True)
    logp_joint = ref - top - np.log(np.exp(ref - top).sum(-1, keepdims=True))
    picked = np.take_along_axis(logp_joint, jl[..., None], -1)
    np.testing.assert_allclose(loss, -picked.mean(), rtol=1e-4)
    # The tracked training accuracy is the N-way accuracy of the aggregated prediction.
    hits = np.argmax(agg, -1) == batch["query_label"]
    np.testing.assert_allclose(float(method.accuracy_tracker.result()), hits.mean(), rtol=1e-6)

    # SLA+SI: ProtoNet on the untransformed images with the same encoder, scored by the
    # frozen-feature protonet head at evaluation.
    method.inference = "single"
    assert method.fewshot_head == "protonet"
    single = method.episode_logits(*args).numpy()
    np.testing.assert_allclose(single, z[:, :, 0, :, 0], rtol=1e-4, atol=1e-3)
    proto = ProtoNet(method.encoder).episode_logits(*args).numpy()
    np.testing.assert_array_equal(single, proto)
    method.inference = "aggregated"
    assert method.fewshot_head is None
    # In training mode the batch-norm statistics are those of all copies of both sets.
    train_joint = method.joint_logits(*args, training=True).numpy()
    train_ref = _reference_joint(method.encoder, batch, ways, training=True)
    np.testing.assert_allclose(train_joint, train_ref, rtol=1e-4, atol=1e-3)


def _glyphs(split, count, size=10):
    """The first ``count`` classes of a glyph split, resized to ``size`` x ``size``."""
    x, y = glyph_arrays(split)
    keep = y < y.min() + count
    x = tf.image.resize(x[keep].astype(np.float32) / 255.0, (size, size), antialias=True)
    return x.numpy().clip(0, 1), y[keep]


def test_learns_novel_glyph_classes():
    base, novel = _glyphs("train", 40), _glyphs("test", 20)
    # 50 test episodes, 5-way 1-shot on the novel classes: chance is 20%.
    test = episode_batch(*novel, ways=5, shots=1, queries=5, episodes=50, seed=1)
    # A fast batch-norm average, so that inference-mode features follow a short run.
    method = SLAProtoNet(tiny_encoder((10, 10, 1), bn_momentum=0.5))
    args = [tf.constant(test[k]) for k in ("support_image", "support_label", "query_image")]

    def accuracy():  # eager: cheaper than tracing for two calls
        logits = method.episode_logits(*args, 5).numpy()
        return float(np.mean(np.argmax(logits, -1) == test["query_label"]))

    before = accuracy()
    # Eager steps: 15 of them cost less than tracing the training step.
    method.compile(optimizer=keras.optimizers.Adam(1e-2), run_eagerly=True)
    sampler = EpisodeSampler(*base, ways=5, shots=2, queries=3, seed=0)
    hist = method.fit(sampler.dataset(2), steps_per_epoch=15, epochs=1, verbose=0).history
    after = accuracy()
    assert np.isfinite(hist["loss"]).all()
    # Clearly above chance and above the untrained encoder's accuracy.
    assert after > 0.35 and after > before + 0.08, (before, after)


def test_mirrored_matches_one_device(mirrored_strategy):
    batch = _tiny_episode(ways=3, shots=1, queries=1, seed=3)
    run_mirrored_equivalence(
        lambda: SLAProtoNet(tiny_encoder(SHAPE, (4,), seed=None)),
        batch,
        mirrored_strategy,
        steps=2,
        keys=("loss", "accuracy"),
    )


def test_registered_and_bad_arguments_are_refused():
    assert METHODS["sla_protonet"] is SLAProtoNet
    encoder = tiny_encoder(SHAPE, seed=None)
    with pytest.raises(ValueError, match="inference 'mean'"):
        SLAProtoNet(encoder, inference="mean")
    with pytest.raises(ValueError, match="colour channels"):
        SLAProtoNet(encoder, transforms="color_perm3")
    with pytest.raises(ValueError, match="Unknown transformation set 'flip'"):
        SLAProtoNet(encoder, transforms="flip")
    assert SLAProtoNet(encoder, transforms="rotation2").m == 2

"""ProtoNet, Matching Networks, Baseline and Baseline++ learn features that transfer to
novel classes, and train under MirroredStrategy as on one device."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import run_mirrored_equivalence, tiny_encoder
from tfless.data.episodes import EpisodeSampler, episode_batch
from tfless.data.glyphs import glyph_arrays
from tfless.evaluation.fewshot import FewShotSettings, evaluate_fewshot
from tfless.evaluation.finetuning import recompute_batch_norm
from tfless.methods import METHODS, Baseline, BaselinePP, MatchingNet, ProtoNet
from tfless.methods.fewshot.episodic import embed_sets

SIZE = 14
SHAPE = (SIZE, SIZE, 1)
# 5-way 1-shot on held-out classes: chance is 20%.
TEST = FewShotSettings(ways=5, shots=(1,), queries=10, episodes=100, heads=())


@pytest.fixture(scope="module")
def glyph_split():
    """100 background classes (base) and 30 evaluation classes (novel) at 14x14."""

    def load(split, count):
        x, y = glyph_arrays(split)
        keep = y < y.min() + count
        x = tf.image.resize(x[keep].astype(np.float32) / 255.0, (SIZE, SIZE), antialias=True)
        return x.numpy().clip(0, 1), y[keep]

    return load("train", 100), load("test", 30)


def _novel_accuracy(method, base, novel):
    # Inference-mode features: batch-norm statistics of base images, as the trainer's
    # final evaluation measures them after a short run.
    recompute_batch_norm(method.encoder, base[0])
    return evaluate_fewshot(method, *novel, TEST)["fewshot_5way1shot_accuracy"]


def _learns(method, data, base, novel, steps, lr=1e-2):
    before = _novel_accuracy(method, base, novel)
    method.compile(optimizer=keras.optimizers.Adam(lr))
    hist = method.fit(data, steps_per_epoch=steps, epochs=1, verbose=0).history
    after = _novel_accuracy(method, base, novel)
    assert np.isfinite(hist["loss"]).all()
    # Clearly above chance (20%) and clearly above the untrained encoder's own accuracy.
    assert after > 0.35 and after > before + 0.08, (before, after)


@pytest.mark.parametrize(
    "build,shots,steps",
    [
        (lambda: ProtoNet(tiny_encoder(SHAPE)), 5, 40),
        (lambda: MatchingNet(tiny_encoder(SHAPE), fce=False, attention_scale=10.0), 5, 40),
    ],
    ids=["protonet", "matching_net"],
)
def test_episodic_methods_learn_novel_classes(glyph_split, build, shots, steps):
    base, novel = glyph_split
    keras.utils.set_random_seed(0)
    sampler = EpisodeSampler(*base, ways=5, shots=shots, queries=5, seed=0)
    _learns(build(), sampler.dataset(2), base, novel, steps)


@pytest.mark.parametrize("cls", [Baseline, BaselinePP])
def test_baselines_pretrain_and_fit_new_heads_on_novel_classes(glyph_split, cls):
    base, novel = glyph_split
    x, y = base
    keep = y < y.min() + 20
    keras.utils.set_random_seed(0)
    method = cls(tiny_encoder(SHAPE), num_classes=int(y.max()) + 1)
    assert method.scale == 2.0  # at most 200 classes
    ds = tf.data.Dataset.from_tensor_slices({"image": x[keep], "label": y[keep]})
    _learns(method, ds.shuffle(400, seed=0).repeat().batch(32), base, novel, 100)


def test_protonet_logits_are_negative_distances_to_class_means():
    x = np.random.default_rng(0).uniform(size=(40, *SHAPE)).astype(np.float32)
    batch = episode_batch(x, np.repeat(np.arange(8), 5), ways=4, shots=2, queries=3, episodes=2)
    method = ProtoNet(tiny_encoder(SHAPE))
    logits = method.episode_logits(
        batch["support_image"], batch["support_label"], batch["query_image"], 4
    ).numpy()
    z = method.encoder(batch["support_image"].reshape(-1, *SHAPE)).numpy().reshape(2, 8, -1)
    q = method.encoder(batch["query_image"].reshape(-1, *SHAPE)).numpy().reshape(2, 12, -1)
    protos = np.stack(
        [[z[e][batch["support_label"][e] == n].mean(0) for n in range(4)] for e in range(2)]
    )
    ref = -((q[:, :, None] - protos[:, None]) ** 2).sum(-1)
    np.testing.assert_allclose(logits, ref, rtol=1e-4, atol=1e-4)
    assert logits.shape == (2, 12, 4)


def test_matching_net_is_invariant_to_relabelling_the_support_classes():
    x = np.random.default_rng(1).uniform(size=(30, *SHAPE)).astype(np.float32)
    batch = episode_batch(x, np.repeat(np.arange(6), 5), ways=3, shots=2, queries=2)
    keras.utils.set_random_seed(0)
    method = MatchingNet(tiny_encoder(SHAPE), fce=False)
    args = (batch["support_image"], batch["support_label"], batch["query_image"], 3)
    perm = np.array([2, 0, 1])
    relabelled = (args[0], perm[batch["support_label"]], args[2], 3)
    a, b = method.episode_logits(*args).numpy(), method.episode_logits(*relabelled).numpy()
    np.testing.assert_allclose(b[..., perm], a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.exp(a).sum(-1), 1.0, rtol=1e-5)


def test_baseline_full_finetune_leaves_the_encoder_unchanged():
    x = np.random.default_rng(2).uniform(size=(20, *SHAPE)).astype(np.float32)
    batch = episode_batch(x, np.repeat(np.arange(4), 5), ways=2, shots=2, queries=2)
    method = Baseline(tiny_encoder(SHAPE), num_classes=4, finetune_epochs=3, full_finetune=True)
    assert method.fewshot_head is None
    start = [w.copy() for w in method.encoder.get_weights()]
    logits = method.episode_logits(
        batch["support_image"], batch["support_label"], batch["query_image"], 2
    )
    assert logits.shape == (1, 4, 2) and np.isfinite(logits.numpy()).all()
    for a, b in zip(start, method.encoder.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_registered_and_bad_arguments_are_refused():
    for name in ("protonet", "matching_net", "baseline", "baseline_pp"):
        assert name in METHODS
    enc = tiny_encoder(SHAPE)
    with pytest.raises(ValueError, match="num_classes"):
        Baseline(enc, num_classes=1)
    with pytest.raises(ValueError, match="fce_steps"):
        MatchingNet(enc, fce_steps=0)
    assert BaselinePP(enc, num_classes=201).scale == 10.0


@pytest.mark.parametrize(
    "build",
    [lambda: ProtoNet(tiny_encoder(SHAPE)), lambda: MatchingNet(tiny_encoder(SHAPE), fce=False)],
    ids=["protonet", "matching_net"],
)
def test_mirrored_matches_one_device(build, mirrored_strategy):
    x = np.random.default_rng(3).uniform(size=(60, *SHAPE)).astype(np.float32)
    batch = episode_batch(x, np.repeat(np.arange(12), 5), ways=3, shots=1, queries=2, episodes=2)
    run_mirrored_equivalence(build, batch, mirrored_strategy, steps=2, keys=("loss", "accuracy"))


@pytest.mark.parametrize("cls", [Baseline, BaselinePP])
def test_baselines_mirrored_match_one_device(cls, mirrored_strategy):
    rng = np.random.default_rng(6)
    batch = {
        "image": rng.uniform(size=(8, 8, 8, 1)).astype(np.float32),
        "label": np.arange(8, dtype=np.int32) % 4,
    }

    def build():
        method = cls(tiny_encoder(widths=(4,)), num_classes=4)
        method.logits(batch["image"][:1])  # creates the head's variables
        return method

    run_mirrored_equivalence(build, batch, mirrored_strategy, steps=2, keys=("loss", "accuracy"))


def test_embed_sets_keeps_sets_apart():
    enc = keras.Sequential([keras.Input(SHAPE), keras.layers.Flatten()])
    a = np.random.default_rng(4).uniform(size=(2, 3, *SHAPE)).astype(np.float32)
    b = np.random.default_rng(5).uniform(size=(2, 4, *SHAPE)).astype(np.float32)
    za, zb = embed_sets(enc, [tf.constant(a), tf.constant(b)])
    np.testing.assert_array_equal(za.numpy(), a.reshape(2, 3, -1))
    np.testing.assert_array_equal(zb.numpy(), b.reshape(2, 4, -1))

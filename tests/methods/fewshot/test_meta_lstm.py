"""Meta-learner LSTM: SGD when the gates are fixed, the preprocessing, the initialization,
per-episode batch-norm statistics, learning on novel digit classes, two replicas against one
device."""

import keras
import numpy as np
import tensorflow as tf

from tests.testing import run_mirrored_equivalence, tiny_encoder
from tfless.data import digits_arrays
from tfless.data.episodes import EpisodeSampler, episode_batch
from tfless.methods.fewshot.meta_lstm import MetaLSTM, preprocess


def _support(ways=3, shots=2):
    x, y = digits_arrays("train")
    return episode_batch(x[y < 5], y[y < 5], ways=ways, shots=shots, queries=2, episodes=2)


def test_preprocess_matches_numpy():
    p = 10.0
    x = np.array([3.0, -0.5, 1e-6, -1e-6, 0.0, np.exp(-p), -2e-5], np.float32)
    big = np.abs(x) >= np.exp(-p)
    want_first = np.where(big, np.log(np.maximum(np.abs(x), np.exp(-p))) / p, -1.0)
    want_second = np.where(big, np.sign(x), np.exp(p) * x)
    got = preprocess(x, p).numpy()
    np.testing.assert_allclose(got[:, 0], want_first, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[:, 1], want_second, rtol=1e-5, atol=1e-6)


def test_update_is_plain_sgd_when_gates_are_fixed():
    lr, steps = 0.3, 3
    method = MetaLSTM(tiny_encoder(widths=(4, 8)), ways=3, inner_steps=steps)
    method.gates = lambda h, c, f, i: (tf.ones_like(c), lr * tf.ones_like(c))
    batch = _support()
    support, labels = batch["support_image"][0], batch["support_label"][0]
    adapted, _ = method.adapt(support, labels)
    start = [p.numpy() for p in method.learner.parameters()]
    # Plain SGD with Keras' optimizer on the learner's own variables, from the same start.
    variables = method.learner.parameter_variables()
    sgd = keras.optimizers.SGD(lr)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            feats = method.encoder(support, training=True)
            logits = tf.matmul(feats, method.learner.kernel) + method.learner.bias
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
            )
        sgd.apply(tape.gradient(loss, variables), variables)
    for v, a in zip(variables, adapted):
        np.testing.assert_allclose(a.numpy(), v.numpy(), rtol=1e-4, atol=1e-5, err_msg=v.path)
    moved = max(float(np.abs(a.numpy() - b).max()) for a, b in zip(adapted, start))
    assert moved > 1e-3


def test_initialization_starts_as_sgd_with_a_small_rate():
    method = MetaLSTM(tiny_encoder(widths=(4, 8)), ways=3)
    assert 4.0 <= float(method.forget_bias.numpy()[0]) <= 5.0
    assert -5.0 <= float(method.input_bias.numpy()[0]) <= -4.0
    for w in (method.forget_kernel, method.input_kernel, method.lstm_kernel):
        assert np.abs(w.numpy()).max() <= 0.01
    n = 7
    f, i = method.gates(tf.zeros([n, 20]), tf.zeros([n, 1]), tf.zeros([n, 1]), tf.zeros([n, 1]))
    assert np.all(f.numpy() > 0.98) and np.all((i.numpy() > 0.006) & (i.numpy() < 0.02))


def test_batch_norm_statistics_are_reset_per_episode():
    method = MetaLSTM(tiny_encoder(widths=(4, 8)), ways=3, inner_steps=2)
    batch = _support()
    args = (batch["support_image"][:1], batch["support_label"][:1], batch["query_image"][:1], 3)
    first = method.episode_logits(*args).numpy()
    # The encoder's own moving statistics play no part in an episode...
    for v in method.encoder.non_trainable_variables:
        v.assign(v.numpy() + 5.0)
    np.testing.assert_allclose(method.episode_logits(*args).numpy(), first, rtol=1e-5, atol=1e-5)
    # ...and neither does an episode adapted before it.
    both = method.episode_logits(
        batch["support_image"][::-1], batch["support_label"][::-1], batch["query_image"][::-1], 3
    ).numpy()
    np.testing.assert_allclose(both[1], first[0], rtol=1e-5, atol=1e-5)


def test_meta_lstm_learns_on_novel_classes():
    x, y = digits_arrays("train")
    base = y < 5
    train = EpisodeSampler(x[base], y[base], ways=5, shots=5, queries=5, seed=0)
    novel = EpisodeSampler(x[~base], y[~base], ways=5, shots=5, queries=5, seed=1)
    method = MetaLSTM(tiny_encoder(), ways=5, inner_steps=5)
    # A large meta learning rate: in 25 meta-steps the input gate must rise from its SGD-like
    # start (i ~ 0.01) to a rate that trains the learner within 5 updates.
    method.compile(optimizer=keras.optimizers.Adam(0.1))
    logits_fn = tf.function(method.episode_logits)
    test = novel.meta_batch(0, 20)  # 20 episodes of the novel digits 5-9, 500 queries

    def novel_accuracy():
        logits = logits_fn(test["support_image"], test["support_label"], test["query_image"], 5)
        return float(np.mean(np.argmax(logits, -1) == test["query_label"]))

    before = novel_accuracy()
    history = method.fit(train.dataset(2), steps_per_epoch=25, epochs=1, verbose=0)
    after = novel_accuracy()
    assert np.isfinite(history.history["loss"][-1])
    # Chance is 20%; the untrained meta-learner is at chance (its updates are tiny).
    assert after > 0.35 and after > before + 0.1, (before, after)
    assert float(method.input_bias.numpy()[0]) > -4.0  # the learned rate went up


def test_two_replicas_train_as_one_device(mirrored_strategy):
    # Each replica adapts one of the two episodes; the summed meta-gradients must equal the
    # one-device meta-gradient of both.
    run_mirrored_equivalence(
        lambda: MetaLSTM(tiny_encoder(widths=(4,)), ways=3, inner_steps=1),
        _support(shots=1),
        mirrored_strategy,
        sync_batch_norm=False,
        keys=("loss", "accuracy"),
    )

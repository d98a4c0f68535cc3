"""MAML: the meta-gradient against finite differences and the first-order formula, learning on
novel digit classes, two replicas against one device, bad input."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import run_mirrored_equivalence, tiny_encoder
from tfless.data import digits_arrays
from tfless.data.episodes import EpisodeSampler, episode_batch
from tfless.methods.fewshot.maml import MAML


def _tiny_float64_maml(first_order: bool, steps: int = 2, **kwargs):
    """A 2x2-pixel learner (Dense + batch norm) in float64, so finite differences are exact
    to ~1e-8."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input((2, 2, 1), dtype="float64")
    x = keras.layers.Flatten(dtype="float64")(inputs)
    x = keras.layers.Dense(4, dtype="float64")(x)
    x = keras.layers.BatchNormalization(dtype="float64")(x)
    x = keras.layers.Activation("tanh", dtype="float64")(x)
    encoder = keras.Model(inputs, x)
    encoder.feature_dim = 4
    return MAML(
        encoder,
        ways=2,
        inner_steps=steps,
        inner_lr=0.5,
        first_order=first_order,
        dtype="float64",
        **kwargs,
    )


def _tiny_batch():
    rng = np.random.default_rng(0)
    return {
        "support_image": rng.normal(size=(2, 4, 2, 2, 1)),
        "support_label": np.array([[0, 0, 1, 1]] * 2, np.int32),
        "query_image": rng.normal(size=(2, 6, 2, 2, 1)),
        "query_label": np.array([[0, 0, 0, 1, 1, 1]] * 2, np.int32),
    }


def _numpy_loss(method, batch) -> float:
    return float(method.compute_loss(x=batch, training=True))


def _finite_difference(method, batch, direction, eps=1e-5) -> float:
    variables = method.optimized_variables()
    start = [v.numpy() for v in variables]
    values = []
    for sign in (1.0, -1.0):
        for v, s, d in zip(variables, start, direction):
            v.assign(s + sign * eps * d)
        values.append(_numpy_loss(method, batch))
    for v, s in zip(variables, start):
        v.assign(s)
    return (values[0] - values[1]) / (2 * eps)


def test_second_order_meta_gradient_matches_finite_differences():
    method = _tiny_float64_maml(first_order=False)
    batch = _tiny_batch()
    _, _, grads = method.meta_gradients(batch)
    rng = np.random.default_rng(1)
    variables = method.optimized_variables()
    assert {v.path.split("/")[-1] for v in variables} >= {"gamma", "beta", "kernel", "bias"}
    for _ in range(3):
        direction = [rng.normal(size=v.shape) for v in variables]
        analytic = sum(float(np.sum(g.numpy() * d)) for g, d in zip(grads, direction))
        numeric = _finite_difference(method, batch, direction)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_first_order_meta_gradient_is_the_query_gradient_at_the_adapted_parameters():
    method = _tiny_float64_maml(first_order=True)
    batch = _tiny_batch()
    _, _, grads = method.meta_gradients(batch)
    # The first-order formula, written out: the mean over episodes of dL_query/dtheta'
    # evaluated at theta' = the adapted parameters, with no derivative of the adaptation.
    expected = [np.zeros(v.shape) for v in method.optimized_variables()]
    learner = method.learner
    for e in range(2):
        adapted = method.adapt(batch["support_image"][e], batch["support_label"][e], 2)
        adapted = [tf.constant(p.numpy()) for p in adapted]
        with tf.GradientTape() as tape:
            tape.watch(adapted)
            logits, _ = learner.logits(
                adapted, learner.initial_state(), batch["query_image"][e], training=True
            )
            labels = batch["query_label"][e]
            logp = tf.nn.log_softmax(logits)
            loss = -tf.reduce_mean(tf.gather(logp, labels, axis=1, batch_dims=1))
        for i, g in enumerate(tape.gradient(loss, adapted)):
            expected[i] += g.numpy() / 2
    by_var = {id(v): i for i, v in enumerate(learner.parameter_variables())}
    for v, g in zip(method.optimized_variables(), grads):
        np.testing.assert_allclose(g.numpy(), expected[by_var[id(v)]], rtol=1e-10, atol=1e-12)
    # ...and it is not the second-order gradient (so the two tests tell them apart).
    second = _tiny_float64_maml(first_order=False)
    _, _, grads2 = second.meta_gradients(batch)
    gap = max(float(np.abs(a.numpy() - b.numpy()).max()) for a, b in zip(grads, grads2))
    assert gap > 1e-3, gap


def test_inner_loop_is_plain_gradient_descent_on_the_support_loss():
    method = _tiny_float64_maml(first_order=True, steps=1)
    batch = _tiny_batch()
    support, labels = batch["support_image"][0], batch["support_label"][0]
    adapted = method.adapt(support, labels, 1)
    variables = method.learner.parameter_variables()
    with tf.GradientTape() as tape:
        feats = method.encoder(support, training=True)
        logits = tf.matmul(feats, method.learner.kernel) + method.learner.bias
        onehot = np.eye(2)[labels]
        loss = -tf.reduce_mean(tf.reduce_sum(onehot * tf.nn.log_softmax(logits), -1))
    grads = tape.gradient(loss, variables)
    for v, g, a, adapt in zip(variables, grads, adapted, method.learner.adapted):
        want = v.numpy() - 0.5 * g.numpy() if adapt else v.numpy()
        np.testing.assert_allclose(a.numpy(), want, rtol=1e-10, atol=1e-12, err_msg=v.path)
    # Batch-norm scales and offsets are meta-learned but not adapted (the reference code).
    assert [v.path.split("/")[-1] for v, a in zip(variables, method.learner.adapted) if not a] == [
        "gamma",
        "beta",
    ]


def test_per_step_batch_norm_gives_each_inner_step_its_own_scales_and_offsets():
    method = _tiny_float64_maml(first_order=False, steps=2, per_step_batch_norm=True)
    bn = method.encoder.layers[-2]
    gamma, beta = method.step_norms.values()  # [2, 4] each: inner steps 0 and 1
    assert gamma.shape == (2, 4) and np.all(gamma.numpy() == 1.0) and np.all(beta.numpy() == 0)
    sets = [(1.5, 0.2), (0.6, -0.3), (1.2, 0.1)]  # steps 0, 1, then the query pass
    gamma.assign(np.array([[sets[0][0]] * 4, [sets[1][0]] * 4]))
    beta.assign(np.array([[sets[0][1]] * 4, [sets[1][1]] * 4]))
    bn.gamma.assign(np.full(4, sets[2][0]))
    bn.beta.assign(np.full(4, sets[2][1]))
    batch = _tiny_batch()
    support, labels = batch["support_image"][0], batch["support_label"][0]
    got = method.query_logits(support, labels, batch["query_image"][0], training=True).numpy()
    # By hand: plain Keras forward passes with the step's set loaded into the layer.
    learner = method.learner
    adapted = [v for v, a in zip(learner.parameter_variables(), learner.adapted) if a]
    for g, b in sets[:2]:
        bn.gamma.assign(np.full(4, g))
        bn.beta.assign(np.full(4, b))
        with tf.GradientTape() as tape:
            logits = tf.matmul(method.encoder(support, training=True), learner.kernel)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits + learner.bias)
            )
        for v, grad in zip(adapted, tape.gradient(loss, adapted)):
            v.assign(v - 0.5 * grad)
    bn.gamma.assign(np.full(4, sets[2][0]))
    bn.beta.assign(np.full(4, sets[2][1]))
    feats = method.encoder(batch["query_image"][0], training=True)
    want = (tf.matmul(feats, learner.kernel) + learner.bias).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_per_step_batch_norm_sets_get_their_own_meta_gradients():
    method = _tiny_float64_maml(first_order=False, steps=2, per_step_batch_norm=True)
    batch = _tiny_batch()
    _, _, grads = method.meta_gradients(batch)
    by_var = {id(v): g.numpy() for v, g in zip(method.optimized_variables(), grads)}
    for v in method.step_norms.values():
        g = by_var[id(v)]
        assert np.abs(g).min() > 0 and np.abs(g[0] - g[1]).max() > 1e-6, (v.path, g)
    # Second order through the per-step sets: the gradient matches finite differences.
    variables = method.optimized_variables()
    sets = [id(v) for v in method.step_norms.values()]
    rng = np.random.default_rng(2)
    direction = [rng.normal(size=v.shape) * (id(v) in sets) for v in variables]
    analytic = sum(float(np.sum(by_var[id(v)] * d)) for v, d in zip(variables, direction))
    np.testing.assert_allclose(analytic, _finite_difference(method, batch, direction), rtol=1e-5)
    with pytest.raises(ValueError, match="adapt_batch_norm"):
        MAML(tiny_encoder(), per_step_batch_norm=True, adapt_batch_norm=True)


def _digit_samplers(shots=5):
    x, y = digits_arrays("train")
    base = y < 5
    train = EpisodeSampler(x[base], y[base], ways=5, shots=shots, queries=5, seed=0)
    novel = EpisodeSampler(x[~base], y[~base], ways=5, shots=shots, queries=5, seed=1)
    return train, novel


def _novel_accuracy(logits_fn, batch) -> float:
    logits = logits_fn(batch["support_image"], batch["support_label"], batch["query_image"], 5)
    return float(np.mean(np.argmax(logits, -1) == batch["query_label"]))


def test_maml_learns_on_novel_classes():
    train, novel = _digit_samplers()
    method = MAML(tiny_encoder(), ways=5, inner_steps=1, inner_lr=0.4, test_inner_steps=3)
    method.compile(optimizer=keras.optimizers.Adam(3e-3))
    logits_fn = tf.function(method.episode_logits)
    test = novel.meta_batch(0, 20)  # 20 episodes of the novel digits 5-9, 500 queries
    before = _novel_accuracy(logits_fn, test)
    history = method.fit(train.dataset(2), steps_per_epoch=25, epochs=1, verbose=0)
    after = _novel_accuracy(logits_fn, test)
    assert np.isfinite(history.history["loss"][-1])
    # Chance is 20%; meta-training must improve on adapting the random initialization.
    assert after > 0.45 and after > before + 0.05, (before, after)


def test_two_replicas_train_as_one_device(mirrored_strategy):
    x, y = digits_arrays("train")
    batch = episode_batch(x[y < 5], y[y < 5], ways=3, shots=1, queries=2, episodes=2)
    one, two, h1, _ = run_mirrored_equivalence(
        lambda: MAML(tiny_encoder(widths=(4,)), ways=3, inner_steps=1, inner_lr=0.4),
        batch,
        mirrored_strategy,
        sync_batch_norm=False,
        keys=("loss", "accuracy"),
    )
    assert h1["loss"][0] > 0


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="inner_lr"):
        MAML(tiny_encoder(), inner_lr=0)
    with pytest.raises(ValueError, match="synchronized"):
        MAML(tiny_encoder(bn_synchronized=True))
    method = MAML(tiny_encoder(), ways=3)
    x, y = digits_arrays("train")
    batch = episode_batch(x, y, ways=5, shots=1, queries=1)
    with pytest.raises(ValueError, match="3-way"):
        method.episode_logits(
            batch["support_image"], batch["support_label"], batch["query_image"], 5
        )

"""Adversarial AutoAugment: the adversarial game, target learning, bad input."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfless.augment import adversarial
from tfless.backbones import build_backbone
from tfless.data import digits_arrays
from tfless.methods.augment import AdversarialAutoAugment


def _encoder(widths=(16, 32)):
    enc = build_backbone("convnet", (8, 8, 1), widths=widths)
    for layer in enc.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.8
    return enc


def _digits_stream(n=200, batch=32):
    x, y = digits_arrays("train")
    ds = tf.data.Dataset.from_tensor_slices({"image": x[:n], "label": y[:n]})
    return ds.repeat().shuffle(n, seed=0).batch(batch, drop_remainder=True)


def test_controller_learns_to_raise_the_target_loss():
    """Against a frozen digit classifier, the controller's expected target loss grows."""
    keras.utils.set_random_seed(0)
    model = AdversarialAutoAugment(
        _encoder(),
        num_classes=10,
        num_policies=6,
        ops=("Identity", "Invert", "Brightness"),
        num_subpolicies=1,
        ops_per_subpolicy=1,
        magnitude_bins=6,
        controller_hidden=16,
        controller_learning_rate=0.05,
        entropy_weight=0.0,
    )
    ds = _digits_stream()
    # A target that knows clean digits, then frozen (learning rate 0) for the game.
    pretrain = keras.optimizers.Adam(1e-2)

    @tf.function
    def clean_step(batch):
        with tf.GradientTape() as tape:
            logits = model.logits(batch["image"], training=True)
            loss = tf.reduce_mean(
                keras.losses.sparse_categorical_crossentropy(batch["label"], logits, True)
            )
        variables = model.target_variables
        pretrain.apply(tape.gradient(loss, variables), variables)

    for batch in ds.take(40):
        clean_step(batch)
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    # The 18 possible policies (3 ops x 6 magnitudes) are deterministic here, so the
    # controller's expected target loss is an exact sum over them.
    actions = np.array([[o, m] for o in range(3) for m in range(6)], np.int32)
    x, y = digits_arrays("test")
    probe_x, probe_y = tf.constant(x[:64]), tf.constant(y[:64])
    losses = []
    for a in actions:
        copies = adversarial.augment_with_policies(
            probe_x, model.space.tables(a[None]), model.space
        )
        logits = model.logits(copies, training=False)
        losses.append(
            float(
                tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(probe_y, logits, True))
            )
        )
    losses = np.array(losses)

    def expected_loss():
        probs = np.exp(model.controller.log_prob(actions)[0].numpy())
        return float(np.sum(probs * losses) / np.sum(probs))

    before = expected_loss()
    step = tf.function(model.train_step)
    for batch in ds.take(25):
        step(batch)
    after = expected_loss()
    assert after > before + 0.25 * (losses.max() - before), (before, after, losses.max())


def test_target_learns_and_policies_decode():
    keras.utils.set_random_seed(1)
    model = AdversarialAutoAugment(
        _encoder(),
        num_classes=10,
        num_policies=2,
        ops=("Rotate", "ShearX", "TranslateY", "Contrast"),
        num_subpolicies=1,
        magnitude_bins=5,
        controller_hidden=16,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    hist = model.fit(_digits_stream(), steps_per_epoch=15, epochs=3, verbose=0).history
    assert hist["xent"][-1] < 0.7 * hist["xent"][0]
    assert hist["reward_loss_spread"][0] > 0.0
    x, y = digits_arrays("test")
    acc = model.evaluate(
        tf.data.Dataset.from_tensor_slices({"image": x, "label": y}).batch(270),
        verbose=0,
        return_dict=True,
    )["accuracy"]
    assert acc > 0.4
    policy = model.current_policy()
    assert (
        len(policy) == 1
        and len(policy[0]) == 2
        and all(p == 1.0 and 0 <= m <= 4 for sub in policy for _, p, m in sub)
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_policies=1), "num_policies"),
        (dict(ops=()), "non-empty"),
        (dict(ops=("Rotate", "Twist")), "unknown augmentation op 'Twist'"),
        (dict(controller_learning_rate=0.0), "controller_learning_rate"),
        (dict(num_subpolicies=0), "num_subpolicies"),
        (dict(entropy_weight=-1.0), "entropy_weight"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdversarialAutoAugment(_encoder((4, 8)), num_classes=10, controller_hidden=4, **kwargs)

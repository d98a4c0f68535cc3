"""The few-shot evaluation protocol: confidence intervals, heads on frozen features of any
encoder, a method's own episodes, ``evaluate_encoder(..., ("fewshot",))``, bad splits."""

import dataclasses

import numpy as np
import pytest

from tfless.evaluation import DEFAULTS, evaluate_encoder
from tfless.evaluation.fewshot import (
    FewShotSettings,
    confidence_interval,
    evaluate_fewshot,
    head_accuracies,
)

RNG = np.random.default_rng(0)
HEADS = ("protonet", "baseline", "baseline_pp")


def _clustered_images(classes=8, per_class=20, noise=0.15):
    """Images [M, 4, 4, 1] around one random pattern per class."""
    centres = RNG.uniform(size=(classes, 4, 4, 1))
    labels = np.repeat(np.arange(classes) + 100, per_class)
    x = centres[labels - 100] + noise * RNG.normal(size=(len(labels), 4, 4, 1))
    return x.astype(np.float32), labels


def flatten(images):
    return np.asarray(images).reshape(len(images), -1)


def test_confidence_interval_is_1_96_std_over_sqrt_n():
    acc = RNG.uniform(size=600)
    mean, ci = confidence_interval(acc)
    assert mean == pytest.approx(acc.mean())
    assert ci == pytest.approx(1.96 * np.sqrt(np.mean((acc - acc.mean()) ** 2)) / np.sqrt(600))
    assert confidence_interval([0.5, 0.5]) == (0.5, 0.0)


def test_heads_on_a_plain_callable_encoder_separate_clean_classes():
    x, y = _clustered_images()
    settings = FewShotSettings(ways=5, shots=(1, 5), queries=5, episodes=30, heads=HEADS)
    out = evaluate_fewshot(flatten, x, y, settings)
    for shots in (1, 5):
        for head in HEADS:
            key = f"fewshot_5way{shots}shot_{head}"
            # Chance is 20%; the trained heads take 100 epochs of SGD 0.01 on small features.
            assert out[f"{key}_accuracy"] > 0.7, (key, out)
            assert 0 <= out[f"{key}_ci95"] < 0.1
    # Pure noise features: chance level (20%), within a few points.
    noise = evaluate_fewshot(
        lambda im: RNG.normal(size=(len(im), 8)),
        x,
        y,
        dataclasses.replace(settings, heads=("protonet",)),
    )
    assert 0.1 < noise["fewshot_5way1shot_protonet_accuracy"] < 0.3


def test_episodes_are_deterministic_in_the_seed():
    x, y = _clustered_images(noise=1.0)
    settings = FewShotSettings(ways=5, shots=(1,), queries=3, episodes=20, heads=("protonet",))
    a = evaluate_fewshot(flatten, x, y, settings)
    b = evaluate_fewshot(flatten, x, y, settings)
    c = evaluate_fewshot(flatten, x, y, dataclasses.replace(settings, seed=1))
    assert a == b and a != c


def test_head_accuracies_are_per_episode():
    support = np.eye(3, dtype=np.float32)[None].repeat(2, 0)
    labels = np.tile(np.arange(3), (2, 1))
    query_label = np.array([[0, 1, 2], [1, 1, 1]])
    acc = head_accuracies("protonet", support, labels, support, query_label, 3)
    np.testing.assert_allclose(acc, [1.0, 1 / 3])
    with pytest.raises(ValueError, match="Unknown few-shot head"):
        head_accuracies("svm", support, labels, support, query_label, 3)


class _EpisodeModel:
    """A few-shot 'method' without a feature head: nearest support image by L1 distance."""

    def episode_logits(self, support_image, support_label, query_image, ways, training=False):
        import tensorflow as tf

        s = tf.reshape(support_image, [tf.shape(support_image)[0], support_image.shape[1], -1])
        q = tf.reshape(query_image, [tf.shape(query_image)[0], query_image.shape[1], -1])
        d = tf.reduce_sum(tf.abs(q[:, :, None] - s[:, None]), -1)
        onehot = tf.one_hot(support_label, ways)
        return tf.einsum("eqs,esn->eqn", tf.exp(-d * 10.0), onehot)


def test_a_methods_own_episode_logits_are_scored():
    x, y = _clustered_images()
    settings = FewShotSettings(ways=5, shots=(1,), queries=5, episodes=40, heads=())
    out = evaluate_fewshot(_EpisodeModel(), x, y, settings)
    assert set(out) == {"fewshot_5way1shot_accuracy", "fewshot_5way1shot_ci95"}
    assert out["fewshot_5way1shot_accuracy"] > 0.9


def test_fewshot_is_a_protocol_of_evaluate_encoder_without_train_data():
    x, y = _clustered_images()
    settings = dataclasses.replace(
        DEFAULTS, fewshot_shots=(1,), fewshot_queries=5, fewshot_episodes=20
    )
    out = evaluate_encoder(flatten, None, (x, y), ("fewshot",), settings=settings)
    assert {f"fewshot_5way1shot_{h}_accuracy" for h in HEADS} <= set(out)


def test_bad_splits_fail_before_any_episode():
    x, y = _clustered_images(classes=4)
    with pytest.raises(ValueError, match="ways=5"):
        evaluate_fewshot(flatten, x, y, FewShotSettings(ways=5, shots=(1,)))
    with pytest.raises(ValueError, match="images"):
        evaluate_fewshot(flatten, x, y, FewShotSettings(ways=3, shots=(5,), queries=16))
    with pytest.raises(ValueError, match="heads"):
        FewShotSettings(heads=("knn",))

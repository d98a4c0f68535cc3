"""``evaluate_encoder``: every protocol on tiny data, with bars a broken protocol misses."""

import dataclasses
import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfless.backbones import build_backbone
from tfless.evaluation import (
    DEFAULTS,
    ProtocolSettings,
    check_protocols,
    evaluate_encoder,
    has_classifier,
    knn_features,
    linear_probe_features,
)

CLASSES = 10


def _blobs(per_class, seed):
    """Images ``[N, 2, 4, 1]`` whose pixels are 8-d Gaussian blobs, one per class."""
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(CLASSES, 8)) * 3.0
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(CLASSES), per_class)
    x = centers[y] + rng.normal(size=(len(y), 8))
    return x.reshape(-1, 2, 4, 1).astype(np.float32), y


def flatten(images):
    """The identity encoder: features are the pixels."""
    return np.reshape(np.asarray(images), (len(images), -1))


@pytest.fixture(scope="module")
def blobs():
    return _blobs(30, seed=1), _blobs(20, seed=2)


def test_defaults_are_the_published_values_and_used_by_the_building_blocks():
    assert (DEFAULTS.knn_k, DEFAULTS.knn_temperature) == (200, 0.1)  # arXiv:1805.01978
    assert DEFAULTS.finetune_fractions == (0.01, 0.1, 1.0)
    knn = inspect.signature(knn_features).parameters
    assert knn["k"].default == DEFAULTS.knn_k
    assert knn["temperature"].default == DEFAULTS.knn_temperature
    assert inspect.signature(linear_probe_features).parameters["c"].default == DEFAULTS.probe_c
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULTS.knn_k = 20
    with pytest.raises(ValueError, match="knn_k"):
        ProtocolSettings(knn_k=0)
    with pytest.raises(ValueError, match="finetune_fractions"):
        ProtocolSettings(finetune_fractions=(0.0,))


def test_frozen_feature_protocols_separate_separable_classes(blobs):
    settings = dataclasses.replace(DEFAULTS, few_label_per_class=(3, 10))
    res = evaluate_encoder(flatten, *blobs, ("linear", "knn", "few_label"), settings=settings)
    assert set(res) == {
        "linear_accuracy",
        "linear_train_accuracy",
        "knn_accuracy",
        "linear_3pc_accuracy",
        "linear_10pc_accuracy",
    }
    assert all(v > 0.9 for v in res.values()), res


def test_random_labels_stay_near_chance(blobs):
    rng = np.random.default_rng(0)
    (x, y), (xt, yt) = blobs
    shuffled = (x, rng.permutation(y)), (xt, rng.permutation(yt))
    res = evaluate_encoder(flatten, *shuffled, ("linear", "knn", "few_label"))
    for key in ("linear_accuracy", "knn_accuracy", "linear_10pc_accuracy"):
        assert res[key] < 0.3, res  # chance 0.1


def test_knn_follows_its_settings(blobs):
    """k and T come from the settings: k=1 is the nearest neighbour's label."""
    (x, y), (xt, yt) = blobs
    settings = dataclasses.replace(DEFAULTS, knn_k=1)
    res = evaluate_encoder(flatten, (x, y), (x, y), ("knn",), settings=settings)
    assert res["knn_accuracy"] == 1.0  # every training point is its own nearest neighbour
    default = evaluate_encoder(flatten, (x, y), (xt, yt), ("knn",))
    assert default == knn_features(flatten(x), y, flatten(xt), yt, k=200, temperature=0.1)


def test_datasets_batched_or_not_give_the_arrays_results(blobs):
    (x, y), test = blobs
    ds = tf.data.Dataset.from_tensor_slices({"image": x, "label": y, "index": np.arange(len(y))})
    ref = evaluate_encoder(flatten, (x, y), test, ("linear", "knn"))
    assert evaluate_encoder(flatten, ds, test, ("linear", "knn")) == ref
    assert evaluate_encoder(flatten, ds.batch(7), test, ("linear", "knn")) == ref


def test_accuracy_of_a_method_is_its_own_test_step(classifier, digits):
    _, _, xt, yt = digits
    assert has_classifier(classifier) and not has_classifier(classifier.encoder)
    test = tf.data.Dataset.from_tensor_slices({"image": xt, "label": yt}).batch(100)
    res = evaluate_encoder(classifier, None, test, ("accuracy",))
    logs = classifier.evaluate(test, verbose=0, return_dict=True)
    assert res == {"test_accuracy": logs["accuracy"], "test_loss": logs["loss"]}
    assert res["test_accuracy"] > 0.5  # chance 0.1
    by_hand = np.mean(np.argmax(classifier.logits(xt), -1) == yt)
    assert res["test_accuracy"] == pytest.approx(by_hand, abs=1e-6)
    # Arrays are batched by settings.batch_size: the same accuracy.
    arrays = evaluate_encoder(classifier, None, (xt, yt), ("accuracy",))
    assert arrays["test_accuracy"] == pytest.approx(by_hand, abs=1e-6)
    runner_calls = []

    def runner(model, ds):
        runner_calls.append(model)
        return {"accuracy": 0.25, "loss": 1.5}

    custom = evaluate_encoder(classifier, None, test, ("accuracy",), run_test_steps=runner)
    assert runner_calls == [classifier] and custom == {"test_accuracy": 0.25, "test_loss": 1.5}


def test_accuracy_of_an_export_uses_its_logits_signature(
    classifier, digits, tmp_path, save_toy_export
):
    _, _, xt, yt = digits
    save_toy_export(tmp_path, classifier.encoder, head=classifier.head)
    loaded = tf.saved_model.load(str(tmp_path))
    assert has_classifier(loaded)
    by_hand = np.mean(np.argmax(classifier.logits(xt), -1) == yt)
    for encoder in (loaded, str(tmp_path)):
        res = evaluate_encoder(encoder, None, (xt, yt), ("accuracy",))
        assert res["test_accuracy"] == pytest.approx(by_hand, abs=1e-6)


def test_finetune_improves_a_tiny_encoder(digits):
    x, y, xt, yt = digits
    keras.utils.set_random_seed(0)
    encoder = build_backbone("convnet", (8, 8, 1), widths=(4, 8))
    before = [np.array(w) for w in encoder.weights]
    test, acc = (xt[:200], yt[:200]), {}
    for steps in (1, 100):
        settings = dataclasses.replace(
            DEFAULTS, finetune_fractions=(1.0,), finetune_steps=steps, finetune_learning_rate=1e-2
        )
        res = evaluate_encoder(encoder, (x, y), test, ("finetune",), settings=settings)
        assert res["finetune_labels_100%"] == len(y)
        acc[steps] = res["finetune_100%"]
    assert acc[100] > 0.5 and acc[100] > acc[1] + 0.3, acc  # chance 0.1
    for a, b in zip(before, encoder.weights, strict=True):
        np.testing.assert_array_equal(a, np.array(b))  # a copy was fine-tuned


def test_plot_and_precise_bn(blobs, trained_encoder, digits, tmp_path):
    path = str(tmp_path / "tsne.png")
    res = evaluate_encoder(flatten, None, blobs[1], ("plot",), plot_path=path, plot_title="t")
    assert res == {"embedding_plot": path}
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    x, y, xt, yt = digits
    copy = keras.models.clone_model(trained_encoder)
    copy.set_weights(trained_encoder.get_weights())
    moving = [np.array(w) for w in copy.weights if "moving" in w.path]
    res = evaluate_encoder(copy, (x, y), (xt, yt), ("knn",), precise_bn=True)
    assert res["precise_bn_layers"] == 2 and res["knn_accuracy"] > 0.5
    after = [np.array(w) for w in copy.weights if "moving" in w.path]
    assert moving and not any(np.allclose(a, b) for a, b in zip(moving, after, strict=True))


def test_bad_calls_name_the_problem(blobs, trained_encoder):
    with pytest.raises(ValueError, match="Unknown protocol"):
        evaluate_encoder(flatten, *blobs, ("linear", "umap"))
    with pytest.raises(ValueError, match="Unknown protocol"):
        evaluate_encoder(flatten, *blobs, ())
    assert check_protocols(" knn,linear,knn") == ("knn", "linear")
    with pytest.raises(ValueError, match="classifier head"):
        evaluate_encoder(trained_encoder, *blobs, ("accuracy",))
    with pytest.raises(ValueError, match="plot_path"):
        evaluate_encoder(flatten, *blobs, ("plot",))
    with pytest.raises(ValueError, match="train data is None"):
        evaluate_encoder(flatten, None, blobs[1], ("knn",))
    with pytest.raises(ValueError, match="precise_bn needs a Keras encoder"):
        evaluate_encoder(flatten, *blobs, ("knn",), precise_bn=True)
    with pytest.raises(ValueError, match=r"\(images, labels\) pair"):
        evaluate_encoder(flatten, {"image": 1}, blobs[1], ("knn",))
    with pytest.raises(ValueError, match="N labels"):
        evaluate_encoder(flatten, (blobs[0][0], blobs[0][1][:5]), blobs[1], ("knn",))
    unlabeled = tf.data.Dataset.from_tensor_slices({"image": blobs[0][0]})
    with pytest.raises(ValueError, match="'image', 'label'"):
        evaluate_encoder(flatten, unlabeled, blobs[1], ("knn",))

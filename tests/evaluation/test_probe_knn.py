import keras
import numpy as np
import pytest
import tensorflow as tf

from tfless.evaluation import (
    evaluate_encoder,
    extract_features,
    feature_fn,
    knn_features,
    knn_predict,
    linear_probe_features,
)


def weights_of(model):
    return [np.array(w) for w in model.weights]


def knn_reference(bank, labels, test, k, tau, num_classes):
    """Loop-per-test-point weighted kNN (Wu et al. 2018)."""
    bank = bank / np.linalg.norm(bank, axis=1, keepdims=True)
    test = test / np.linalg.norm(test, axis=1, keepdims=True)
    out = np.zeros([len(test), num_classes])
    for i, t in enumerate(test):
        sims = bank @ t
        order = np.argsort(-sims, kind="stable")[:k]
        for j in order:
            out[i, labels[j]] += np.exp(sims[j] / tau)
    return out


def test_knn_matches_numpy_reference():
    rng = np.random.default_rng(0)
    bank = rng.normal(size=(50, 6)).astype(np.float32)
    labels = rng.integers(0, 4, size=50)
    test = rng.normal(size=(13, 6)).astype(np.float32)
    for k in (1, 7, 50, 80):
        got = knn_predict(bank, labels, test, k=k, temperature=0.1, num_classes=4, chunk_size=5)
        ref = knn_reference(bank, labels, test, min(k, 50), 0.1, 4)
        # knn_predict rescales each row by a positive constant (stability); compare normalised.
        np.testing.assert_allclose(
            got / got.sum(1, keepdims=True), ref / ref.sum(1, keepdims=True), rtol=1e-4
        )
        np.testing.assert_array_equal(got.argmax(1), ref.argmax(1))


def test_probe_and_knn_beat_chance_and_leave_encoder_unchanged(trained_encoder, digits):
    x, y, xt, yt = digits
    before = weights_of(trained_encoder)
    res = evaluate_encoder(trained_encoder, (x, y), (xt, yt), ("linear", "knn"))
    after = weights_of(trained_encoder)
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)
    assert res["linear_accuracy"] > 0.8, res
    assert res["knn_accuracy"] > 0.5, res  # chance is 0.1


def test_shuffled_labels_are_near_chance(trained_encoder, digits):
    x, y, xt, yt = digits
    f, ft = extract_features(trained_encoder, x), extract_features(trained_encoder, xt)
    rng = np.random.default_rng(0)
    ys, yts = rng.permutation(y), rng.permutation(yt)
    lin = linear_probe_features(f, ys, ft, yts)["linear_accuracy"]
    knn = knn_features(f, ys, ft, yts)["knn_accuracy"]
    assert lin < 0.2 and knn < 0.2, (lin, knn)


def test_any_encoder_kind_gives_the_same_features(
    trained_encoder, digits, tmp_path, save_toy_export
):
    x = digits[0][:20]
    ref = np.asarray(trained_encoder(x, training=False))
    save_toy_export(tmp_path, trained_encoder)
    kinds = {
        "keras": trained_encoder,
        "path": str(tmp_path),
        "loaded": tf.saved_model.load(str(tmp_path)),
        "tfsm": keras.layers.TFSMLayer(str(tmp_path), call_endpoint="serving_default"),
        "callable": lambda im: trained_encoder(im, training=False),
    }
    for name, enc in kinds.items():
        np.testing.assert_allclose(
            extract_features(enc, x, batch_size=7), ref, atol=1e-5, err_msg=name
        )


def test_bad_inputs_raise_value_error(trained_encoder, digits, tmp_path):
    x, y, xt, yt = digits
    f = np.ones([10, 4], np.float32)
    with pytest.raises(ValueError, match="not a SavedModel"):
        feature_fn(str(tmp_path))
    with pytest.raises(ValueError, match="Cannot evaluate"):
        feature_fn(42)
    with pytest.raises(ValueError, match=r"\[N, H, W, C\]"):
        extract_features(trained_encoder, x[0])
    with pytest.raises(ValueError, match="differ in length"):
        linear_probe_features(f, np.zeros(9), f, np.zeros(10))
    with pytest.raises(ValueError, match="k must be"):
        knn_predict(f, np.zeros(10), f, k=0)
    with pytest.raises(ValueError, match="temperature must be"):
        knn_predict(f, np.zeros(10), f, temperature=0.0)
    with pytest.raises(ValueError, match="at least 2 classes"):
        linear_probe_features(f, np.zeros(10), f, np.zeros(10))

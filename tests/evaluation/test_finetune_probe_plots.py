import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfless.evaluation import (
    OnlineLinearProbe,
    embedding_plot,
    extract_features,
    finetune,
    label_subset,
    markdown_table,
    write_results,
)
from tfless.methods.pretext import Rotation


def test_label_subset_is_class_balanced():
    labels = np.repeat(np.arange(10), 100)
    idx = label_subset(labels, 0.1, seed=0)
    assert len(idx) == 100 and np.all(np.bincount(labels[idx]) == 10)
    assert len(label_subset(labels, 0.001)) == 10  # at least one per class
    assert len(label_subset(labels, 1.0)) == 1000
    with pytest.raises(ValueError, match="label fraction"):
        label_subset(labels, 0.0)


def test_finetune_learns_and_copies_the_encoder(trained_encoder, digits, tmp_path):
    x, y, xt, yt = digits
    before = [np.array(w) for w in trained_encoder.weights]
    out = finetune(trained_encoder, x, y, xt[:200], yt[:200], fractions=(0.1, 1.0), steps=30)
    assert out["finetune_labels_10%"] == 130 and out["finetune_labels_100%"] == len(y)
    assert out["finetune_10%"] > 0.5 and out["finetune_100%"] > 0.5, out  # chance 0.1
    for a, b in zip(before, trained_encoder.weights, strict=True):
        np.testing.assert_array_equal(a, np.array(b))


def test_finetune_a_savedmodel_export(trained_encoder, digits, tmp_path, save_toy_export):
    x, y, xt, yt = digits
    save_toy_export(tmp_path, trained_encoder)
    out = finetune(
        str(tmp_path), x, y, xt[:200], yt[:200], fractions=(1.0,), steps=60, learning_rate=5e-3
    )
    # The export runs batch norm in inference mode with the toy encoder's immature moving
    # statistics, so the bar is lower than for a Keras encoder. Chance: 0.1.
    assert out["finetune_100%"] > 0.3, out


def test_finetune_bad_input(trained_encoder, digits):
    x, y, xt, yt = digits
    with pytest.raises(ValueError, match="Cannot fine-tune"):
        finetune(lambda im: im, x, y, xt, yt, fractions=(1.0,), steps=1)
    with pytest.raises(ValueError, match="steps"):
        finetune(trained_encoder, x, y, xt, yt, steps=0)


def test_online_probe_logs_probe_accuracy(digits):
    x, y, xt, yt = digits
    keras.utils.set_random_seed(0)
    from tfless.backbones import build_backbone

    method = Rotation(build_backbone("convnet", (8, 8, 1), widths=(8, 16)))
    method.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    probe = OnlineLinearProbe(x[:300], y[:300], xt[:200], yt[:200], every_n_epochs=2)
    ds = tf.data.Dataset.from_tensor_slices({"image": x}).repeat().batch(32)
    hist = method.fit(ds, steps_per_epoch=3, epochs=4, callbacks=[probe], verbose=0)
    assert [e for e, _ in probe.history] == [1, 3]
    assert len(hist.history["probe_accuracy"]) == 2
    assert all(0.3 < a <= 1 for _, a in probe.history), probe.history  # chance 0.1
    with pytest.raises(ValueError, match="every_n_epochs"):
        OnlineLinearProbe(x, y, xt, yt, every_n_epochs=0)


def test_embedding_plot_and_reports(trained_encoder, digits, tmp_path):
    _, _, xt, yt = digits
    f = extract_features(trained_encoder, xt[:80])
    path = embedding_plot(f, yt[:80], str(tmp_path / "tsne.png"), title="toy")
    with open(path, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    paths = write_results({"linear_accuracy": 0.91, "n": 3}, str(tmp_path), title="T")
    assert json.load(open(paths["json"]))["n"] == 3
    assert "| linear_accuracy | 0.9100 |" in open(paths["markdown"]).read()
    table = markdown_table([{"a": 1, "b": 0.5}, {"a": 2}])
    assert table.splitlines()[0] == "| a | b |" and table.splitlines()[-1] == "| 2 |  |"
    assert os.path.getsize(path) > 1000
    with pytest.raises(ValueError, match="features must be"):
        embedding_plot(f[:2], yt[:2], str(tmp_path / "x.png"))


def test_embedding_plot_names_encoder_dataset_protocol_and_classes():
    from tfless.evaluation.plots import embedding_figure, embedding_title

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 6)
    features = rng.normal(size=(18, 4)) + labels[:, None] * 3.0
    title = embedding_title("rotation (run1)", "digits")
    assert "t-SNE" in title and "rotation (run1)" in title and "digits test" in title
    fig = embedding_figure({title: (features, labels)}, class_names=("zero", "one", "two"))
    axes = fig.get_axes()
    # One panel and no colorbar axes: classes are named in a discrete legend.
    assert len(axes) == 1 and axes[0].get_title() == title
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["zero", "one", "two"]
    assert legend.get_title().get_text() == "class"
    unnamed = embedding_figure({"x": (features, labels)})
    assert [t.get_text() for t in unnamed.legends[0].get_texts()] == ["0", "1", "2"]

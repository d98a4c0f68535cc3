"""SavedModel export: contract, fresh-process verification, atomic versions, TFSMLayer, TFLite."""

import json
import os
import shutil
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfless import export
from tfless.backbones import build_backbone
from tfless.methods.supervised import Supervised

SHAPE = (8, 8, 1)


def _method(seed=0):
    keras.utils.set_random_seed(seed)
    encoder = build_backbone("convnet", SHAPE, widths=(8, 16, 16))
    method = Supervised(encoder, num_classes=3)
    method(np.zeros((1, *SHAPE), np.float32))
    return method


@pytest.fixture(scope="module")
def method():
    return _method()


@pytest.fixture(scope="module")
def exported(method, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("exports"))
    result = export.export_encoder(
        method,
        root,
        "tiny",
        tflite=True,
        config={"model": {"backbone": "convnet"}},
        manifest={"seed": 0, "split_hash": "abc"},
    )
    return root, result


def _no_temp_dirs(model_dir):
    return [d for d in os.listdir(model_dir) if not d.isdigit()]


def test_layout_metadata_and_checksums(exported):
    root, result = exported
    assert result.path == os.path.join(root, "tiny", "1") and result.version == 1
    assert os.listdir(os.path.join(root, "tiny")) == ["1"]
    meta = export.read_metadata(result.path)
    assert meta == result.metadata
    assert meta["input"] == {
        "key": "image",
        "shape": [8, 8, 1],
        "dtype": "float32",
        "range": [0.0, 1.0],
        "layout": "NHWC",
    }
    assert meta["output"] == {"key": "feature_vector", "dim": 16, "dtype": "float32"}
    assert meta["method"] == "Supervised" and meta["backbone"] == "convnet"
    assert meta["config"] == {"model": {"backbone": "convnet"}}
    assert meta["manifest"]["split_hash"] == "abc"
    assert set(meta["signatures"]) == {"serving_default", "logits", "serving_uint8"}
    ver = meta["verification"]
    assert ver["checked"] and ver["fresh_process"]
    assert set(ver["max_abs_diff"]) == {"serving_default", "logits", "serving_uint8", "tflite"}
    sums = export.verify_checksums(result.path)
    assert sums == result.checksums and "saved_model.pb" in sums
    assert export.TFLITE_PATH in sums and export.METADATA_PATH in sums


def test_reloaded_signatures_equal_keras(method, exported):
    _, result = exported
    loaded = tf.saved_model.load(result.path)
    x = np.random.default_rng(7).random((5, *SHAPE), dtype=np.float32)
    sig = loaded.signatures["serving_default"]
    assert set(sig.structured_input_signature[1]) == {"image"}
    feats = sig(image=tf.constant(x))["feature_vector"].numpy()
    np.testing.assert_allclose(feats, method.encoder(x, training=False), atol=1e-5)
    logits = loaded.signatures["logits"](image=tf.constant(x))["logits"].numpy()
    np.testing.assert_allclose(logits, method.logits(x), atol=1e-5)
    # uint8 pixels of another size are scaled and resized inside the graph.
    raw = (np.random.default_rng(8).random((3, 16, 16, 1)) * 255).astype(np.uint8)
    out8 = loaded.signatures["serving_uint8"](image=tf.constant(raw))["feature_vector"].numpy()
    want = method.encoder(tf.image.resize(raw / 255.0, (8, 8), antialias=True), training=False)
    np.testing.assert_allclose(out8, want, atol=1e-5)


def test_tflite_runs_the_same_batch(method, exported):
    _, result = exported
    x = export.check_images(SHAPE, n=6, seed=3)
    out = export.run_tflite(os.path.join(result.path, export.TFLITE_PATH), x)
    np.testing.assert_allclose(out, method.encoder(x, training=False), atol=1e-4)


def test_tfsmlayer_fine_tunes(exported):
    _, result = exported
    layer = keras.layers.TFSMLayer(result.path, call_endpoint="serving_default", trainable=True)
    assert len(layer.trainable_weights) >= 6
    head = keras.layers.Dense(3)
    x = export.check_images(SHAPE, n=16, seed=5)
    y = np.arange(16) % 3
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def loss():
        return loss_fn(y, head(layer(x)["feature_vector"]))

    before = float(loss())
    variables = layer.trainable_weights + head.trainable_weights
    start = [v.numpy().copy() for v in layer.trainable_weights]
    with tf.GradientTape() as tape:
        value = loss()
    grads = tape.gradient(value, variables)
    assert all(g is not None for g in grads)
    keras.optimizers.SGD(0.1).apply(grads, variables)
    assert float(loss()) < before
    assert any(
        not np.array_equal(s, v.numpy())
        for s, v in zip(start, layer.trainable_weights, strict=True)
    )


@pytest.mark.skipif(shutil.which("saved_model_cli") is None, reason="saved_model_cli not on PATH")
def test_saved_model_cli_shows_signatures(exported):
    _, result = exported
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
    proc = subprocess.run(
        ["saved_model_cli", "show", "--dir", result.path, "--tag_set", "serve", "--all"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    for word in ("serving_default", "serving_uint8", "logits", "feature_vector", "(-1, 8, 8, 1)"):
        assert word in proc.stdout


def test_versions_increment_and_refuse_overwrite(method, tmp_path):
    root = str(tmp_path)
    v1 = export.export_encoder(method.encoder, root, "enc", verify=False, include_uint8=False)
    v2 = export.export_encoder(method.encoder, root, "enc", verify=False, include_uint8=False)
    assert (v1.version, v2.version) == (1, 2)
    assert v1.metadata["method"] == "encoder" and "logits" not in v1.metadata["signatures"]
    with pytest.raises(export.ExportError, match="already exists"):
        export.export_encoder(method.encoder, root, "enc", version=2, verify=False)
    v7 = export.export_encoder(method.encoder, root, "enc", version=7, verify=False)
    assert v7.version == 7 and export.list_versions(os.path.join(root, "enc")) == [1, 2, 7]
    assert _no_temp_dirs(os.path.join(root, "enc")) == []


class _Drifting(keras.layers.Layer):
    """Adds a Python-side counter: eager calls and the traced graph disagree."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0

    def call(self, x):
        self.calls += 1
        return x + float(self.calls)


def test_fresh_process_check_catches_a_drifting_model(tmp_path):
    inputs = keras.Input(SHAPE)
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inputs))
    model = keras.Model(inputs, _Drifting()(x))
    with pytest.raises(export.ExportVerificationError, match="differs from the Keras model"):
        export.export_encoder(model, str(tmp_path), "drift", include_uint8=False)
    assert os.listdir(tmp_path) == []  # the model dir it created is gone too


def test_failure_while_publishing_leaves_nothing(method, tmp_path, monkeypatch):
    root = str(tmp_path)
    export.export_encoder(method.encoder, root, "enc", verify=False, include_uint8=False)

    def broken_rename(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export.os, "rename", broken_rename)
    with pytest.raises(export.ExportError, match="No space left"):
        export.export_encoder(method.encoder, root, "enc", verify=False, include_uint8=False)
    assert os.listdir(os.path.join(root, "enc")) == ["1"]


def test_unwritable_roots(method, tmp_path, monkeypatch):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(export.ExportError, match="not a directory"):
        export.export_encoder(method.encoder, str(a_file), "enc", verify=False)
    with pytest.raises(export.ExportError, match="Cannot create export root"):
        export.export_encoder(method.encoder, str(a_file / "sub"), "enc", verify=False)
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() != 0:  # root ignores permission bits, so only check them as a normal user
        locked.chmod(0o500)
        with pytest.raises(export.ExportError, match="not writable"):
            export.export_encoder(method.encoder, str(locked), "enc", verify=False)
        locked.chmod(0o700)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(export.tempfile, "mkdtemp", denied)
    with pytest.raises(export.ExportError, match="Permission denied"):
        export.export_encoder(method.encoder, str(locked), "enc", verify=False)
    assert os.listdir(locked) == []


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"name": "../escape"}, "Invalid model name"),
        ({"name": "ok", "version": 0}, "positive int"),
        ({"name": "ok", "images": np.zeros((2, 4, 4, 1), np.float32)}, r"shape \[B, 8, 8, 1\]"),
        ({"name": "ok", "images": np.full((2, 8, 8, 1), 2.0, np.float32)}, r"in \[0, 1\]"),
    ],
)
def test_bad_arguments(method, tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        export.export_encoder(method, str(tmp_path), verify=False, **kwargs)
    assert os.listdir(tmp_path) == []


def test_tampered_export_fails_checksums(exported, tmp_path):
    _, result = exported
    copy = str(tmp_path / "1")
    shutil.copytree(result.path, copy)
    export.verify_checksums(copy)
    data = os.path.join(copy, "variables", "variables.data-00000-of-00001")
    with open(data, "r+b") as f:
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 0xFF]))
    with open(os.path.join(copy, "extra.txt"), "w") as f:
        f.write("x")
    with pytest.raises(export.ChecksumError) as err:
        export.verify_checksums(copy)
    assert "variables/variables.data-00000-of-00001" in str(err.value)
    assert "unexpected file 'extra.txt'" in str(err.value)
    os.remove(os.path.join(copy, export.CHECKSUMS_PATH))
    with pytest.raises(export.ChecksumError, match="no checksum file"):
        export.verify_checksums(copy)
    assert json.loads(json.dumps(result.metadata)) == result.metadata


_BAD_INPUTS = """
import json, sys, tensorflow as tf
sigs = tf.saved_model.load(sys.argv[1]).signatures
out = []
for name, shape, dtype in json.loads(sys.argv[2]):
    try:
        sigs[name](image=tf.zeros(shape, dtype))
        out.append("accepted")
    except tf.errors.InvalidArgumentError as e:
        out.append(" ".join(str(e).split()))
print(json.dumps(out))
"""


def test_signatures_refuse_inputs_off_their_spec_without_aborting(exported):
    # In a fresh process, as a client loads an export: a rank-3 image reached the
    # convolution kernels, which abort the whole process (SIGABRT), and other wrong
    # shapes were served; one child runs every case so a regression cannot kill pytest.
    _, result = exported
    want = "must have shape [batch>=1, 8, 8, 1]; got] "
    cases = [
        ("serving_default", [8, 8, 1], "float32", want + "[8 8 1]"),
        ("serving_default", [2, 4, 4, 1], "float32", want + "[2 4 4 1]"),
        ("serving_default", [2, 8, 8, 1, 1], "float32", want + "[2 8 8 1 1]"),
        ("logits", [2, 8, 8, 3], "float32", want + "[2 8 8 3]"),
        ("serving_default", [0, 8, 8, 1], "float32", want + "[0 8 8 1]"),
        ("serving_uint8", [2, 5, 7, 3], "uint8", "width>=1, 1]; got] [2 5 7 3]"),
        ("serving_default", [2, 8, 8, 1], "float64", "float tensor but is a double tensor"),
        ("serving_uint8", [1, 5, 7, 1], "uint8", "accepted"),  # resized by design
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
    arg = json.dumps([c[:3] for c in cases])
    proc = subprocess.run(
        [sys.executable, "-c", _BAD_INPUTS, result.path, arg],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-3000:])
    answers = json.loads(proc.stdout.strip().splitlines()[-1])
    for (name, shape, dtype, match), answer in zip(cases, answers, strict=True):
        assert match in answer, (name, shape, dtype, answer)
        if match != "accepted" and dtype != "float64":
            assert f"{name}: input " in answer and f"({dtype}) must have shape" in answer, answer


def test_encoder_layer_fits_sequential_and_refuses_bad_input_in_one_error(method, exported):
    from tfless import zoo

    _, result = exported
    assert zoo.EncoderLayer is export.EncoderLayer
    layer = zoo.EncoderLayer(result.path)
    model = keras.Sequential([keras.Input(SHAPE), layer, keras.layers.Dense(3)])
    x = export.check_images(SHAPE, n=2)
    assert model(x).shape == (2, 3)
    np.testing.assert_allclose(layer(x), method.encoder(x, training=False), atol=1e-5)
    assert layer.metadata["training_endpoint"] == export.TRAINING_ENDPOINT
    for bad in (np.zeros((2, 16, 16, 1), np.float32), np.zeros((8, 8, 1), np.float32)):
        with pytest.raises(ValueError, match=r"float32 images of shape \[batch>=1, 8, 8, 1\]"):
            layer(bad)
    with pytest.raises(ValueError, match="got uint8 of shape") as err:
        layer(np.zeros((2, *SHAPE), np.uint8))
    assert len(str(err.value).splitlines()) < 12


def test_next_export_removes_temporaries_of_dead_processes_only(method, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", ""])
    dead.wait()
    model_dir = tmp_path / "enc"
    model_dir.mkdir()
    host = socket.gethostname()
    stale = model_dir / f".tmp-export-{host}-{dead.pid}-abcd1234"
    (stale / "model").mkdir(parents=True)
    live = model_dir / f".tmp-export-{host}-{os.getpid()}-efgh5678"  # a concurrent export
    live.mkdir()
    export.export_encoder(method.encoder, str(tmp_path), "enc", verify=False, include_uint8=False)
    assert sorted(os.listdir(model_dir)) == sorted(["1", live.name])

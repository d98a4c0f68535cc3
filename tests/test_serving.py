"""TF Serving API: the local server, the REST and gRPC client, bad input, the deployment kit."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import requests
import tensorflow as tf

from tfless import export, serving, zoo

NAME = "digits_supervised_convnet"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPE = (16, 16, 1)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """An export root with model ``digits`` at versions 1 and 2 (copies of the shipped encoder)."""
    src = zoo.entry_path(zoo.get_entry(NAME))
    base = tmp_path_factory.mktemp("root")
    for version in ("1", "2"):
        shutil.copytree(src, base / "digits" / version)
    return str(base)


@pytest.fixture(scope="module")
def server(root):
    store = serving.ModelStore()
    store.add_root(root, policy="all")
    with serving.LocalServer(store, grpc_port=0) as srv:
        yield srv


@pytest.fixture(scope="module")
def reference(root):
    loaded = tf.saved_model.load(os.path.join(root, "digits", "2"))
    x = export.check_images(SHAPE, n=20, seed=11)

    def run(signature, key, images):
        return loaded.signatures[signature](image=tf.constant(images))[key].numpy()

    return x, run


def _post(server, body, path="/v1/models/digits:predict"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return requests.post(server.url + path, data=data, timeout=10)


def test_rest_predict_matches_the_saved_model(server, reference):
    x, run = reference
    want = run("serving_default", "feature_vector", x)
    with serving.FeatureClient(server.url, "digits") as client:
        np.testing.assert_array_equal(client.predict(x), want)  # float32 survives JSON exactly
        logits = client.predict(x[:3], signature="logits")
    np.testing.assert_array_equal(logits, run("logits", "logits", x[:3]))
    with serving.FeatureClient(server.url, "digits", 1, request_format="inputs") as client:
        np.testing.assert_array_equal(client.predict(x[:4]), want[:4])
    raw = (x[:5] * 255).astype(np.uint8)
    with serving.FeatureClient(server.url, "digits", signature="serving_uint8") as client:
        np.testing.assert_array_equal(
            client.predict(raw), run("serving_uint8", "feature_vector", raw)
        )
    # Named instances and a columnar object, as TF Serving accepts them.
    body = {"instances": [{"image": x[0].tolist()}, {"image": x[1].tolist()}]}
    np.testing.assert_array_equal(_post(server, body).json()["predictions"], want[:2])
    body = {"signature_name": "serving_default", "inputs": {"image": x[:2].tolist()}}
    np.testing.assert_array_equal(_post(server, body).json()["outputs"], want[:2])


def test_large_inputs_are_sent_in_batches(server, reference):
    x, run = reference
    client = serving.FeatureClient(server.url, "digits", batch_size=7)
    before = server.request_count
    np.testing.assert_array_equal(client.predict(x), run("serving_default", "feature_vector", x))
    assert server.request_count - before == 3  # 20 images in batches of 7


def test_status_and_metadata(server):
    client = serving.FeatureClient(server.url, "digits")
    status = client.status()["model_version_status"]
    assert [s["version"] for s in status] == ["1", "2"]
    assert all(s["state"] == "AVAILABLE" and s["status"]["error_code"] == "OK" for s in status)
    assert (
        serving.FeatureClient(server.url, "digits", 1).status()["model_version_status"][0][
            "version"
        ]
        == "1"
    )
    meta = client.metadata()
    assert meta["model_spec"] == {"name": "digits", "signature_name": "", "version": "2"}
    sigs = meta["metadata"]["signature_def"]["signature_def"]
    assert {"serving_default", "logits", "serving_uint8"} <= set(sigs)
    image = sigs["serving_default"]["inputs"]["image"]
    assert image["dtype"] == "DT_FLOAT"
    assert [d["size"] for d in image["tensor_shape"]["dim"]] == ["-1", "16", "16", "1"]
    assert sigs["serving_default"]["outputs"]["feature_vector"]["dtype"] == "DT_FLOAT"
    assert meta["tfless_metadata"]["input"]["range"] == [0.0, 1.0]


def test_grpc_request_and_round_trip(server, reference):
    x, run = reference
    request = serving.make_predict_request("digits", x[:3], version=2, signature="logits")
    assert request.model_spec.name == "digits" and request.model_spec.version.value == 2
    assert request.model_spec.signature_name == "logits"
    tensor = request.inputs["image"]
    assert tensor.dtype == tf.float32.as_datatype_enum
    assert [d.size for d in tensor.tensor_shape.dim] == [3, 16, 16, 1]
    np.testing.assert_array_equal(tf.make_ndarray(tensor), x[:3])
    labeled = serving.make_predict_request("digits", x[:1], label="stable")
    assert labeled.model_spec.version_label == "stable"

    client = serving.FeatureClient(server.grpc_target, "digits", protocol="grpc", batch_size=8)
    np.testing.assert_array_equal(client.predict(x), run("serving_default", "feature_vector", x))
    assert client.status()["model_version_status"][-1]["version"] == "2"
    assert "serving_default" in client.metadata()["metadata"]["signature_def"]["signature_def"]
    with pytest.raises(serving.ServingError, match="NOT_FOUND.*Specific\\(digits, 9\\)"):
        serving.FeatureClient(server.grpc_target, "digits", 9, protocol="grpc").predict(x[:1])
    with pytest.raises(serving.ServingError, match="INVALID_ARGUMENT.*expects images in"):
        client.predict(x[:1] + 2.0)
    client.close()


GOOD = np.full((2, *SHAPE), 0.5).tolist()


@pytest.mark.parametrize(
    "body, match",
    [
        ({"instances": np.zeros((2, 8, 8, 1)).tolist()}, r"shape \[2, 8, 8, 1\]; expected \[batch"),
        ({"instances": np.zeros((2, 16, 16)).tolist()}, "shape"),
        ({"instances": [[["a"] * 1] * 16] * 16}, "must hold numbers of dtype float32"),
        ({"instances": np.full((1, *SHAPE), True).tolist()}, "must hold numbers"),
        ({"instances": np.full((1, *SHAPE), 1.5).tolist()}, r"expects images in \[0.0, 1.0\]"),
        ({"instances": np.full((1, *SHAPE), -0.1).tolist()}, "expects images in"),
        ({"instances": [GOOD[0], GOOD[0][:3]]}, "ragged"),
        ({"instances": np.full((1, *SHAPE), None).tolist()}, "non-numeric"),
        ({"instances": []}, "non-empty list"),
        ({"signature_name": "serving_default"}, "Missing 'instances' or 'inputs'"),
        ({"instances": GOOD, "inputs": GOOD}, "exactly one of"),
        ({"instances": GOOD, "extra": 1}, "Unknown request keys"),
        ({"instances": [{"pixels": GOOD[0]}]}, r"expects inputs \['image'\]; missing \['image'\]"),
        ({"inputs": {"image": GOOD, "x": 1}}, r"unexpected \['x'\]"),
        ({"signature_name": "nope", "instances": GOOD}, 'signature name: "nope" not found'),
        (
            {"signature_name": "serving_uint8", "instances": np.full((1, 8, 8, 1), 300).tolist()},
            r"uint8 in \[0, 255\]",
        ),
        (
            {"signature_name": "serving_uint8", "instances": np.full((1, 8, 8, 1), 0.5).tolist()},
            "must hold integers",
        ),
        ([1, 2], "must be a JSON object"),
        ("{not json", "JSON Parse error"),
        ('{"instances": [[[[NaN]]]]}', "JSON Parse error"),
    ],
)
def test_bad_requests_get_400_with_an_error_body(server, body, match):
    response = _post(server, body)
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert re.search(match, response.json()["error"]), response.json()["error"]


@pytest.mark.parametrize(
    "method, path, status, match",
    [
        ("GET", "/v1/models/nope", 404, "Could not find any versions of model nope"),
        ("POST", "/v1/models/nope:predict", 404, r"Servable not found for request: Latest\(nope\)"),
        ("POST", "/v1/models/digits/versions/7:predict", 404, r"Specific\(digits, 7\)"),
        ("GET", "/v1/models/digits/versions/7/metadata", 404, r"Specific\(digits, 7\)"),
        ("GET", "/v1/models/digits/labels/stable", 404, "Unrecognized servable version label"),
        ("GET", "/v1/models/digits/versions/x", 400, "Failed to convert version: x"),
        ("GET", "/v2/other", 404, "Malformed request"),
        ("POST", "/v1/models/digits:classify", 400, ":predict only"),
    ],
)
def test_unknown_models_versions_and_paths(server, method, path, status, match):
    response = requests.request(method, server.url + path, data="{}", timeout=10)
    assert response.status_code == status
    assert re.search(match, response.json()["error"])


def test_client_raises_the_server_error_message(server, reference):
    x, _ = reference
    with pytest.raises(serving.ServingError) as err:
        serving.FeatureClient(server.url, "digits", 5).predict(x[:1])
    assert err.value.status == 404 and "Specific(digits, 5)" in err.value.message
    with pytest.raises(serving.ServingError, match="HTTP 400: .*expects images in"):
        serving.FeatureClient(server.url, "digits").predict(x[:2] * 3)


def test_oversized_body_gets_413(root):
    store = serving.ModelStore()
    store.add_model("digits", os.path.join(root, "digits"))
    with serving.LocalServer(store, max_body_bytes=1000) as srv:
        response = _post(srv, {"instances": GOOD})
        assert response.status_code == 413 and "split the batch" in response.json()["error"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_retries_are_bounded_and_recover(root, reference):
    x, run = reference
    port = _free_port()
    client = serving.FeatureClient(
        f"http://127.0.0.1:{port}", "digits", max_retries=2, backoff=0.05, timeout=2
    )
    start = time.monotonic()
    with pytest.raises(serving.ServingConnectionError, match="after 3 attempts"):
        client.predict(x[:1])
    assert time.monotonic() - start < 5
    # A server that comes up while the client is backing off is reached on a retry.
    store = serving.ModelStore()
    store.add_model("digits", os.path.join(root, "digits"))
    late = {}

    def start_late():
        time.sleep(0.3)
        late["server"] = serving.LocalServer(store, port=port).start()

    thread = threading.Thread(target=start_late)
    thread.start()
    try:
        patient = serving.FeatureClient(
            f"http://127.0.0.1:{port}", "digits", max_retries=6, backoff=0.1, timeout=2
        )
        np.testing.assert_array_equal(
            patient.predict(x[:2]), run("serving_default", "feature_vector", x[:2])
        )
    finally:
        thread.join(timeout=5)
        if "server" in late:
            late["server"].stop()


def test_tampered_and_foreign_exports_are_refused(root, tmp_path):
    bad = tmp_path / "root"
    shutil.copytree(os.path.join(root, "digits", "2"), bad / "m" / "1")
    data = bad / "m" / "1" / "variables" / "variables.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[10] ^= 0xFF
    data.write_bytes(bytes(raw))
    with pytest.raises(serving.ModelLoadError, match="Refusing to serve model 'm' version 1.*"):
        serving.ModelStore().add_root(str(bad))
    foreign = tmp_path / "foreign"
    module = tf.Module()
    module.f = tf.function(
        lambda image: {"y": image * 2.0}, input_signature=[tf.TensorSpec([None])]
    )
    tf.saved_model.save(module, str(foreign / "f" / "1"), signatures={"serving_default": module.f})
    with pytest.raises(serving.ModelLoadError, match="no checksum file"):
        serving.ModelStore().add_root(str(foreign))
    store = serving.ModelStore()
    store.add_root(str(foreign), require_checksums=False)
    with serving.LocalServer(store) as srv:
        out = _post(srv, {"instances": [1.0, 2.0]}, "/v1/models/f:predict").json()
    assert out == {"predictions": [2.0, 4.0]}
    with pytest.raises(serving.ModelLoadError, match="no integer version directories"):
        (tmp_path / "empty" / "e").mkdir(parents=True)
        serving.ModelStore().add_root(str(tmp_path / "empty"))


def test_model_config_file_versions_and_labels(root, tmp_path, reference):
    x, run = reference
    config = tmp_path / "models.config"
    config.write_text(
        "model_config_list {\n"
        "  config {\n"
        "    name: 'enc'\n"
        f"    base_path: '{os.path.join(root, 'digits')}'\n"
        "    model_platform: 'tensorflow'\n"
        "    model_version_policy { specific { versions: 1 versions: 2 } }\n"
        "    version_labels { key: 'stable' value: 1 }\n"
        "  }\n"
        "}\n"
    )
    store = serving.ModelStore()
    store.add_config_file(str(config))
    assert store.names == ["enc"] and store.versions("enc") == [1, 2]
    with serving.LocalServer(store) as srv:
        client = serving.FeatureClient(srv.url, "enc", label="stable")
        np.testing.assert_array_equal(
            client.predict(x[:2]), run("serving_default", "feature_vector", x[:2])
        )
        assert client.status()["model_version_status"][0]["version"] == "1"


def test_deployment_kit_is_consistent():
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    kit = os.path.join(REPO, "export")
    config = model_server_config_pb2.ModelServerConfig()
    with open(os.path.join(kit, "models.config")) as f:
        text_format.Parse(f.read(), config)
    names = [c.name for c in config.model_config_list.config]
    assert len(names) >= 3 and NAME in names
    known = {e["name"] for e in zoo.list_entries()}
    for c in config.model_config_list.config:
        assert c.name in known and c.base_path == f"/models/{c.name}"
    with open(os.path.join(kit, "batching.config")) as f:
        batching = f.read()
    for key in ("max_batch_size", "batch_timeout_micros", "num_batch_threads"):
        assert key in batching
    script = os.path.join(kit, "run_tf_serving.sh")
    assert subprocess.run(["bash", "-n", script], timeout=10).returncode == 0
    with open(script) as f:
        text = f.read()
    assert "tensorflow/serving" in text and "8500" in text and "8501" in text


def test_tfless_serve_cli_serves_and_stops_itself(root, reference):
    x, run = reference
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
    cmd = [
        sys.executable,
        "-m",
        "tfless.cli.serve",
        f"--export_root={root}",
        "--rest_api_port=0",
        "--port=-1",
        "--exit_after_seconds=90",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    try:
        line = proc.stdout.readline()  # the server prints its address once loaded
        match = re.search(r"REST on (http://127\.0\.0\.1:\d+)", line)
        assert match, line
        client = serving.FeatureClient(match.group(1), "digits", timeout=10)
        np.testing.assert_array_equal(
            client.predict(x[:3]), run("serving_default", "feature_vector", x[:3])
        )
    finally:
        proc.terminate()
        proc.wait(timeout=20)

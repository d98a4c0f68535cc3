"""FeatureClient: REST and gRPC predict, batching, status, metadata, errors and retries."""

import os
import socket
import threading
import time

import numpy as np
import pytest
import tensorflow as tf

from tfless import serving


def test_rest_predict_matches_the_saved_model(server, reference, post):
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
    np.testing.assert_array_equal(post(server, body).json()["predictions"], want[:2])
    body = {"signature_name": "serving_default", "inputs": {"image": x[:2].tolist()}}
    np.testing.assert_array_equal(post(server, body).json()["outputs"], want[:2])


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


def test_client_raises_the_server_error_message(server, reference):
    x, _ = reference
    with pytest.raises(serving.ServingError) as err:
        serving.FeatureClient(server.url, "digits", 5).predict(x[:1])
    assert err.value.status == 404 and "Specific(digits, 5)" in err.value.message
    with pytest.raises(serving.ServingError, match="HTTP 400: .*expects images in"):
        serving.FeatureClient(server.url, "digits").predict(x[:2] * 3)


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

"""The local server's REST API: TF Serving's URLs, bodies and ``{"error": ...}`` answers."""

import base64
import json
import os
import re

import numpy as np
import pytest
import requests

from tfless import serving
from tfless.serving.rest_server import _fast_numeric_body
from tfless.serving.validation import json_array

SHAPE = (16, 16, 1)


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
def test_bad_requests_get_400_with_an_error_body(server, post, body, match):
    response = post(server, body)
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


def test_oversized_body_gets_413(root, post):
    store = serving.ModelStore()
    store.add_model("digits", os.path.join(root, "digits"))
    with serving.LocalServer(store, max_body_bytes=1000) as srv:
        response = post(srv, {"instances": GOOD})
        assert response.status_code == 413 and "split the batch" in response.json()["error"]


def test_columnar_inputs_answer_outputs_like_instances(server, post):
    rows = post(server, {"instances": GOOD}).json()["predictions"]
    for inputs in ({"image": GOOD}, GOOD):
        response = post(server, {"inputs": inputs})
        assert response.status_code == 200 and set(response.json()) == {"outputs"}
        np.testing.assert_array_equal(response.json()["outputs"], rows)


def _b64(images):
    return [{"b64": base64.b64encode(im.tobytes()).decode()} for im in images]


def test_b64_values_are_raw_uint8_pixels(server, post, reference):
    images = (reference[0][:3] * 255).round().astype(np.uint8)
    want = reference[1]("serving_uint8", "feature_vector", images)
    for body in (
        {"signature_name": "serving_uint8", "instances": _b64(images)},
        {"signature_name": "serving_uint8", "instances": [{"image": v} for v in _b64(images)]},
        {"signature_name": "serving_uint8", "inputs": {"image": _b64(images)}},
    ):
        response = post(server, body)
        assert response.status_code == 200, response.json()
        got = next(iter(response.json().values()))
        np.testing.assert_allclose(got, want, atol=1e-5)
    for body, match in [
        ({"instances": _b64(images)}, "uint8 inputs only"),
        ({"signature_name": "serving_uint8", "instances": _b64(images[:, :5])}, "square"),
        (
            {"signature_name": "serving_uint8", "instances": [_b64(images)[0], {"b64": "@@"}]},
            "instance 1: bad base64",
        ),
    ]:
        response = post(server, body)
        assert response.status_code == 400 and re.search(match, response.json()["error"])


def test_256_images_round_trip_identical_values(server):
    x = np.random.default_rng(3).random((256, *SHAPE), dtype=np.float32)
    assert json.loads(json_array(x)) == x.tolist()
    assert np.array_equal(np.asarray(json.loads(json_array(x, 9)), np.float32), x)
    head = b'{"signature_name": "serving_default", "instances": '
    raw = bytearray(head + json_array(x, 9).encode())
    _, rows, parsed = _fast_numeric_body(raw + b"}")
    assert rows and np.array_equal(parsed.astype(np.float32), x)
    assert _fast_numeric_body(raw.replace(b"],[", b"],[[", 1) + b"}") is None  # ragged
    with serving.FeatureClient(server.url, "digits", batch_size=256) as rest:
        got = rest.predict(x)
    with serving.FeatureClient(server.grpc_target, "digits", protocol="grpc") as grpc:
        assert np.array_equal(got, grpc.predict(x))

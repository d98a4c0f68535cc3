"""The local server's REST API: TF Serving's URLs, bodies and ``{"error": ...}`` answers."""

import os
import re

import numpy as np
import pytest
import requests

from tfless import serving

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

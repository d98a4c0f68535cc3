"""TF Serving's REST API over a model store.

URL routing (``/v1/models/NAME[/versions/N|/labels/L][:predict|/metadata]``), the row
(``instances``) and columnar (``inputs``) bodies, and ``{"error": ...}`` answers.
"""

from __future__ import annotations

import http.server
import json
import re
from typing import Any

import numpy as np

from tfless.serving.errors import RequestError, bad_request, not_found
from tfless.serving.store import Signature
from tfless.serving.validation import signature_of, validate_inputs


def _parse_rest_predict(sig: Signature, body: Any) -> tuple[dict, bool]:
    """Request JSON -> (validated inputs, row_format)."""
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object with 'instances' or 'inputs'.")
    unknown = sorted(set(body) - {"signature_name", "instances", "inputs"})
    if unknown:
        raise bad_request(
            f"Unknown request keys {unknown}; expected 'signature_name' and one of "
            "'instances' or 'inputs'."
        )
    has_rows, has_cols = "instances" in body, "inputs" in body
    if has_rows == has_cols:
        raise bad_request(
            "Missing 'instances' or 'inputs' key"
            if not has_rows
            else "Request must contain exactly one of 'instances' or 'inputs', not both."
        )
    names = sorted(sig.inputs)
    if has_rows:
        rows = body["instances"]
        if not isinstance(rows, list) or not rows:
            raise bad_request("'instances' must be a non-empty list of instances.")
        if all(isinstance(r, dict) for r in rows):
            keys = {frozenset(r) for r in rows}
            if len(keys) != 1:
                raise bad_request("Every instance must have the same named inputs.")
            named = {k: [r[k] for r in rows] for k in rows[0]}
        elif any(isinstance(r, dict) for r in rows):
            raise bad_request("Mixed named and unnamed instances.")
        elif len(names) == 1:
            named = {names[0]: rows}
        else:
            raise bad_request(f"Instances must be objects naming the inputs {names}.")
        return validate_inputs(sig, named), True
    cols = body["inputs"]
    if isinstance(cols, dict):
        named = cols
    elif len(names) == 1:
        named = {names[0]: cols}
    else:
        raise bad_request(f"'inputs' must be an object naming the inputs {names}.")
    return validate_inputs(sig, named), False


def _format_rest_outputs(outputs: dict[str, np.ndarray], row_format: bool) -> dict:
    if row_format:
        if len(outputs) == 1:
            return {"predictions": next(iter(outputs.values())).tolist()}
        keys = sorted(outputs)
        n = len(next(iter(outputs.values())))
        return {"predictions": [{k: outputs[k][i].tolist() for k in keys} for i in range(n)]}
    if len(outputs) == 1:
        return {"outputs": next(iter(outputs.values())).tolist()}
    return {"outputs": {k: v.tolist() for k, v in outputs.items()}}


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


_PATH_RE = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)"
    r"(?:/versions/(?P<version>[^/:]+)|/labels/(?P<label>[^/:]+))?"
    r"(?P<verb>/metadata|:predict|:classify|:regress)?$"
)


class RestHandler(http.server.BaseHTTPRequestHandler):
    """Answers TF Serving's REST API from the server's ``store`` (see :class:`LocalServer`)."""

    protocol_version = "HTTP/1.1"
    server_version = "tfless-serve"
    # Headers and body go out in two writes; with Nagle on, the peer's delayed ACK
    # stalls every keep-alive response by ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # the base class's signature
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)

    def _send(self, status: int, payload: dict) -> None:
        with self.server.count_lock:
            self.server.request_count += 1
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str):
        match = _PATH_RE.match(self.path.split("?", 1)[0])
        if not match:
            raise not_found(f"Malformed request: {method} {self.path}")
        verb = match["verb"]
        if method == "GET" and verb not in (None, "/metadata"):
            raise not_found(f"Malformed request: GET {self.path}")
        if method == "POST" and verb in (None, "/metadata"):
            raise not_found(f"Malformed request: POST {self.path}")
        return match["name"], match["version"], match["label"], verb

    def do_GET(self):  # named by http.server
        try:
            name, version, label, verb = self._route("GET")
            store = self.server.store
            if verb == "/metadata":
                model = store.get(name, version, label)
                payload = {
                    "model_spec": {
                        "name": name,
                        "signature_name": "",
                        "version": str(model.version),
                    },
                    "metadata": {"signature_def": model.signature_def_json},
                }
                if model.metadata:
                    payload["tfless_metadata"] = model.metadata
                self._send(200, payload)
            else:
                self._send(200, store.status(name, version, label))
        except RequestError as e:
            self._send(e.status, {"error": e.message})

    def do_POST(self):  # named by http.server
        try:
            length = self.headers.get("Content-Length")
            if length is None:
                raise RequestError(411, "Missing Content-Length header.")
            try:
                length = int(length)
            except ValueError:
                raise bad_request(f"Bad Content-Length {length!r}.") from None
            if length > self.server.max_body_bytes:
                self.close_connection = True
                raise RequestError(
                    413,
                    f"Request body of {length} bytes exceeds the limit of "
                    f"{self.server.max_body_bytes} bytes; split the batch.",
                )
            raw = self.rfile.read(length)
            name, version, label, verb = self._route("POST")
            if verb != ":predict":
                raise bad_request(
                    f"tfless-serve implements :predict only; {verb} needs a classify/regress "
                    "signature, which tfless exports do not have."
                )
            model = self.server.store.get(name, version, label)
            try:
                body = json.loads(raw, parse_constant=_reject_constant)
            except (ValueError, UnicodeDecodeError) as e:
                raise bad_request(f"JSON Parse error: {e}") from None
            sig = signature_of(
                model, body.get("signature_name") if isinstance(body, dict) else None
            )
            inputs, rows = _parse_rest_predict(sig, body)
            outputs = model.run(sig.name, inputs)
            self._send(200, _format_rest_outputs(outputs, rows))
        except RequestError as e:
            self._send(e.status, {"error": e.message})
        except Exception as e:  # a failure inside TF must still answer in TF Serving's format
            self._send(500, {"error": f"{type(e).__name__}: {e}"})

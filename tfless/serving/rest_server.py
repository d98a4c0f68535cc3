"""TF Serving's REST API over a model store.

URL routing (``/v1/models/NAME[/versions/N|/labels/L][:predict|/metadata]``), the row
(``instances``) and columnar (``inputs``) bodies, and ``{"error": ...}`` answers.
"""

from __future__ import annotations

import http.server
import json
import re
import socket
import time
from typing import Any

import numpy as np

from tfless.serving.errors import RequestError, bad_request, not_found
from tfless.serving.limits import auto_max_body_bytes
from tfless.serving.store import LoadedModel, Signature
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


_DRAIN_BYTES = 64 << 10  # a refused body this small is read so the connection stays usable
_LINGER_SECONDS = 1.0


class RestHandler(http.server.BaseHTTPRequestHandler):
    """Answers TF Serving's REST API from the server's ``store`` (see :class:`LocalServer`).

    The server object carries the limits: ``max_body_bytes`` (None: per model, see
    :func:`~tfless.serving.limits.auto_max_body_bytes`), ``read_timeout`` and ``slots``.
    """

    protocol_version = "HTTP/1.1"
    server_version = "tfless-serve"
    # Headers and body go out in two writes; with Nagle on, the peer's delayed ACK
    # stalls every keep-alive response by ~40 ms.
    disable_nagle_algorithm = True

    def setup(self):  # named by socketserver; the socket timeout closes idle connections
        self.timeout = self.server.read_timeout
        super().setup()

    def log_message(self, format, *args):  # the base class's signature
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)

    def _send(self, status: int, payload: dict) -> None:
        with self.server.count_lock:
            self.server.request_count += 1
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client left (reset, broken pipe): nobody to answer
            self.close_connection = True

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

    def _content_length(self) -> int:
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            raise RequestError(411, "Missing Content-Length header.")
        try:
            value = int(length)
        except ValueError:
            value = -1
        if value < 0:
            self.close_connection = True
            raise bad_request(f"Bad Content-Length {length!r}.")
        return value

    def _max_body(self, model: LoadedModel) -> int:
        limit = self.server.max_body_bytes
        return auto_max_body_bytes(model.max_instance_values) if limit is None else limit

    def _read_body(self, length: int) -> bytearray:
        """The body, read within ``read_timeout`` seconds in all (a slow trickle counts too)."""
        timeout = self.server.read_timeout
        deadline = time.monotonic() + timeout
        body = bytearray(length)
        view, got = memoryview(body), 0
        try:
            while got < length:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                self.connection.settimeout(remaining)
                n = self.rfile.readinto1(view[got:])
                if not n:
                    self.close_connection = True
                    raise bad_request(f"Connection closed after {got} of {length} body bytes.")
                got += n
        except TimeoutError:
            self.close_connection = True
            raise RequestError(
                408,
                f"Request body not received within {timeout:g} s ({got} of {length} bytes); "
                "closing the connection (the limit is --rest_api_read_timeout_seconds).",
            ) from None
        finally:
            view.release()
        self._body_pending = False
        self.connection.settimeout(timeout)
        return body

    def _refuse_unread(self, length: int) -> None:
        """Before answering an error with the body unread: read a small one, else close."""
        if self.close_connection:
            return
        if length > _DRAIN_BYTES:
            self.close_connection = True
            return
        try:
            self._read_body(length)
        except RequestError:
            self.close_connection = True

    def _linger(self) -> None:
        """After a refusal that left the body unread, let the client finish sending and read
        the answer: closing with unread data resets the connection, and the client would see
        a broken pipe instead of the error. Discards at most ``_LINGER_SECONDS`` of input."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + _LINGER_SECONDS
            while time.monotonic() < deadline:
                self.connection.settimeout(max(deadline - time.monotonic(), 0.01))
                if not self.connection.recv(1 << 16):
                    break
        except OSError:
            pass

    def _predict(self, length: int) -> dict:
        name, version, label, verb = self._route("POST")
        if verb != ":predict":
            raise bad_request(
                f"tfless-serve implements :predict only; {verb} needs a classify/regress "
                "signature, which tfless exports do not have."
            )
        model = self.server.store.get(name, version, label)
        limit = self._max_body(model)
        if length > limit:
            self.close_connection = True
            raise RequestError(
                413,
                f"Request body of {length} bytes exceeds the limit of {limit} bytes; split the "
                "batch (the limit is --rest_api_max_body_bytes).",
            )
        raw = self._read_body(length)
        with self.server.slots.hold():
            try:
                body = json.loads(raw, parse_constant=_reject_constant)
            except (ValueError, UnicodeDecodeError) as e:
                raise bad_request(f"JSON Parse error: {e}") from None
            del raw
            sig = signature_of(
                model, body.get("signature_name") if isinstance(body, dict) else None
            )
            inputs, rows = _parse_rest_predict(sig, body)
            del body
            return _format_rest_outputs(model.run(sig.name, inputs), rows)

    def do_POST(self):  # named by http.server
        self._body_pending = False
        try:
            length = self._content_length()
            self._body_pending = length > 0
            self._send(200, self._predict(length))
        except RequestError as e:
            if self._body_pending:
                self._refuse_unread(length)
            self._send(e.status, {"error": e.message})
            if e.status == 413:
                self._linger()
        except Exception as e:  # a failure inside TF must still answer in TF Serving's format
            self._send(500, {"error": f"{type(e).__name__}: {e}"})

"""TF Serving's REST API over a model store.

URL routing (``/v1/models/NAME[/versions/N|/labels/L][:predict|/metadata]``), the row
(``instances``) and columnar (``inputs``) bodies, base64 ``{"b64": ...}`` values for uint8
inputs (raw pixels; see :func:`~tfless.serving.validation.validate_inputs`), and
``{"error": ...}`` answers.
"""

from __future__ import annotations

import contextlib
import gc
import http.server
import json
import re
import socket
import threading
import time
import warnings
from typing import Any

import numpy as np

from tfless.serving.errors import RequestError, bad_request, not_found
from tfless.serving.limits import auto_max_body_bytes
from tfless.serving.store import LoadedModel, Signature
from tfless.serving.validation import (
    is_b64,
    json_array,
    json_template,
    signature_of,
    validate_inputs,
)


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
        if all(isinstance(r, dict) and not is_b64(r) for r in rows):
            keys = {frozenset(r) for r in rows}
            if len(keys) != 1:
                raise bad_request("Every instance must have the same named inputs.")
            named = {k: [r[k] for r in rows] for k in rows[0]}
        elif any(isinstance(r, dict) and not is_b64(r) for r in rows):
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


def _format_rest_outputs(outputs: dict[str, np.ndarray], row_format: bool) -> bytes:
    """The response body: ``{"predictions": ...}`` (rows) or ``{"outputs": ...}`` (columns).

    Arrays are written by :func:`json_array` straight into the JSON text: building nested
    Python lists and encoding them took most of a large batch's time.
    """
    if row_format and len(outputs) > 1:
        keys = sorted(outputs)
        n = len(next(iter(outputs.values())))
        rows = [
            "{" + ",".join(f"{json.dumps(k)}:{json_array(outputs[k][i])}" for k in keys) + "}"
            for i in range(n)
        ]
        text = '{"predictions":[' + ",".join(rows) + "]}"
    elif len(outputs) == 1:
        key = "predictions" if row_format else "outputs"
        text = f'{{"{key}":{json_array(next(iter(outputs.values())))}}}'
    else:
        cols = ",".join(f"{json.dumps(k)}:{json_array(v)}" for k, v in sorted(outputs.items()))
        text = '{"outputs":{' + cols + "}}"
    return text.encode()


_FAST_HEAD = re.compile(
    rb'\s*\{\s*(?:"signature_name"\s*:\s*"(?P<sig>[A-Za-z0-9_.\-]*)"\s*,\s*)?'
    rb'"(?P<key>instances|inputs)"\s*:\s*(?=\[)'
)
# Number characters become "0" and whitespace goes: "[[0.5, 1], [2,3]]" -> "[[000,0],[0,0]]".
_MARK_NUMBERS = bytes.maketrans(b"123456789.eE+-", b"0" * 14)
_BRACKETS_TO_SPACES = bytes.maketrans(b"[]", b"  ")


def _skeleton_shape(skel: bytes) -> tuple | None:
    """The shape of a regular nested list from its brackets and commas; None if ragged."""
    depth = len(skel) - len(skel.lstrip(b"["))
    if depth < 1:
        return None
    shape = []
    for k in range(depth, 0, -1):  # k: bracket levels inside the first array counted
        end = skel.find(b"]" * k)
        if end < 0:
            return None
        segment = skel[depth - k : end]
        shape.append(segment.count(b"]" * (k - 1) + b",") + 1)
    if skel != json_template(tuple(shape), "").encode():
        return None
    return tuple(shape)


def _fast_numeric_body(raw: bytearray) -> tuple[str | None, bool, np.ndarray] | None:
    """``{"signature_name": ..., "instances"|"inputs": <numbers>}`` without nested lists.

    A body that is one regular array of plain numbers (what :class:`FeatureClient` sends) is
    read by NumPy's C parser, shape taken from its brackets; anything else (named inputs,
    b64, ragged, malformed, non-numbers) returns None for the general JSON path, which also
    gives every error message.
    """
    head = _FAST_HEAD.match(raw)
    end = len(raw.rstrip())
    if head is None or raw[end - 1 : end] != b"}":
        return None
    text = bytes(raw[head.end() : end - 1]).rstrip()
    marked = text.translate(_MARK_NUMBERS, b" \t\r\n")
    if marked.translate(None, b"[],0") or any(e in marked for e in (b"[,", b",,", b",]", b"[]")):
        return None  # other characters, or an empty value or list
    if (shape := _skeleton_shape(marked.translate(None, b"0"))) is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # a bad number ends parsing early
        values = np.fromstring(text.translate(_BRACKETS_TO_SPACES), dtype=np.float64, sep=",")
    if values.size != int(np.prod(shape)) or values.size == 0:
        return None
    if not any(c in text for c in (b".", b"e", b"E")):
        values = values.astype(np.int64)  # as json.loads would read integers
    sig = head["sig"].decode() if head["sig"] is not None else None
    return sig, head["key"] == b"instances", values.reshape(shape)


_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextlib.contextmanager
def _gc_paused():
    """No cyclic garbage collection while a request body becomes arrays.

    A batch of images parses into ~10^5 nested lists, and creating that many containers
    triggers collections that walk the server's whole heap (TensorFlow's objects included):
    in a loaded server they took longer than parsing itself. The lists hold no cycles and
    are freed by reference counting as soon as the arrays exist. Counted, since requests
    overlap: the collector resumes when the last one is done.
    """
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


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

    def _send(self, status: int, payload: dict | bytes) -> None:
        """Answers ``payload``: a dict to encode, or a JSON body already encoded."""
        with self.server.count_lock:
            self.server.request_count += 1
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
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

    def _predict(self, length: int) -> bytes:
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
            fast = _fast_numeric_body(raw)
            if fast is not None:
                sig = signature_of(model, fast[0])
                if len(sig.inputs) == 1:
                    inputs = validate_inputs(sig, {next(iter(sig.inputs)): fast[2]})
                    return _format_rest_outputs(model.run(sig.name, inputs), fast[1])
            with _gc_paused():
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

"""Serving features: a TF Serving client and a small local server with the same API.

:class:`FeatureClient` talks to TensorFlow Serving (or to ``tfless-serve``):

* REST: ``POST /v1/models/NAME[/versions/N|/labels/L]:predict`` with the row
  (``instances``) or columnar (``inputs``) request format, ``GET
  /v1/models/NAME[...]`` (status) and ``GET /v1/models/NAME[...]/metadata``;
* gRPC: ``tensorflow.serving.PredictionService/Predict`` with a
  ``PredictRequest`` from ``tensorflow-serving-api``.

It splits large inputs into batches, retries connection failures a bounded
number of times, and raises :class:`ServingError` carrying TF Serving's
``{"error": "..."}`` message and HTTP status.

:class:`LocalServer` (``tfless-serve``) loads export roots written by
:mod:`tfless.export` and answers the same REST URLs, JSON bodies and error
format, plus the same gRPC services. It is for development and tests on
machines where the TF Serving binary is not available; production uses TF
Serving (see ``export/``) with the same exports and the same client. On top of
what TF Serving checks, it refuses exports whose checksums do not match and
inputs outside the range recorded in the export's metadata.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tfless import export as _export

DEFAULT_SIGNATURE = _export.FEATURE_SIGNATURE
REST_PORT = 8501
GRPC_PORT = 8500
_MAX_BODY_BYTES = 256 << 20


# ------------------------------------------------------------------------ errors
class ServingError(RuntimeError):
    """A serving request failed.

    Attributes:
      status: HTTP status code (REST), or the gRPC status name (gRPC); None when
        the server was never reached.
      message: the server's error message (TF Serving's ``"error"`` field).
      url: the URL or gRPC target of the request.
    """

    def __init__(self, message: str, status=None, url: str | None = None):
        self.status = status
        self.message = message
        self.url = url
        where = f" ({url})" if url else ""
        code = f"HTTP {status}: " if isinstance(status, int) else (f"{status}: " if status else "")
        super().__init__(f"{code}{message}{where}")


class ServingConnectionError(ServingError):
    """The server could not be reached within the retry budget."""


class ModelLoadError(RuntimeError):
    """``tfless-serve`` refused to load an export (missing, corrupted or tampered)."""


class _RequestError(Exception):
    """An error answered to the caller with an HTTP status (and gRPC code)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _bad_request(message: str) -> _RequestError:
    return _RequestError(400, message)


def _not_found(message: str) -> _RequestError:
    return _RequestError(404, message)


# -------------------------------------------------------------- the model store
@dataclasses.dataclass
class _Signature:
    name: str
    inputs: dict  # key -> (numpy dtype, shape tuple with -1 for unknown)
    outputs: list  # output keys, sorted
    ranges: dict  # key -> (lo, hi) from tfless metadata; may be empty


@dataclasses.dataclass
class LoadedModel:
    """One loaded model version.

    Attributes:
      name, version, path: what was loaded from where.
      metadata: the tfless metadata dict ({} for foreign SavedModels).
      signatures: the callable signatures of the SavedModel.
    """

    name: str
    version: int
    path: str
    metadata: dict
    loaded: Any
    signatures: dict
    signature_def_json: dict

    def run(self, signature: str, inputs: dict) -> dict:
        """Runs a signature on validated numpy inputs; returns ``{output key: array}``."""
        import tensorflow as tf

        fn = self.loaded.signatures[signature]
        result = fn(**{k: tf.constant(v) for k, v in inputs.items()})
        return {k: v.numpy() for k, v in result.items()}


def _signature_defs(export_dir: str) -> dict:
    from google.protobuf import json_format
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow_serving.apis import get_model_metadata_pb2

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(export_dir, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    sig_map = get_model_metadata_pb2.SignatureDefMap()
    for meta_graph in proto.meta_graphs:
        if "serve" in meta_graph.meta_info_def.tags:
            for key, sig in meta_graph.signature_def.items():
                sig_map.signature_def[key].CopyFrom(sig)
    return json_format.MessageToDict(sig_map, preserving_proto_field_name=True)


def load_model_version(
    name: str, version: int, path: str, require_checksums: bool = True
) -> LoadedModel:
    """Loads one version directory after verifying its checksums.

    Raises:
      ModelLoadError: the directory is not a SavedModel, its checksums do not
        match (tampered or corrupted), or TensorFlow cannot load it.
    """
    import tensorflow as tf

    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise ModelLoadError(f"{path!r} (model {name!r} version {version}) has no saved_model.pb.")
    if require_checksums or os.path.isfile(os.path.join(path, _export.CHECKSUMS_PATH)):
        try:
            _export.verify_checksums(path)
        except _export.ChecksumError as e:
            raise ModelLoadError(f"Refusing to serve model {name!r} version {version}: {e}") from e
    metadata = {}
    if os.path.isfile(os.path.join(path, _export.METADATA_PATH)):
        metadata = _export.read_metadata(path)
    try:
        loaded = tf.saved_model.load(path)
    except Exception as e:  # TF raises a zoo of types for broken SavedModels
        raise ModelLoadError(f"TensorFlow cannot load {path!r} (model {name!r}): {e}") from e
    signatures = {}
    meta_sigs = metadata.get("signatures", {})
    for sig_name, fn in loaded.signatures.items():
        specs = fn.structured_input_signature[1]
        inputs = {
            k: (np.dtype(s.dtype.as_numpy_dtype), tuple(-1 if d is None else d for d in s.shape))
            for k, s in specs.items()
        }
        ranges = {}
        for k, spec in meta_sigs.get(sig_name, {}).get("inputs", {}).items():
            if "range" in spec:
                ranges[k] = tuple(spec["range"])
        signatures[sig_name] = _Signature(sig_name, inputs, sorted(fn.structured_outputs), ranges)
    return LoadedModel(name, version, path, metadata, loaded, signatures, _signature_defs(path))


class ModelStore:
    """The models a server answers for: ``{name: {version: LoadedModel}}`` plus version labels."""

    def __init__(self):
        self._models: dict[str, dict[int, LoadedModel]] = {}
        self._labels: dict[str, dict[str, int]] = {}

    @property
    def names(self) -> list[str]:
        return sorted(self._models)

    def versions(self, name: str) -> list[int]:
        return sorted(self._models.get(name, {}))

    def add_model(
        self,
        name: str,
        base_path: str,
        policy: str = "latest",
        versions: Sequence[int] = (),
        labels: Mapping[str, int] | None = None,
        require_checksums: bool = True,
    ) -> None:
        """Loads versions of one model from ``base_path`` (``<base_path>/<version>/``).

        Args:
          name: model name used in URLs.
          base_path: the model directory holding integer version directories.
          policy: ``'latest'`` (TF Serving's default: newest version only), ``'all'``,
            or ``'specific'`` (the ``versions`` given).
          versions: versions for ``policy='specific'``.
          labels: version labels, ``{'stable': 1}``.
          require_checksums: refuse exports without tfless checksum files.
        """
        _export.check_model_name(name)
        if not os.path.isdir(base_path):
            raise ModelLoadError(f"Model {name!r}: base path {base_path!r} is not a directory.")
        available = _export.list_versions(base_path)
        if not available:
            raise ModelLoadError(
                f"Model {name!r}: no integer version directories under {base_path!r}."
            )
        if policy == "latest":
            chosen = available[-1:]
        elif policy == "all":
            chosen = available
        elif policy == "specific":
            missing = sorted(set(versions) - set(available))
            if missing or not versions:
                raise ModelLoadError(
                    f"Model {name!r}: versions {missing or list(versions)} requested, "
                    f"available {available}."
                )
            chosen = sorted(set(versions))
        else:
            raise ValueError(f"policy must be 'latest', 'all' or 'specific'; got {policy!r}.")
        loaded = {
            v: load_model_version(name, v, os.path.join(base_path, str(v)), require_checksums)
            for v in chosen
        }
        for label, v in (labels or {}).items():
            if v not in loaded:
                raise ModelLoadError(
                    f"Model {name!r}: label {label!r} points at version {v}, which is not "
                    f"loaded (loaded: {sorted(loaded)})."
                )
        self._models[name] = loaded
        self._labels[name] = dict(labels or {})

    def add_root(self, root: str, policy: str = "latest", require_checksums: bool = True) -> None:
        """Loads every model directory under an export root."""
        if not os.path.isdir(root):
            raise ModelLoadError(f"Export root {root!r} is not a directory.")
        names = sorted(
            d
            for d in os.listdir(root)
            if os.path.isdir(os.path.join(root, d)) and not d.startswith(".")
        )
        if not names:
            raise ModelLoadError(f"Export root {root!r} holds no model directories.")
        for name in names:
            self.add_model(
                name, os.path.join(root, name), policy, require_checksums=require_checksums
            )

    def add_config_file(self, path: str, require_checksums: bool = True) -> None:
        """Loads the models of a TF Serving ``--model_config_file`` (text ``ModelServerConfig``)."""
        from google.protobuf import text_format
        from tensorflow_serving.config import model_server_config_pb2

        config = model_server_config_pb2.ModelServerConfig()
        try:
            with open(path) as f:
                text_format.Parse(f.read(), config)
        except (OSError, text_format.ParseError) as e:
            raise ModelLoadError(f"Cannot read model config file {path!r}: {e}") from e
        base_dir = os.path.dirname(os.path.abspath(path))
        for mc in config.model_config_list.config:
            which = mc.model_version_policy.WhichOneof("policy_choice")
            if which == "all":
                policy, versions = "all", ()
            elif which == "specific":
                policy, versions = "specific", tuple(mc.model_version_policy.specific.versions)
            else:
                policy, versions = "latest", ()
            base_path = mc.base_path
            if not os.path.isabs(base_path):
                base_path = os.path.join(base_dir, base_path)
            self.add_model(
                mc.name,
                base_path,
                policy,
                versions,
                dict(mc.version_labels),
                require_checksums,
            )

    def get(self, name: str, version=None, label=None) -> LoadedModel:
        """The loaded version for a request; raises a 404 error when there is none."""
        versions = self._models.get(name)
        if not versions:
            raise _not_found(f"Servable not found for request: Latest({name})")
        if label is not None:
            if label not in self._labels.get(name, {}):
                raise _not_found(f"Unrecognized servable version label: {label}")
            version = self._labels[name][label]
        if version is None:
            return versions[max(versions)]
        try:
            version = int(version)
        except (TypeError, ValueError):
            raise _bad_request(f"Failed to convert version: {version} to numeric.") from None
        if version not in versions:
            raise _not_found(f"Servable not found for request: Specific({name}, {version})")
        return versions[version]

    def status(self, name: str, version=None, label=None) -> dict:
        """TF Serving's ``GetModelStatus`` response as JSON."""
        if version is None and label is None:
            if name not in self._models:
                raise _not_found(f"Could not find any versions of model {name}")
            chosen = self.versions(name)
        else:
            chosen = [self.get(name, version, label).version]
        return {
            "model_version_status": [
                {
                    "version": str(v),
                    "state": "AVAILABLE",
                    "status": {"error_code": "OK", "error_message": ""},
                }
                for v in chosen
            ]
        }


# ------------------------------------------------------------ input validation
def _to_array(value, key: str, dtype: np.dtype, shape: tuple, value_range) -> np.ndarray:
    """Validates one named input against its signature spec and returns it as ``dtype``."""
    try:
        arr = np.asarray(value)
    except ValueError as e:
        raise _bad_request(f"Input {key!r} is ragged or malformed: {e}") from None
    if arr.dtype == object:
        raise _bad_request(
            f"Input {key!r} is ragged or holds non-numeric values: every instance must be a "
            "nested list of numbers of the same shape."
        )
    if arr.dtype.kind not in "iuf":
        raise _bad_request(
            f"Input {key!r} must hold numbers of dtype {dtype.name}; got values of type "
            f"{arr.dtype.name}."
        )
    if len(arr.shape) != len(shape) or any(
        want != -1 and got != want for got, want in zip(arr.shape, shape, strict=False)
    ):
        expected = "[" + ", ".join("batch" if d == -1 else str(d) for d in shape) + "]"
        raise _bad_request(
            f"Input {key!r} has shape {list(arr.shape)}; expected {expected} (dtype {dtype.name})."
        )
    if dtype.kind in "iu":
        if arr.dtype.kind == "f":
            if arr.size and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
                raise _bad_request(f"Input {key!r} must hold integers ({dtype.name}).")
        info = np.iinfo(dtype)
        lo, hi = value_range if value_range else (info.min, info.max)
        if arr.size and (arr.min() < lo or arr.max() > hi):
            raise _bad_request(
                f"Input {key!r} has values in [{arr.min()}, {arr.max()}]; expected {dtype.name} "
                f"in [{lo}, {hi}]."
            )
        return arr.astype(dtype)
    out = arr.astype(dtype)
    if out.size and not np.all(np.isfinite(out)):
        raise _bad_request(f"Input {key!r} contains NaN or infinite values.")
    if value_range and out.size:
        lo, hi = value_range
        if out.min() < lo or out.max() > hi:
            raise _bad_request(
                f"Input {key!r} has values in [{float(out.min()):.4g}, {float(out.max()):.4g}]; "
                f"this model expects images in [{lo}, {hi}] (see its metadata)."
            )
    return out


def _signature_of(model: LoadedModel, name: str | None) -> _Signature:
    name = name or DEFAULT_SIGNATURE
    if not isinstance(name, str) or name not in model.signatures:
        raise _bad_request(
            f'Serving signature name: "{name}" not found in signature def. Available: '
            f"{sorted(model.signatures)}"
        )
    return model.signatures[name]


def _validate_inputs(sig: _Signature, named: Mapping[str, Any]) -> dict[str, np.ndarray]:
    missing = sorted(set(sig.inputs) - set(named))
    extra = sorted(set(named) - set(sig.inputs))
    if missing or extra:
        raise _bad_request(
            f"Signature {sig.name!r} expects inputs {sorted(sig.inputs)}; "
            + (f"missing {missing}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"unexpected {extra}" if extra else "")
            + "."
        )
    return {
        k: _to_array(named[k], k, dtype, shape, sig.ranges.get(k))
        for k, (dtype, shape) in sig.inputs.items()
    }


def _parse_rest_predict(sig: _Signature, body: Any) -> tuple[dict, bool]:
    """Request JSON -> (validated inputs, row_format)."""
    if not isinstance(body, dict):
        raise _bad_request("Request body must be a JSON object with 'instances' or 'inputs'.")
    unknown = sorted(set(body) - {"signature_name", "instances", "inputs"})
    if unknown:
        raise _bad_request(
            f"Unknown request keys {unknown}; expected 'signature_name' and one of "
            "'instances' or 'inputs'."
        )
    has_rows, has_cols = "instances" in body, "inputs" in body
    if has_rows == has_cols:
        raise _bad_request(
            "Missing 'instances' or 'inputs' key"
            if not has_rows
            else "Request must contain exactly one of 'instances' or 'inputs', not both."
        )
    names = sorted(sig.inputs)
    if has_rows:
        rows = body["instances"]
        if not isinstance(rows, list) or not rows:
            raise _bad_request("'instances' must be a non-empty list of instances.")
        if all(isinstance(r, dict) for r in rows):
            keys = {frozenset(r) for r in rows}
            if len(keys) != 1:
                raise _bad_request("Every instance must have the same named inputs.")
            named = {k: [r[k] for r in rows] for k in rows[0]}
        elif any(isinstance(r, dict) for r in rows):
            raise _bad_request("Mixed named and unnamed instances.")
        elif len(names) == 1:
            named = {names[0]: rows}
        else:
            raise _bad_request(f"Instances must be objects naming the inputs {names}.")
        return _validate_inputs(sig, named), True
    cols = body["inputs"]
    if isinstance(cols, dict):
        named = cols
    elif len(names) == 1:
        named = {names[0]: cols}
    else:
        raise _bad_request(f"'inputs' must be an object naming the inputs {names}.")
    return _validate_inputs(sig, named), False


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


# ---------------------------------------------------------------- REST handler
_PATH_RE = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)"
    r"(?:/versions/(?P<version>[^/:]+)|/labels/(?P<label>[^/:]+))?"
    r"(?P<verb>/metadata|:predict|:classify|:regress)?$"
)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tfless-serve"
    # Headers and body go out in two writes; with Nagle on, the peer's delayed ACK
    # stalls every keep-alive response by ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - base class signature
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
            raise _not_found(f"Malformed request: {method} {self.path}")
        verb = match["verb"]
        if method == "GET" and verb not in (None, "/metadata"):
            raise _not_found(f"Malformed request: GET {self.path}")
        if method == "POST" and verb in (None, "/metadata"):
            raise _not_found(f"Malformed request: POST {self.path}")
        return match["name"], match["version"], match["label"], verb

    def do_GET(self):  # noqa: N802 - http.server naming
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
        except _RequestError as e:
            self._send(e.status, {"error": e.message})

    def do_POST(self):  # noqa: N802 - http.server naming
        try:
            length = self.headers.get("Content-Length")
            if length is None:
                raise _RequestError(411, "Missing Content-Length header.")
            try:
                length = int(length)
            except ValueError:
                raise _bad_request(f"Bad Content-Length {length!r}.") from None
            if length > self.server.max_body_bytes:
                self.close_connection = True
                raise _RequestError(
                    413,
                    f"Request body of {length} bytes exceeds the limit of "
                    f"{self.server.max_body_bytes} bytes; split the batch.",
                )
            raw = self.rfile.read(length)
            name, version, label, verb = self._route("POST")
            if verb != ":predict":
                raise _bad_request(
                    f"tfless-serve implements :predict only; {verb} needs a classify/regress "
                    "signature, which tfless exports do not have."
                )
            model = self.server.store.get(name, version, label)
            try:
                body = json.loads(raw, parse_constant=_reject_constant)
            except (ValueError, UnicodeDecodeError) as e:
                raise _bad_request(f"JSON Parse error: {e}") from None
            sig = _signature_of(
                model, body.get("signature_name") if isinstance(body, dict) else None
            )
            inputs, rows = _parse_rest_predict(sig, body)
            outputs = model.run(sig.name, inputs)
            self._send(200, _format_rest_outputs(outputs, rows))
        except _RequestError as e:
            self._send(e.status, {"error": e.message})
        except Exception as e:  # a failure inside TF must still answer in TF Serving's format
            self._send(500, {"error": f"{type(e).__name__}: {e}"})


# ---------------------------------------------------------------- gRPC service
_GRPC_CODES = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 413: "RESOURCE_EXHAUSTED"}


def _grpc_servicers(store: ModelStore):
    import grpc
    import tensorflow as tf
    from google.protobuf import json_format
    from tensorflow_serving.apis import (
        get_model_metadata_pb2,
        get_model_status_pb2,
        model_service_pb2_grpc,
        predict_pb2,
        prediction_service_pb2_grpc,
    )

    def spec_args(spec):
        version = spec.version.value if spec.HasField("version") else None
        label = spec.version_label or None
        return spec.name, version, label

    def abort(context, e: _RequestError):
        context.abort(getattr(grpc.StatusCode, _GRPC_CODES.get(e.status, "INTERNAL")), e.message)

    class Prediction(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):  # noqa: N802 - gRPC naming
            try:
                model = store.get(*spec_args(request.model_spec))
                sig = _signature_of(model, request.model_spec.signature_name or None)
                named = {}
                for key, proto in request.inputs.items():
                    if (
                        key in sig.inputs
                        and proto.dtype != tf.as_dtype(sig.inputs[key][0]).as_datatype_enum
                    ):
                        raise _bad_request(
                            f"Input {key!r} has dtype {tf.dtypes.as_dtype(proto.dtype).name}; "
                            f"expected {sig.inputs[key][0].name}."
                        )
                    named[key] = tf.make_ndarray(proto)
                outputs = model.run(sig.name, _validate_inputs(sig, named))
            except _RequestError as e:
                abort(context, e)
            response = predict_pb2.PredictResponse()
            response.model_spec.name = model.name
            response.model_spec.version.value = model.version
            response.model_spec.signature_name = sig.name
            for key, value in outputs.items():
                response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
            return response

        def GetModelMetadata(self, request, context):  # noqa: N802 - gRPC naming
            try:
                model = store.get(*spec_args(request.model_spec))
            except _RequestError as e:
                abort(context, e)
            response = get_model_metadata_pb2.GetModelMetadataResponse()
            response.model_spec.name = model.name
            response.model_spec.version.value = model.version
            sig_map = json_format.ParseDict(
                model.signature_def_json, get_model_metadata_pb2.SignatureDefMap()
            )
            response.metadata["signature_def"].Pack(sig_map)
            return response

    class Models(model_service_pb2_grpc.ModelServiceServicer):
        def GetModelStatus(self, request, context):  # noqa: N802 - gRPC naming
            try:
                status = store.status(*spec_args(request.model_spec))
            except _RequestError as e:
                abort(context, e)
            return json_format.ParseDict(status, get_model_status_pb2.GetModelStatusResponse())

    return (
        (Prediction(), prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server),
        (Models(), model_service_pb2_grpc.add_ModelServiceServicer_to_server),
    )


# ----------------------------------------------------------------- the server
class LocalServer:
    """``tfless-serve``: TF Serving's REST (and optionally gRPC) API over a :class:`ModelStore`.

    For local development and tests only; it binds to ``127.0.0.1`` by
    default. Use as a context manager (``with LocalServer(store) as s: s.url``)
    or call :meth:`start` / :meth:`stop`.

    Args:
      store: the loaded models.
      host: interface to bind.
      port: REST port; 0 picks a free port (see :attr:`port`).
      grpc_port: gRPC port; None disables gRPC, 0 picks a free port.
      max_body_bytes: larger REST requests get HTTP 413.
      verbose: log every request to stderr.
    """

    def __init__(
        self,
        store: ModelStore,
        host: str = "127.0.0.1",
        port: int = 0,
        grpc_port: int | None = None,
        max_body_bytes: int = _MAX_BODY_BYTES,
        verbose: bool = False,
    ):
        self.store = store
        self.host = host
        self._httpd = http.server.ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.store = store
        self._httpd.max_body_bytes = int(max_body_bytes)
        self._httpd.verbose = verbose
        self._httpd.request_count = 0
        self._httpd.count_lock = threading.Lock()
        self._thread = None
        self._grpc = None
        self.grpc_port = None
        if grpc_port is not None:
            from concurrent import futures

            import grpc

            self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
            for servicer, add in _grpc_servicers(store):
                add(servicer, self._grpc)
            self.grpc_port = self._grpc.add_insecure_port(f"{host}:{grpc_port}")

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def request_count(self) -> int:
        """REST requests answered so far (any status)."""
        return self._httpd.request_count

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def grpc_target(self) -> str | None:
        return None if self.grpc_port is None else f"{self.host}:{self.grpc_port}"

    def start(self) -> LocalServer:
        """Serves in a daemon thread; returns self."""
        if self._grpc is not None:
            self._grpc.start()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def serve(self, exit_after_seconds: float | None = None) -> None:
        """Serves in this thread until interrupted or ``exit_after_seconds`` have passed."""
        if self._grpc is not None:
            self._grpc.start()
        timer = None
        if exit_after_seconds:
            timer = threading.Timer(exit_after_seconds, self._httpd.shutdown)
            timer.daemon = True
            timer.start()
        try:
            self._httpd.serve_forever(poll_interval=0.1)
        finally:
            if timer is not None:
                timer.cancel()
            self._close()

    def stop(self) -> None:
        """Stops serving and closes the sockets."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._close()

    def _close(self) -> None:
        self._httpd.server_close()
        if self._grpc is not None:
            self._grpc.stop(grace=0)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ------------------------------------------------------------------- the client
def make_predict_request(
    model: str,
    images: np.ndarray,
    version: int | None = None,
    label: str | None = None,
    signature: str = DEFAULT_SIGNATURE,
    input_key: str = _export.INPUT_KEY,
):
    """A ``tensorflow_serving.apis.predict_pb2.PredictRequest`` for a batch of images."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = int(version)
    elif label is not None:
        request.model_spec.version_label = label
    request.inputs[input_key].CopyFrom(tf.make_tensor_proto(np.asarray(images)))
    return request


class FeatureClient:
    """Client for feature extraction from TF Serving or ``tfless-serve``.

    Args:
      url: REST base URL (``http://host:8501``) or gRPC target (``host:8500``).
      model: model name.
      version: integer version; None means the newest the server has.
      label: version label (instead of ``version``).
      protocol: ``'rest'`` or ``'grpc'``.
      signature: signature to call by default.
      request_format: REST body format, ``'instances'`` (row) or ``'inputs'`` (columnar).
      batch_size: inputs with more images are sent in several requests.
      timeout: seconds per request.
      max_retries: extra attempts after a connection failure or HTTP 503/gRPC
        UNAVAILABLE; other errors are not retried.
      backoff: seconds before the first retry, doubled after each retry.
    """

    def __init__(
        self,
        url: str,
        model: str,
        version: int | None = None,
        *,
        label: str | None = None,
        protocol: str = "rest",
        signature: str = DEFAULT_SIGNATURE,
        request_format: str = "instances",
        batch_size: int = 256,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff: float = 0.1,
    ):
        if protocol not in ("rest", "grpc"):
            raise ValueError(f"protocol must be 'rest' or 'grpc'; got {protocol!r}.")
        if request_format not in ("instances", "inputs"):
            raise ValueError(
                f"request_format must be 'instances' or 'inputs'; got {request_format!r}."
            )
        if version is not None and (not isinstance(version, int) or version < 1):
            raise ValueError(f"version must be a positive int or None; got {version!r}.")
        if version is not None and label is not None:
            raise ValueError("Pass either version or label, not both.")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1; got {batch_size!r}.")
        if int(max_retries) < 0 or float(timeout) <= 0:
            raise ValueError(
                f"max_retries must be >= 0 and timeout > 0; got {max_retries!r}, {timeout!r}."
            )
        self.protocol = protocol
        self.model = model
        self.version = version
        self.label = label
        self.signature = signature
        self.request_format = request_format
        self.batch_size = int(batch_size)
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        if protocol == "rest":
            import requests

            if not re.match(r"^https?://", url):
                raise ValueError(f"REST url must start with http:// or https://; got {url!r}.")
            self.url = url.rstrip("/")
            self._session = requests.Session()
            self._channel = None
        else:
            import grpc

            self.url = re.sub(r"^grpc://", "", url)
            self._session = None
            self._channel = grpc.insecure_channel(self.url)

    # ------------------------------------------------------------------ REST
    def _model_url(self) -> str:
        url = f"{self.url}/v1/models/{self.model}"
        if self.version is not None:
            url += f"/versions/{self.version}"
        elif self.label is not None:
            url += f"/labels/{self.label}"
        return url

    def _rest(self, method: str, url: str, payload: dict | None = None) -> dict:
        import requests

        # Bytes, not str: http.client then sends headers and body in one segment.
        data = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"} if data is not None else None
        delay = self.backoff
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = self._session.request(
                    method, url, data=data, headers=headers, timeout=self.timeout
                )
            except (requests.ConnectionError, requests.Timeout) as e:
                if last:
                    raise ServingConnectionError(
                        f"Could not reach the server after {attempt + 1} attempts: {e}", url=url
                    ) from e
                time.sleep(delay)
                delay *= 2
                continue
            if response.status_code == 503 and not last:
                time.sleep(delay)
                delay *= 2
                continue
            try:
                body = response.json()
            except ValueError:
                body = None
            if response.status_code != 200:
                message = body.get("error") if isinstance(body, dict) else None
                raise ServingError(
                    message or response.text[:500] or response.reason, response.status_code, url
                )
            if not isinstance(body, dict):
                raise ServingError(f"Expected a JSON object, got {response.text[:200]!r}", 200, url)
            return body
        raise AssertionError("unreachable")

    def status(self) -> dict:
        """The model's version status (``GET /v1/models/NAME[...]``; gRPC GetModelStatus)."""
        if self.protocol == "grpc":
            from google.protobuf import json_format
            from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

            request = get_model_status_pb2.GetModelStatusRequest()
            self._fill_spec(request.model_spec)
            stub = model_service_pb2_grpc.ModelServiceStub(self._channel)
            response = self._grpc_call(stub.GetModelStatus, request)
            return json_format.MessageToDict(response, preserving_proto_field_name=True)
        return self._rest("GET", self._model_url())

    def metadata(self) -> dict:
        """The model's signature metadata (``GET .../metadata``; gRPC GetModelMetadata)."""
        if self.protocol == "grpc":
            from google.protobuf import json_format
            from tensorflow_serving.apis import get_model_metadata_pb2, prediction_service_pb2_grpc

            request = get_model_metadata_pb2.GetModelMetadataRequest()
            self._fill_spec(request.model_spec)
            request.metadata_field.append("signature_def")
            stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
            response = self._grpc_call(stub.GetModelMetadata, request)
            sig_map = get_model_metadata_pb2.SignatureDefMap()
            response.metadata["signature_def"].Unpack(sig_map)
            return {
                "model_spec": json_format.MessageToDict(
                    response.model_spec, preserving_proto_field_name=True
                ),
                "metadata": {
                    "signature_def": json_format.MessageToDict(
                        sig_map, preserving_proto_field_name=True
                    )
                },
            }
        return self._rest("GET", self._model_url() + "/metadata")

    def predict_json(self, payload: dict) -> dict:
        """Sends a raw REST predict body and returns the raw response JSON."""
        if self.protocol != "rest":
            raise ValueError("predict_json is REST only.")
        return self._rest("POST", self._model_url() + ":predict", payload)

    # ------------------------------------------------------------------ gRPC
    def _fill_spec(self, spec) -> None:
        spec.name = self.model
        if self.version is not None:
            spec.version.value = self.version
        elif self.label is not None:
            spec.version_label = self.label

    def _grpc_call(self, fn, request):
        import grpc

        delay = self.backoff
        for attempt in range(self.max_retries + 1):
            try:
                return fn(request, timeout=self.timeout)
            except grpc.RpcError as e:
                code = e.code()
                if code == grpc.StatusCode.UNAVAILABLE and attempt < self.max_retries:
                    time.sleep(delay)
                    delay *= 2
                    continue
                cls = (
                    ServingConnectionError if code == grpc.StatusCode.UNAVAILABLE else ServingError
                )
                raise cls(e.details() or str(code), code.name, self.url) from e
        raise AssertionError("unreachable")

    # --------------------------------------------------------------- predict
    def predict(self, images, signature: str | None = None, output_key: str | None = None):
        """Features (or logits) of ``images``, sent in batches of ``batch_size``.

        Args:
          images: array ``[N, H, W, C]``: float32 in [0, 1] for ``serving_default``
            and ``logits``, uint8 for ``serving_uint8``.
          signature: signature name (default: the client's).
          output_key: which output to return when the signature has several.

        Returns:
          float32 array ``[N, D]``.
        """
        signature = signature or self.signature
        images = np.asarray(images)
        if images.ndim < 1 or len(images) == 0:
            raise ValueError(f"images must be a non-empty batch; got shape {images.shape}.")
        chunks = []
        for start in range(0, len(images), self.batch_size):
            batch = images[start : start + self.batch_size]
            if self.protocol == "grpc":
                chunks.append(self._predict_grpc(batch, signature, output_key))
            else:
                chunks.append(self._predict_rest(batch, signature, output_key))
        return np.concatenate(chunks, axis=0)

    __call__ = predict

    def _predict_rest(self, batch, signature, output_key) -> np.ndarray:
        values = batch.tolist()
        if self.request_format == "instances":
            payload = {"signature_name": signature, "instances": values}
            body = self._rest("POST", self._model_url() + ":predict", payload)
            result = body.get("predictions")
            if isinstance(result, list) and result and isinstance(result[0], dict):
                key = output_key or _single_key(result[0])
                result = [row[key] for row in result]
        else:
            payload = {"signature_name": signature, "inputs": values}
            body = self._rest("POST", self._model_url() + ":predict", payload)
            result = body.get("outputs")
            if isinstance(result, dict):
                result = result[output_key or _single_key(result)]
        if result is None:
            raise ServingError(f"Response has no predictions: {str(body)[:200]}", 200, self.url)
        return np.asarray(result, np.float32)

    def _predict_grpc(self, batch, signature, output_key) -> np.ndarray:
        import tensorflow as tf
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        request = make_predict_request(self.model, batch, self.version, self.label, signature)
        stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        response = self._grpc_call(stub.Predict, request)
        key = output_key or _single_key(response.outputs)
        return tf.make_ndarray(response.outputs[key]).astype(np.float32)

    def close(self) -> None:
        """Closes the HTTP session or gRPC channel."""
        if self._session is not None:
            self._session.close()
        if self._channel is not None:
            self._channel.close()

    def __enter__(self) -> FeatureClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _single_key(mapping) -> str:
    keys = sorted(mapping)
    if len(keys) != 1:
        raise ServingError(f"The response has several outputs {keys}; pass output_key.")
    return keys[0]

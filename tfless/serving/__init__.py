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

Like TF Serving, ``tfless-serve --export_root`` serves every model that has a
complete version, logs and skips a model directory that has none yet (an export
still being written), and picks up new versions and models as they appear
(``--file_system_poll_wait_seconds``, :meth:`ModelStore.refresh`).

Its memory is bounded (:mod:`~tfless.serving.limits`). Defaults, each a
``tfless-serve`` flag and a :class:`LocalServer` argument:

* a REST body holds at most 256 instances (``FeatureClient``'s default batch) of the
  model's largest input as JSON: 1.7 MB for 16x16x1 images, 20 MB for 32x32x3;
  larger bodies get HTTP 413 before they are read (``--rest_api_max_body_bytes``,
  ``max_body_bytes``);
* 4 predict requests (REST and gRPC together) run at once; others wait up to 10 s,
  then get HTTP 503 / gRPC ``UNAVAILABLE``, which ``FeatureClient`` retries with
  backoff (``--max_concurrent_requests``, ``--request_queue_timeout_seconds``);
* 64 REST connections, a thread each; more get 503 and are closed
  (``--rest_api_max_connections``);
* a REST connection idle for 30 s is closed, and so is one whose body has not fully
  arrived in 30 s, after an HTTP 408 (``--rest_api_read_timeout_seconds``).

Every refusal is TF Serving's ``{"error": "..."}`` body. gRPC messages are limited
to gRPC's default 4 MB, and a malformed ``TensorProto`` (``tensor_content`` not
matching shape and dtype) gets ``INVALID_ARGUMENT``.

Modules: :mod:`~tfless.serving.client` (``FeatureClient``), :mod:`~tfless.serving.store`
(models and versions), :mod:`~tfless.serving.validation` (input checks),
:mod:`~tfless.serving.limits` (request size, concurrency and time limits),
:mod:`~tfless.serving.rest_server` and :mod:`~tfless.serving.grpc_server` (the two
protocols), :mod:`~tfless.serving.server` (``LocalServer``, ``tfless-serve``),
:mod:`~tfless.serving.errors`.
"""

from tfless.serving.client import DEFAULT_SIGNATURE, FeatureClient, make_predict_request
from tfless.serving.errors import ModelLoadError, ServingConnectionError, ServingError
from tfless.serving.server import LocalServer
from tfless.serving.store import LoadedModel, ModelStore, load_model_version

__all__ = [
    "DEFAULT_SIGNATURE",
    "FeatureClient",
    "LoadedModel",
    "LocalServer",
    "ModelLoadError",
    "ModelStore",
    "ServingConnectionError",
    "ServingError",
    "load_model_version",
    "make_predict_request",
]

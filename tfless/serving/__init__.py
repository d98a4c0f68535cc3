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

Modules: :mod:`~tfless.serving.client` (``FeatureClient``), :mod:`~tfless.serving.store`
(models and versions), :mod:`~tfless.serving.validation` (input checks),
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

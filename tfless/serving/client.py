"""The client of TF Serving (and ``tfless-serve``): REST and gRPC feature extraction."""

from __future__ import annotations

import json
import re
import time

import numpy as np

from tfless import export_format as fmt
from tfless.serving.errors import ServingConnectionError, ServingError
from tfless.serving.validation import json_array

DEFAULT_SIGNATURE = fmt.FEATURE_SIGNATURE


def make_predict_request(
    model: str,
    images: np.ndarray,
    version: int | None = None,
    label: str | None = None,
    signature: str = DEFAULT_SIGNATURE,
    input_key: str = fmt.INPUT_KEY,
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
        if payload is None or isinstance(payload, bytes):
            data = payload  # a body already encoded (see _predict_rest)
        else:
            data = json.dumps(payload).encode()
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
        # The JSON text of the batch straight from the array: nested Python lists of floats
        # and their encoding cost more than the model does for a large batch.
        values = json_array(batch, float32_digits=9)  # the server reads float32 as float32
        sig = json.dumps(signature)
        if self.request_format == "instances":
            payload = f'{{"signature_name":{sig},"instances":{values}}}'.encode()
            body = self._rest("POST", self._model_url() + ":predict", payload)
            result = body.get("predictions")
            if isinstance(result, list) and result and isinstance(result[0], dict):
                key = output_key or _single_key(result[0])
                result = [row[key] for row in result]
        else:
            payload = f'{{"signature_name":{sig},"inputs":{values}}}'.encode()
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

"""TF Serving's gRPC services (``PredictionService``, ``ModelService``) over a model store."""

from __future__ import annotations

import numpy as np

from tfless.serving.errors import RequestError, bad_request
from tfless.serving.limits import RequestSlots
from tfless.serving.store import ModelStore
from tfless.serving.validation import signature_of, validate_inputs

_GRPC_CODES = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    413: "RESOURCE_EXHAUSTED",
    503: "UNAVAILABLE",
}
# TensorProto's repeated value fields; a tensor carries its values in one of them or in
# ``tensor_content``.
_VALUE_FIELDS = (
    "half_val",
    "float_val",
    "double_val",
    "int_val",
    "string_val",
    "scomplex_val",
    "int64_val",
    "bool_val",
    "dcomplex_val",
    "uint32_val",
    "uint64_val",
)


def _spec_args(spec) -> tuple:
    """(name, version, label) of a ``ModelSpec``, as :meth:`ModelStore.get` takes them."""
    version = spec.version.value if spec.HasField("version") else None
    label = spec.version_label or None
    return spec.name, version, label


def _dtype_name(enum: int) -> str:
    import tensorflow as tf

    try:
        return tf.dtypes.as_dtype(enum).name
    except TypeError:
        return f"unknown DataType {enum}"


def tensor_to_array(key: str, proto, dtype: np.dtype) -> np.ndarray:
    """A request ``TensorProto`` as an array of ``dtype``; INVALID_ARGUMENT when malformed.

    The values must fill the shape exactly: ``tensor_content`` of ``elements x itemsize``
    bytes, or that many entries in a value field. (TensorFlow would pad short value
    lists, so a tensor claiming a huge shape could allocate gigabytes from a few bytes.)
    """
    import tensorflow as tf

    want = tf.as_dtype(dtype).as_datatype_enum
    if proto.dtype != want:
        raise bad_request(
            f"Input {key!r} has dtype {_dtype_name(proto.dtype)}; expected {dtype.name}."
        )
    dims = [d.size for d in proto.tensor_shape.dim]
    if proto.tensor_shape.unknown_rank or any(d < 0 for d in dims):
        raise bad_request(f"Input {key!r} has shape {dims}; every dimension must be known.")
    elements = int(np.prod(dims, dtype=np.int64))
    if proto.tensor_content:
        given = len(proto.tensor_content)
        if given != elements * dtype.itemsize:
            raise bad_request(
                f"Input {key!r}: tensor_content has {given} bytes; shape {dims} of "
                f"{dtype.name} needs {elements * dtype.itemsize}."
            )
    else:
        given = max(len(getattr(proto, field)) for field in _VALUE_FIELDS)
        if given != elements:
            raise bad_request(f"Input {key!r} holds {given} values; shape {dims} needs {elements}.")
    try:
        return tf.make_ndarray(proto)
    except Exception as e:  # TensorFlow's converters raise several types for bad protos
        raise bad_request(f"Input {key!r} is not a valid tensor: {e}") from None


def _named_inputs(request, sig) -> dict:
    """The request's tensors as arrays, each checked against the signature's dtype."""
    named = {}
    for key, proto in request.inputs.items():
        if key in sig.inputs:
            named[key] = tensor_to_array(key, proto, sig.inputs[key][0])
        else:  # validate_inputs names it as unexpected
            named[key] = None
    return named


def grpc_servicers(store: ModelStore, slots: RequestSlots | None = None):
    """``((servicer, add_to_server), ...)`` answering TF Serving's gRPC API from ``store``.

    ``slots`` bounds the Predict calls running at once (shared with REST by
    :class:`LocalServer`). gRPC and TensorFlow Serving's protos are imported here, so
    REST-only use does not need them.
    """
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

    slots = slots or RequestSlots()

    def abort(context, e: RequestError):
        context.abort(getattr(grpc.StatusCode, _GRPC_CODES.get(e.status, "INTERNAL")), e.message)

    class Prediction(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):  # named by the gRPC service
            try:
                model = store.get(*_spec_args(request.model_spec))
                sig = signature_of(model, request.model_spec.signature_name or None)
                with slots.hold():
                    inputs = validate_inputs(sig, _named_inputs(request, sig))
                    outputs = model.run(sig.name, inputs)
            except RequestError as e:
                abort(context, e)
            except Exception as e:  # a failure inside TF: INTERNAL, as REST answers 500
                context.abort(grpc.StatusCode.INTERNAL, f"{type(e).__name__}: {e}")
            response = predict_pb2.PredictResponse()
            response.model_spec.name = model.name
            response.model_spec.version.value = model.version
            response.model_spec.signature_name = sig.name
            for key, value in outputs.items():
                response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
            return response

        def GetModelMetadata(self, request, context):  # named by the gRPC service
            try:
                model = store.get(*_spec_args(request.model_spec))
            except RequestError as e:
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
        def GetModelStatus(self, request, context):  # named by the gRPC service
            try:
                status = store.status(*_spec_args(request.model_spec))
            except RequestError as e:
                abort(context, e)
            return json_format.ParseDict(status, get_model_status_pb2.GetModelStatusResponse())

    return (
        (Prediction(), prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server),
        (Models(), model_service_pb2_grpc.add_ModelServiceServicer_to_server),
    )

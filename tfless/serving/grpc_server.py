"""TF Serving's gRPC services (``PredictionService``, ``ModelService``) over a model store."""

from __future__ import annotations

from tfless.serving.errors import RequestError, bad_request
from tfless.serving.store import ModelStore
from tfless.serving.validation import signature_of, validate_inputs

_GRPC_CODES = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 413: "RESOURCE_EXHAUSTED"}


def _spec_args(spec) -> tuple:
    """(name, version, label) of a ``ModelSpec``, as :meth:`ModelStore.get` takes them."""
    version = spec.version.value if spec.HasField("version") else None
    label = spec.version_label or None
    return spec.name, version, label


def _named_inputs(request, sig) -> dict:
    """The request's tensors as arrays; a dtype other than the signature's is refused."""
    import tensorflow as tf

    named = {}
    for key, proto in request.inputs.items():
        if key in sig.inputs and proto.dtype != tf.as_dtype(sig.inputs[key][0]).as_datatype_enum:
            raise bad_request(
                f"Input {key!r} has dtype {tf.dtypes.as_dtype(proto.dtype).name}; "
                f"expected {sig.inputs[key][0].name}."
            )
        named[key] = tf.make_ndarray(proto)
    return named


def grpc_servicers(store: ModelStore):
    """``((servicer, add_to_server), ...)`` answering TF Serving's gRPC API from ``store``.

    gRPC and TensorFlow Serving's protos are imported here, so REST-only use does not need them.
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

    def abort(context, e: RequestError):
        context.abort(getattr(grpc.StatusCode, _GRPC_CODES.get(e.status, "INTERNAL")), e.message)

    class Prediction(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):  # named by the gRPC service
            try:
                model = store.get(*_spec_args(request.model_spec))
                sig = signature_of(model, request.model_spec.signature_name or None)
                outputs = model.run(sig.name, validate_inputs(sig, _named_inputs(request, sig)))
            except RequestError as e:
                abort(context, e)
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

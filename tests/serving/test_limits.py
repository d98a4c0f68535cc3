"""The local server's resource limits: body size, requests in flight, connections, read time."""

import json
import re
import select
import socket
import threading
import time

import grpc
import numpy as np
import pytest
import requests
from tensorflow_serving.apis import prediction_service_pb2_grpc

from tfless import serving

SHAPE = (16, 16, 1)


def _raw(srv, head: bytes, body: bytes = b"", timeout: float = 5.0):
    """Sends raw bytes; returns (everything received until the server closes, seconds taken)."""
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)
    start = time.monotonic()
    try:
        sock.sendall(head + body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received, time.monotonic() - start
    finally:
        sock.close()


def _head(length: int) -> bytes:
    return (
        f"POST /v1/models/digits:predict HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _error(raw: bytes) -> tuple[int, str]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)["error"]


def _wait_for(condition, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_default_body_limit_fits_a_client_batch_and_refuses_more(server):
    with serving.LocalServer(server.store) as srv:
        # FeatureClient's default batch of 256 16x16x1 images goes through...
        x = np.random.default_rng(0).random((256, *SHAPE), dtype=np.float32)
        assert serving.FeatureClient(srv.url, "digits").predict(x).shape[0] == 256
        # ...a 50 MB body is refused from its header, before the server reads it.
        raw, seconds = _raw(srv, _head(50 << 20), b'{"instances": [')
        status, message = _error(raw)
        assert status == 413 and seconds < 2
        assert re.search(r"exceeds the limit of 1\d{6} bytes; split the batch", message)
        # A client sending a whole oversized body reads the 413, not a broken pipe.
        big = {"instances": x[:200].tolist() * 2}  # 400 images, 2.2 MB
        response = requests.post(srv.url + "/v1/models/digits:predict", json=big, timeout=10)
        assert response.status_code == 413 and set(response.json()) == {"error"}


def test_stalled_trickling_and_idle_connections_are_closed(server):
    with serving.LocalServer(server.store, read_timeout=0.5) as srv:
        raw, seconds = _raw(srv, _head(1000), b'{"instances": ')
        status, message = _error(raw)
        assert status == 408 and "not received within 0.5 s (14 of 1000 bytes)" in message
        assert 0.4 < seconds < 2
        # A body that keeps trickling in is closed at the deadline too, not per byte.
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
            sock.sendall(_head(1000))
            start = time.monotonic()
            while not select.select([sock], [], [], 0.1)[0]:
                assert time.monotonic() - start < 3, "still reading a trickling body"
                sock.sendall(b" ")
            assert sock.recv(65536).startswith(b"HTTP/1.1 408")
            assert 0.4 < time.monotonic() - start < 1.5
        # A connection that never sends a request line is closed as well.
        raw, seconds = _raw(srv, b"")
        assert raw == b"" and 0.4 < seconds < 2
        _wait_for(lambda: srv.stats["connections_open"] == 0)


def test_excess_concurrency_waits_then_gets_503(server, reference):
    x, _ = reference
    body = {"instances": x[:1].tolist()}
    with serving.LocalServer(server.store, grpc_port=0, max_in_flight=1, queue_timeout=0.3) as srv:
        url = srv.url + "/v1/models/digits:predict"
        with srv.slots.hold():  # the one slot is busy
            start = time.monotonic()
            response = requests.post(url, json=body, timeout=10)
            assert response.status_code == 503 and 0.25 < time.monotonic() - start < 2
            assert "Server busy: 1 requests are already running" in response.json()["error"]
            stub = prediction_service_pb2_grpc.PredictionServiceStub(
                grpc.insecure_channel(srv.grpc_target)
            )
            with pytest.raises(grpc.RpcError) as err:
                stub.Predict(serving.make_predict_request("digits", x[:1]), timeout=10)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
            # A request that arrives while the slot is busy waits for it.
            result = {}
            waiter = threading.Thread(
                target=lambda: result.update(r=requests.post(url, json=body, timeout=10))
            )
            waiter.start()
            _wait_for(lambda: srv.stats["queued"] == 3)
        waiter.join(timeout=5)
        assert result["r"].status_code == 200
        assert srv.stats["rejected_busy"] == 2


def test_connections_beyond_the_limit_get_503(server):
    with serving.LocalServer(server.store, max_connections=2, read_timeout=5) as srv:
        idle = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(2)]
        _wait_for(lambda: srv.stats["connections_open"] == 2)
        response = requests.get(srv.url + "/v1/models/digits", timeout=5)
        assert response.status_code == 503 and "2 connections are open" in response.json()["error"]
        for sock in idle:
            sock.close()
        _wait_for(lambda: srv.stats["connections_open"] == 0)
        assert requests.get(srv.url + "/v1/models/digits", timeout=5).status_code == 200


@pytest.mark.parametrize(
    "corrupt, match",
    [
        (lambda t: setattr(t, "tensor_content", t.tensor_content[:-4]), "needs 1024"),
        (lambda t: t.tensor_shape.dim[0].__setattr__("size", 10**9), "needs 1024000000000"),
        (lambda t: (t.ClearField("tensor_content"), t.float_val.extend([0.5])), "holds 1 values"),
        (lambda t: t.tensor_shape.dim[1].__setattr__("size", -1), "must be known"),
        (lambda t: setattr(t, "dtype", 999), "unknown DataType 999"),
    ],
)
def test_malformed_grpc_tensors_get_invalid_argument(server, reference, corrupt, match):
    x, _ = reference
    request = serving.make_predict_request("digits", x[:1])
    corrupt(request.inputs["image"])
    stub = prediction_service_pb2_grpc.PredictionServiceStub(
        grpc.insecure_channel(server.grpc_target)
    )
    with pytest.raises(grpc.RpcError) as err:
        stub.Predict(request, timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    assert match in err.value.details()


def test_limits_are_checked():
    store = serving.ModelStore()
    for bad in ({"max_in_flight": 0}, {"read_timeout": -1}, {"max_body_bytes": 0}):
        with pytest.raises(ValueError, match=f"{next(iter(bad))} must be a number > 0"):
            serving.LocalServer(store, **bad)

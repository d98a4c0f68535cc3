"""``tfless-serve``: a local server answering TF Serving's REST and gRPC APIs."""

from __future__ import annotations

import http.server
import threading

from tfless.serving.grpc_server import grpc_servicers
from tfless.serving.rest_server import RestHandler
from tfless.serving.store import ModelStore

_MAX_BODY_BYTES = 256 << 20


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
        self._httpd = http.server.ThreadingHTTPServer((host, port), RestHandler)
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
            for servicer, add in grpc_servicers(store):
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

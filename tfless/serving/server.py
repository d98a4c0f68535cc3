"""``tfless-serve``: a local server answering TF Serving's REST and gRPC APIs.

Its memory is bounded (see :mod:`tfless.serving.limits`): REST bodies by
``max_body_bytes``, model calls running at once by ``max_in_flight`` (REST and gRPC
together; excess waits ``queue_timeout`` seconds, then 503 / ``UNAVAILABLE``), REST
connections by ``max_connections`` (excess: 503, closed), and idle or stalled REST
connections by ``read_timeout``.
"""

from __future__ import annotations

import http.server
import json
import logging
import threading

from tfless.serving import limits
from tfless.serving.grpc_server import grpc_servicers
from tfless.serving.rest_server import RestHandler
from tfless.serving.store import ModelStore

_log = logging.getLogger(__name__)


class _HTTPServer(http.server.ThreadingHTTPServer):
    """One thread per connection, at most ``max_connections`` of them."""

    daemon_threads = True
    # socketserver's default backlog of 5 drops simultaneous connects before they are
    # accepted and counted; the connection limit, not the backlog, decides who is served.
    request_queue_size = 128

    def __init__(self, address, handler, max_connections: int):
        super().__init__(address, handler)
        self.max_connections = int(max_connections)
        self.open_connections = 0
        self.refused_connections = 0
        self.count_lock = threading.Lock()
        self.request_count = 0

    def process_request(self, request, client_address):  # named by socketserver
        with self.count_lock:
            full = self.open_connections >= self.max_connections
            if full:
                self.refused_connections += 1
            else:
                self.open_connections += 1
        if full:
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._closed()
            raise

    def process_request_thread(self, request, client_address):  # named by socketserver
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._closed()

    def _closed(self) -> None:
        with self.count_lock:
            self.open_connections -= 1

    def _refuse(self, request) -> None:
        # Answered from the accepting thread, so it must not wait on the client.
        body = json.dumps(
            {
                "error": f"Server busy: {self.max_connections} connections are open; retry "
                "later (the limit is --rest_api_max_connections)."
            }
        ).encode()
        head = (
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        try:
            request.settimeout(0.1)
            request.sendall(head.encode() + body)
        except OSError:
            pass
        self.shutdown_request(request)


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
      max_body_bytes: larger REST bodies get HTTP 413. None: per model, room for 256
        instances of its largest input as JSON (1.7 MB for 16x16x1 images, 20 MB for
        32x32x3, 177 MB for 96x96x3); see :func:`tfless.serving.limits.auto_max_body_bytes`.
      max_in_flight: predict requests (REST and gRPC) running at once.
      queue_timeout: seconds a request beyond ``max_in_flight`` waits for a slot before
        it gets HTTP 503 (gRPC ``UNAVAILABLE``).
      read_timeout: seconds a REST connection may sit idle, and the most a request body
        may take to arrive; the connection is closed after that (408 for a body).
      max_connections: open REST connections; more are answered 503 and closed.
      poll_seconds: look for new model versions this often (:meth:`ModelStore.refresh`);
        None never looks.
      verbose: log every request to stderr.
    """

    def __init__(
        self,
        store: ModelStore,
        host: str = "127.0.0.1",
        port: int = 0,
        grpc_port: int | None = None,
        max_body_bytes: int | None = None,
        verbose: bool = False,
        *,
        max_in_flight: int = limits.DEFAULT_MAX_IN_FLIGHT,
        queue_timeout: float = limits.DEFAULT_QUEUE_TIMEOUT,
        read_timeout: float = limits.DEFAULT_READ_TIMEOUT,
        max_connections: int = limits.DEFAULT_MAX_CONNECTIONS,
        poll_seconds: float | None = None,
    ):
        limits.check_positive(
            read_timeout=read_timeout, max_connections=max_connections, max_in_flight=max_in_flight
        )
        if max_body_bytes is not None:
            limits.check_positive(max_body_bytes=max_body_bytes)
        if poll_seconds is not None:
            limits.check_positive(poll_seconds=poll_seconds)
        self.store = store
        self.host = host
        self.slots = limits.RequestSlots(max_in_flight, queue_timeout)
        self._httpd = _HTTPServer((host, port), RestHandler, max_connections)
        self._httpd.store = store
        self._httpd.max_body_bytes = None if max_body_bytes is None else int(max_body_bytes)
        self._httpd.read_timeout = float(read_timeout)
        self._httpd.slots = self.slots
        self._httpd.verbose = verbose
        self._thread = None
        self._poll_seconds = poll_seconds
        self._poll_stop = threading.Event()
        self._poller = None
        self._grpc = None
        self.grpc_port = None
        if grpc_port is not None:
            from concurrent import futures

            import grpc

            # Calls beyond max_connections are refused by gRPC itself (RESOURCE_EXHAUSTED).
            self._grpc = grpc.server(
                futures.ThreadPoolExecutor(max_workers=max(4, int(max_in_flight))),
                maximum_concurrent_rpcs=int(max_connections),
            )
            for servicer, add in grpc_servicers(store, self.slots):
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
    def stats(self) -> dict:
        """Counts so far: REST answers, requests that waited for a slot or got 503 busy,
        REST connections refused (too many open) and open now."""
        return {
            "rest_requests": self._httpd.request_count,
            "queued": self.slots.stats["queued"],
            "rejected_busy": self.slots.stats["rejected"],
            "connections_refused": self._httpd.refused_connections,
            "connections_open": self._httpd.open_connections,
        }

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def grpc_target(self) -> str | None:
        return None if self.grpc_port is None else f"{self.host}:{self.grpc_port}"

    def _start_background(self) -> None:
        if self._grpc is not None:
            self._grpc.start()
        if self._poll_seconds is not None:
            self._poll_stop.clear()
            self._poller = threading.Thread(target=self._poll, daemon=True)
            self._poller.start()

    def _poll(self) -> None:
        while not self._poll_stop.wait(self._poll_seconds):
            try:
                self.store.refresh()
            except Exception:  # a bad directory must not stop the polling of the others
                _log.exception("Looking for new model versions failed")

    def start(self) -> LocalServer:
        """Serves in a daemon thread; returns self."""
        self._start_background()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def serve(self, exit_after_seconds: float | None = None) -> None:
        """Serves in this thread until interrupted or ``exit_after_seconds`` have passed."""
        self._start_background()
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
        self._poll_stop.set()
        if self._poller is not None:
            self._poller.join(timeout=5)
            self._poller = None
        self._httpd.server_close()
        if self._grpc is not None:
            self._grpc.stop(grace=0)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

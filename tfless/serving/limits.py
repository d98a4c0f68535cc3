"""What bounds ``tfless-serve``'s memory: request size, requests in flight, connections, time.

A REST request costs far more memory than its body: the JSON becomes Python floats, then
arrays, then the model's activations (a 50 MB body of 16x16 images took about 1.7 GB).
So the server bounds each factor:

* body size: by default room for :data:`AUTO_BATCH` instances of the model's largest
  input written as JSON (:data:`JSON_BYTES_PER_VALUE` bytes per value), so a
  ``FeatureClient`` batch at its default size always fits; larger bodies get HTTP 413;
* requests running the model at once (REST and gRPC share the count): more wait up to a
  queue timeout, then get HTTP 503 / gRPC ``UNAVAILABLE``;
* open REST connections (one thread each): more are answered 503 and closed;
* read time: a connection idle that long, or a body not fully received in that time,
  is closed (a stalled body gets 408 first).
"""

from __future__ import annotations

import contextlib
import threading

from tfless.serving.errors import RequestError

AUTO_BATCH = 256  # FeatureClient's default batch_size
# float32 written by json.dumps(array.tolist()): up to 23 characters ("-1.1754943508222875e-38")
# plus ", "; random images average 21.
JSON_BYTES_PER_VALUE = 25
_BODY_SLACK = 64 << 10  # brackets, keys, signature_name, named instances
FALLBACK_MAX_BODY_BYTES = 64 << 20  # for models with no input of fixed size

DEFAULT_MAX_IN_FLIGHT = 4
DEFAULT_QUEUE_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_MAX_CONNECTIONS = 64


def auto_max_body_bytes(instance_values: int | None) -> int:
    """The default body limit for a model whose largest input has ``instance_values`` values
    per instance (None: a dimension other than the batch is open)."""
    if instance_values is None:
        return FALLBACK_MAX_BODY_BYTES
    return AUTO_BATCH * instance_values * JSON_BYTES_PER_VALUE + _BODY_SLACK


def check_positive(**values) -> None:
    """Raises ValueError naming the first value that is not a number > 0."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a number > 0; got {value!r}.")


class RequestSlots:
    """At most ``limit`` requests run at once; others wait up to ``wait_seconds``, then 503.

    Counts what happened for :attr:`stats`: ``queued`` (had to wait) and ``rejected``
    (gave up after waiting).
    """

    def __init__(self, limit: int = DEFAULT_MAX_IN_FLIGHT, wait_seconds: float = 0.0):
        check_positive(max_in_flight=limit)
        if not wait_seconds >= 0:
            raise ValueError(f"queue timeout must be >= 0 seconds; got {wait_seconds!r}.")
        self.limit = int(limit)
        self.wait_seconds = float(wait_seconds)
        self._sem = threading.BoundedSemaphore(self.limit)
        self._lock = threading.Lock()
        self.stats = {"queued": 0, "rejected": 0}

    def _count(self, key: str) -> None:
        with self._lock:
            self.stats[key] += 1

    @contextlib.contextmanager
    def hold(self):
        """Runs the body in a slot; raises a 503 :class:`RequestError` if none frees in time."""
        if not self._sem.acquire(blocking=False):
            self._count("queued")
            if not self._sem.acquire(timeout=self.wait_seconds):
                self._count("rejected")
                raise RequestError(
                    503,
                    f"Server busy: {self.limit} requests are already running and none finished "
                    f"within {self.wait_seconds:g} s; retry later (the limit is "
                    "--max_concurrent_requests).",
                )
        try:
            yield
        finally:
            self._sem.release()

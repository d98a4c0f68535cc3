"""``tfless-serve``: a local server with TensorFlow Serving's REST and gRPC API.

  tfless-serve --export_root=DIR                      # every model under DIR
  tfless-serve --model_name=NAME --model_base_path=DIR/NAME
  tfless-serve --model_config_file=export/models.config

For local development and tests. Production serves the same exports with
TensorFlow Serving (``export/run_tf_serving.sh``) and the same client. The
flags mirror TF Serving's (``--port`` gRPC, ``--rest_api_port`` REST); it binds
to 127.0.0.1 unless ``--host`` says otherwise. Port 0 picks a free port; the
first line printed gives the addresses.

Under ``--export_root`` every model with a complete version is served; a model
directory without one yet (an export still being written) is logged and skipped, and,
as in TF Serving, new versions and models are picked up every
``--file_system_poll_wait_seconds``.

Memory is bounded: a REST body may hold 256 instances of the model's largest input as
JSON unless ``--rest_api_max_body_bytes`` says otherwise (larger: HTTP 413);
``--max_concurrent_requests`` predict calls run at once (REST and gRPC; others wait
``--request_queue_timeout_seconds``, then HTTP 503 / gRPC UNAVAILABLE);
``--rest_api_max_connections`` REST connections stay open (more: 503); a connection
idle, or a body still arriving, after ``--rest_api_read_timeout_seconds`` is closed.
On exit it prints what it served and refused.
"""

from __future__ import annotations

import json
import sys

from absl import app, flags

from tfless.cli import _env  # noqa: F401  (before TensorFlow loads)
from tfless.cli._app import run_app
from tfless.serving import limits

_ROOT = flags.DEFINE_string("export_root", None, "Serve every model directory under this root.")
_NAME = flags.DEFINE_string("model_name", None, "Model name (with --model_base_path).")
_BASE = flags.DEFINE_string("model_base_path", None, "Directory of one model's versions.")
_CONFIG = flags.DEFINE_string("model_config_file", None, "TF Serving ModelServerConfig text file.")
_POLICY = flags.DEFINE_enum(
    "model_version_policy", "latest", ["latest", "all"], "Versions to load per model."
)
_HOST = flags.DEFINE_string("host", "127.0.0.1", "Interface to bind.")
_REST_PORT = flags.DEFINE_integer("rest_api_port", 8501, "REST port (0: any free port).")
_GRPC_PORT = flags.DEFINE_integer("port", 8500, "gRPC port (0: any free port, -1: no gRPC).")
_UNVERIFIED = flags.DEFINE_bool(
    "allow_unverified", False, "Serve SavedModels that have no tfless checksum file."
)
_MAX_BODY = flags.DEFINE_integer(
    "rest_api_max_body_bytes",
    0,
    "Largest REST request body; larger ones get HTTP 413. 0: per model, room for 256 "
    "instances of its largest input as JSON (1.7 MB for 16x16x1 images, 20 MB for 32x32x3, "
    "177 MB for 96x96x3).",
    lower_bound=0,
)
_IN_FLIGHT = flags.DEFINE_integer(
    "max_concurrent_requests",
    limits.DEFAULT_MAX_IN_FLIGHT,
    "Predict requests (REST and gRPC together) running the model at once; each holds its "
    "input, the model's activations and its output in memory.",
    lower_bound=1,
)
_QUEUE = flags.DEFINE_float(
    "request_queue_timeout_seconds",
    limits.DEFAULT_QUEUE_TIMEOUT,
    "Seconds a request beyond --max_concurrent_requests waits for a slot before it gets "
    "HTTP 503 (gRPC UNAVAILABLE); 0: refuse at once.",
    lower_bound=0,
)
_READ_TIMEOUT = flags.DEFINE_float(
    "rest_api_read_timeout_seconds",
    limits.DEFAULT_READ_TIMEOUT,
    "A REST connection idle this long is closed, and so is one whose request body has not "
    "fully arrived in this time (HTTP 408).",
    lower_bound=0.001,
)
_CONNECTIONS = flags.DEFINE_integer(
    "rest_api_max_connections",
    limits.DEFAULT_MAX_CONNECTIONS,
    "Open REST connections (a thread each); more are answered HTTP 503 and closed. Also "
    "the limit on gRPC calls in progress.",
    lower_bound=1,
)
_POLL = flags.DEFINE_float(
    "file_system_poll_wait_seconds",
    1.0,
    "Look for new model versions (and, under --export_root, new models) this often; 0: never.",
    lower_bound=0,
)
_EXIT_AFTER = flags.DEFINE_float("exit_after_seconds", None, "Stop after this many seconds.")
_VERBOSE = flags.DEFINE_bool("verbose", False, "Log every request.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    sources = [bool(_ROOT.value), bool(_BASE.value or _NAME.value), bool(_CONFIG.value)]
    if sum(sources) != 1:
        raise app.UsageError(
            "Give exactly one of --export_root, --model_name with --model_base_path, or "
            "--model_config_file."
        )
    if bool(_NAME.value) != bool(_BASE.value):
        raise app.UsageError("--model_name and --model_base_path go together.")
    from tfless import serving

    store = serving.ModelStore()
    require = not _UNVERIFIED.value
    try:
        if _ROOT.value:
            store.add_root(_ROOT.value, _POLICY.value, require_checksums=require)
        elif _CONFIG.value:
            store.add_config_file(_CONFIG.value, require_checksums=require)
        else:
            store.add_model(_NAME.value, _BASE.value, _POLICY.value, require_checksums=require)
    except serving.ModelLoadError as e:
        print(f"tfless-serve: {e}", file=sys.stderr)
        return 1
    grpc_port = None if _GRPC_PORT.value < 0 else _GRPC_PORT.value
    server = serving.LocalServer(
        store,
        _HOST.value,
        _REST_PORT.value,
        grpc_port=grpc_port,
        max_body_bytes=_MAX_BODY.value or None,
        verbose=_VERBOSE.value,
        max_in_flight=_IN_FLIGHT.value,
        queue_timeout=_QUEUE.value,
        read_timeout=_READ_TIMEOUT.value,
        max_connections=_CONNECTIONS.value,
        poll_seconds=_POLL.value or None,
    )
    models = ", ".join(f"{n} {store.versions(n)}" for n in store.names)
    waiting = f"; waiting for a complete version of: {', '.join(store.pending)}"
    grpc = f", gRPC on {server.grpc_target}" if server.grpc_target else ""
    print(
        f"tfless-serve: REST on {server.url}{grpc}; models: {models}"
        + (waiting if store.pending else ""),
        flush=True,
    )
    try:
        server.serve(exit_after_seconds=_EXIT_AFTER.value)
    except KeyboardInterrupt:
        pass
    print(f"tfless-serve: stopped; {json.dumps(server.stats)}", flush=True)
    return 0


def run():
    """Console-script entry point."""
    run_app(main, __name__)


if __name__ == "__main__":
    run()

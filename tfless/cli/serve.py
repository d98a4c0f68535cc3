"""``tfless-serve``: a local server with TensorFlow Serving's REST and gRPC API.

  tfless-serve --export_root=DIR                      # every model under DIR
  tfless-serve --model_name=NAME --model_base_path=DIR/NAME
  tfless-serve --model_config_file=export/models.config

For local development and tests. Production serves the same exports with
TensorFlow Serving (``export/run_tf_serving.sh``) and the same client. The
flags mirror TF Serving's (``--port`` gRPC, ``--rest_api_port`` REST); it binds
to 127.0.0.1 unless ``--host`` says otherwise. Port 0 picks a free port; the
first line printed gives the addresses.
"""

from __future__ import annotations

import sys

from absl import app, flags

from tfless.cli import _env  # noqa: F401  (before TensorFlow loads)
from tfless.cli._app import run_app

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
        store, _HOST.value, _REST_PORT.value, grpc_port=grpc_port, verbose=_VERBOSE.value
    )
    models = ", ".join(f"{n} {store.versions(n)}" for n in store.names)
    grpc = f", gRPC on {server.grpc_target}" if server.grpc_target else ""
    print(f"tfless-serve: REST on {server.url}{grpc}; models: {models}", flush=True)
    try:
        server.serve(exit_after_seconds=_EXIT_AFTER.value)
    except KeyboardInterrupt:
        pass
    return 0


def run():
    """Console-script entry point."""
    run_app(main, __name__)


if __name__ == "__main__":
    run()

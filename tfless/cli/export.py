"""``tfless-export``: export a trained run's encoder as a verified, versioned SavedModel.

  tfless-export --workdir=RUN_DIR --export_root=DIR --name=NAME [--version=N] [--tflite]

Restores the run (EMA weights if used), writes ``DIR/NAME/VERSION/`` with the
``serving_default`` (features), ``logits`` (classifiers) and ``serving_uint8``
signatures, checks the reloaded export in a fresh process and prints its path.
"""

from __future__ import annotations

import json
import os
import sys

from absl import app, flags

from tfless.cli import _env  # noqa: F401  (before TensorFlow loads)
from tfless.cli._app import run_app

_WORKDIR = flags.DEFINE_string("workdir", None, "Run directory written by tfless-train.")
_ROOT = flags.DEFINE_string(
    "export_root", None, "Export root; the model goes to ROOT/NAME/VERSION."
)
_NAME = flags.DEFINE_string("name", None, "Model name (letters, digits, '._-').")
_VERSION = flags.DEFINE_integer("version", None, "Version (default: newest + 1).")
_TFLITE = flags.DEFINE_bool("tflite", False, "Also write and check assets.extra/encoder.tflite.")
_UINT8 = flags.DEFINE_bool("uint8", True, "Add the serving_uint8 signature.")
_VERIFY = flags.DEFINE_bool("verify", True, "Reload in a fresh process and compare outputs.")
flags.mark_flags_as_required(["workdir", "export_root", "name"])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    from tfless import export
    from tfless.train import restore_method

    method, config = restore_method(_WORKDIR.value)
    manifest_path = os.path.join(_WORKDIR.value, "manifest.json")
    with open(manifest_path) as f:
        manifest = json.load(f)
    try:
        result = export.export_encoder(
            method,
            _ROOT.value,
            _NAME.value,
            _VERSION.value,
            tflite=_TFLITE.value,
            include_uint8=_UINT8.value,
            config=config,
            manifest=manifest,
            verify=_VERIFY.value,
        )
    except (export.ExportError, ValueError) as e:
        print(f"tfless-export: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"path": result.path, "version": result.version}, indent=2))
    return 0


def run():
    """Console-script entry point."""
    run_app(main, __name__)


if __name__ == "__main__":
    run()

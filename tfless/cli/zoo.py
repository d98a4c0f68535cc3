"""``tfless-zoo``: list, show, verify and rebuild model zoo entries.

  tfless-zoo list                        # measured and published metrics in separate columns
  tfless-zoo show NAME
  tfless-zoo verify NAME [--measure]     # sha256 of every file; --measure re-runs the metrics
  tfless-zoo build NAME [--update_registry] [--config_arg=smoke] [--out_root=DIR]

``build`` trains the entry from its config with deterministic kernels and
exports it; with ``--update_registry`` it replaces the shipped files and the
registry's checksums and metrics (the command the registry records).
"""

from __future__ import annotations

import json
import sys

from absl import app, flags

from tfless.cli import _env  # noqa: F401  (before TensorFlow loads)
from tfless.cli._app import run_app

_REGISTRY = flags.DEFINE_string("registry", None, "Registry file (default: the shipped one).")
_OUT_ROOT = flags.DEFINE_string("out_root", None, "build: export root (default: a temp dir).")
_WORKDIR = flags.DEFINE_string("workdir", None, "build: training run directory (default: temp).")
_CONFIG_ARG = flags.DEFINE_string("config_arg", None, "build: override the entry's config arg.")
_CONFIG_ROOT = flags.DEFINE_string("config_root", None, "build: directory holding configs/.")
_UPDATE = flags.DEFINE_bool(
    "update_registry", False, "build: write files + metrics to the registry."
)
_MEASURE = flags.DEFINE_bool("measure", False, "verify: also re-measure the metrics.")

_COMMANDS = ("list", "show", "build", "verify")


def main(argv):
    from tfless import zoo

    args = argv[1:]
    if not args or args[0] not in _COMMANDS:
        raise app.UsageError(f"Expected a command in {list(_COMMANDS)}; got {args[:1]}.")
    command, rest = args[0], args[1:]
    if command == "list":
        if rest:
            raise app.UsageError(f"'list' takes no arguments; got {rest}.")
        for line in zoo.list_table(zoo.list_entries(_REGISTRY.value)):
            print(line)
        return 0
    if len(rest) != 1:
        raise app.UsageError(f"'{command}' takes exactly one entry NAME; got {rest}.")
    name = rest[0]
    try:
        if command == "show":
            print(json.dumps(zoo.get_entry(name, _REGISTRY.value), indent=2))
        elif command == "verify":
            info = zoo.verify(name, _REGISTRY.value)
            print(f"OK {info['name']}: {info['files']} files match their sha256 ({info['path']})")
            if _MEASURE.value:
                entry = zoo.get_entry(name, _REGISTRY.value)
                measured = zoo.measure(info["path"], entry)
                print(
                    json.dumps({"recorded": entry.get("metrics"), "measured": measured}, indent=2)
                )
                if entry.get("metrics") and measured != entry["metrics"]:
                    print("MISMATCH: measured metrics differ from the registry", file=sys.stderr)
                    return 1
        else:
            result = zoo.build(
                name,
                _REGISTRY.value,
                out_root=_OUT_ROOT.value,
                workdir=_WORKDIR.value,
                config_arg=_CONFIG_ARG.value,
                config_root=_CONFIG_ROOT.value,
                update_registry=_UPDATE.value,
            )
            summary = {
                "export": result.export.path,
                "metrics": result.metrics,
                "train_metrics": result.train_metrics,
                "baselines": result.baselines,
                "reproduced_registry_weights": result.reproduced,
            }
            print(json.dumps(summary, indent=2, default=str))
    except (zoo.ZooError, zoo.ChecksumError) as e:
        print(f"tfless-zoo {command} {name}: {e}", file=sys.stderr)
        return 1
    return 0


def run():
    """Console-script entry point."""
    run_app(main, __name__)


if __name__ == "__main__":
    run()

"""The absl runner shared by the console scripts: help and flag errors."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from absl import app, flags
from absl import logging as absl_logging

from tfless.cli._env import import_tensorflow

_HELP = ("-h", "-?", "--help", "--helpshort")


def prog() -> str:
    """The name the user typed for this script (``tfless-train``), for messages."""
    return os.path.basename(sys.argv[0]) or "tfless"


def fail(message: str, status: int = 2) -> NoReturn:
    """Prints ``<prog>: error: <message>`` to stderr and exits with ``status`` (default 2,
    a usage error)."""
    sys.stderr.write(f"{prog()}: error: {message}\n")
    sys.exit(status)


def _help_text(module_name: str) -> str:
    # absl files the flags of a module run as ``python -m`` under sys.argv[0], and those
    # of an imported module (a console script's) under its dotted name.
    key = sys.argv[0] if module_name == "__main__" else module_name
    doc = (sys.modules[module_name].__doc__ or "").strip()
    own = flags.FLAGS.module_help(key)
    return f"{doc}\n\nflags:\n{own}\n\nTry --helpfull for absl's and TensorFlow's flags too."


def _one_line(text: str) -> str:
    # A config file that raises is reported by ml_collections with its whole traceback
    # inside the message; the flag named at the start and the last line say enough.
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        return f"{text.split(': ', 1)[0]}: {lines[-1]}"
    return " ".join(lines)


def _config_error(error: BaseException) -> str:
    # ml_collections reports an unknown --config.<key> as an AttributeError wrapping a
    # KeyError whose text names the key and the closest existing one.
    while error is not None and not isinstance(error, KeyError):
        error = error.__context__
    text = error.args[0] if error is not None and error.args else ""
    return "unknown config key " + "; ".join(line for line in str(text).splitlines() if line)


def _parse_flags(argv: list[str]) -> list[str]:
    try:
        args = flags.FLAGS(argv)
    except flags.Error as e:
        fail(_one_line(str(e)))
    except (AttributeError, KeyError) as e:
        fail(_config_error(e))
    import_tensorflow()
    _quiet_info_logs()
    return args


def _quiet_info_logs() -> None:
    # absl turns on INFO logging once flags are parsed, and TensorFlow then reports every
    # checkpoint save ("Sharding callback duration: ..."). tfless logs nothing at INFO:
    # warnings only, unless --verbosity (-v) asks for more.
    if not flags.FLAGS["verbosity"].present:
        absl_logging.set_verbosity(absl_logging.WARNING)


def run_app(main, module_name: str) -> None:
    """Runs ``main`` under ``absl.app``.

    ``--help`` prints the script's description and its own flags on stdout and exits 0
    (absl's own ``--help`` finds no flags for a console script and exits 1); a flag that
    does not parse ends the program with one ``error:`` line and status 2.

    Args:
      main: ``main(argv)`` of the script.
      module_name: the script module's ``__name__``.
    """
    args = sys.argv[1:]
    args = args[: args.index("--")] if "--" in args else args
    if any(a in _HELP for a in args):
        print(_help_text(module_name))
        sys.exit(0)
    app.run(main, flags_parser=_parse_flags)

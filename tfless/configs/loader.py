"""Loading a config file by path, as ``tfless-train --config=PATH[:ARG]`` does."""

from __future__ import annotations

import importlib.util
import os
import re

import ml_collections

_SPEC = re.compile(r"^(?P<path>.+?\.py)(?::(?P<arg>.*))?$", re.DOTALL)


def load_config(spec: str) -> ml_collections.ConfigDict:
    """The locked ``ConfigDict`` of a config file: ``load_config("configs/x/y.py:arg")``.

    Args:
      spec: ``PATH`` or ``PATH:ARG``, the ``--config`` syntax of ``tfless-train``. ``PATH`` is
        a ``.py`` file defining ``get_config(arg=None)``, absolute or relative to the current
        directory; ``ARG`` (optional) is passed to ``get_config``.

    Returns:
      The config, locked.

    Raises:
      ValueError: ``spec`` does not name a ``.py`` file, the file has no ``get_config``, or
        ``get_config`` rejects ``ARG`` (the message names the file and the arg).
      FileNotFoundError: no file at ``PATH``.
      TypeError: ``get_config`` returned something other than a ``ConfigDict``.
    """
    match = _SPEC.match(spec or "")
    if match is None:
        raise ValueError(f"Config {spec!r}: expected 'path/to/config.py[:arg]'.")
    path, arg = match.group("path"), match.group("arg")
    full = os.path.abspath(os.path.expanduser(path))
    if not os.path.isfile(full):
        raise FileNotFoundError(f"Config file {path!r} not found (looked at {full!r}).")
    name = "_tfless_config_" + re.sub(r"\W", "_", os.path.splitext(os.path.relpath(full))[0])
    module_spec = importlib.util.spec_from_file_location(name, full)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    if not callable(getattr(module, "get_config", None)):
        raise ValueError(f"Config file {path!r} defines no get_config(arg=None).")
    try:
        config = module.get_config(arg) if arg else module.get_config()
    except ValueError as err:
        raise ValueError(f"Config file {path!r} rejected arg {arg!r}: {err}") from err
    if not isinstance(config, ml_collections.ConfigDict):
        raise TypeError(
            f"get_config of {path!r} returned {type(config).__name__}, expected a ConfigDict."
        )
    config.lock()
    return config

"""Finding the checkpoint to resume from, skipping damaged ones.

``tf.train.latest_checkpoint`` trusts the ``checkpoint`` state file alone: when that file
is garbage or names a checkpoint that is gone, it returns None and a run silently starts
again from step 0 beside intact checkpoints; when the newest checkpoint is damaged
(truncated, bit flips, an empty index), restoring it fails deep inside TensorFlow. Here
the candidates are the ``ckpt-N.index`` files on disk, newest first; each is read in full
(the bundle format checks a CRC32C of every tensor on read), and the first that reads
cleanly wins. A skipped checkpoint is logged with the reason; when checkpoints exist but
none reads, :class:`NoIntactCheckpoint` refuses to start over.
"""

from __future__ import annotations

import logging
import os
import re

import tensorflow as tf

#: ``tf.train.CheckpointManager``'s default prefix, used by the trainer.
PREFIX = "ckpt"
#: The manager's state file.
STATE_FILE = "checkpoint"

_logger = logging.getLogger(__name__)


class NoIntactCheckpoint(ValueError):
    """Checkpoints exist in a directory but none of them can be read."""


def checkpoint_paths(directory: str, prefix: str = PREFIX) -> list[str]:
    """Paths (without suffix) of the ``<prefix>-N`` checkpoints in ``directory``, newest
    (largest N) first; found from their ``.index`` files, whatever the state file says."""
    if not os.path.isdir(directory):
        return []
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)\.index$")
    numbered = []
    for name in os.listdir(directory):
        match = pattern.match(name)
        if match:
            numbered.append((int(match.group(1)), name[: -len(".index")]))
    return [os.path.join(directory, name) for _, name in sorted(numbered, reverse=True)]


def verify_checkpoint(path: str, required: tuple[str, ...] = ()) -> None:
    """Reads every tensor of the checkpoint ``path``; raises if any cannot be read.

    Args:
      path: a checkpoint prefix (``.../ckpt-40``).
      required: checkpoint keys that must be present.

    Raises:
      whatever TensorFlow raises for a damaged file (``DataLossError``, ``OpError``...),
      or ``KeyError`` for a missing ``required`` key.
    """
    reader = tf.train.load_checkpoint(path)
    keys = reader.get_variable_to_dtype_map()
    missing = [k for k in required if k not in keys]
    if missing:
        raise KeyError(f"missing {missing}")
    for key in keys:
        reader.get_tensor(key)


def _state_latest(directory: str) -> str | None:
    """The newest checkpoint the state file names, None if the file is absent or garbage."""
    path = os.path.join(directory, STATE_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    match = re.search(r'^model_checkpoint_path:\s*"([^"]*)"', text, re.MULTILINE)
    if not match:
        return None
    name = match.group(1)
    return name if os.path.isabs(name) else os.path.join(directory, name)


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[-1] if text else ''}".strip()


def newest_intact(directory: str, required: tuple[str, ...] = (), log=None) -> str | None:
    """The newest checkpoint in ``directory`` that reads cleanly, or None if there is none.

    Damaged checkpoints newer than the one returned are skipped with a warning naming
    each and the error it gave; a state file that names no intact checkpoint is reported
    too.

    Args:
      directory: a ``CheckpointManager`` directory.
      required: keys every usable checkpoint holds (see :func:`verify_checkpoint`).
      log: ``callable(message)`` for the warnings (default: this module's logger).

    Raises:
      NoIntactCheckpoint: if checkpoints exist but none can be read.
    """
    log = log or _logger.warning
    paths = checkpoint_paths(directory)
    skipped = []
    for path in paths:
        try:
            verify_checkpoint(path, required)
        except Exception as e:  # any failure to read means damaged
            skipped.append(f"{os.path.basename(path)} ({_reason(e)})")
            log(f"Checkpoint {path} is damaged and is skipped: {_reason(e)}")
            continue
        stated = _state_latest(directory)
        if stated != path and os.path.exists(os.path.join(directory, STATE_FILE)):
            log(
                f"The checkpoint state file {os.path.join(directory, STATE_FILE)} names "
                f"{stated or 'no readable checkpoint'}; resuming from {path} found on disk."
            )
        return path
    if paths:
        raise NoIntactCheckpoint(
            f"No checkpoint in {directory!r} can be read ({'; '.join(skipped)}). "
            "Refusing to start the run over beside them: move the checkpoints directory "
            "aside to start from step 0, or restore it from a backup."
        )
    return None


def repair_state(directory: str, path: str) -> None:
    """Makes the state file of ``directory`` name ``path`` as the latest checkpoint.

    When it names another (a damaged, missing or garbage entry), it is rewritten to list
    the older checkpoints on disk and then ``path``, so that a ``CheckpointManager`` built
    next continues its bookkeeping from there (and prunes the older ones as it saves).
    """
    if _state_latest(directory) == path:
        return
    names = [
        os.path.basename(p)
        for p in reversed(checkpoint_paths(directory))
        if _number(p) < _number(path)
    ] + [os.path.basename(path)]
    # The manager's text format, relative paths (the directory may be moved later).
    text = f'model_checkpoint_path: "{names[-1]}"\n' + "".join(
        f'all_model_checkpoint_paths: "{name}"\n' for name in names
    )
    state = os.path.join(directory, STATE_FILE)
    tmp = f"{state}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, state)


def _number(path: str) -> int:
    return int(path.rsplit("-", 1)[1])

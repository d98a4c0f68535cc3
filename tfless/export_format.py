"""The on-disk contract of a tfless encoder export, shared by its writer and its readers.

An export is a TF Serving model version directory ``<root>/<name>/<version>/``:
a SavedModel plus two JSON files under ``assets.extra/`` (TF Serving's place for
files that ship with a version but are not read by the graph):

* ``assets.extra/tfless_metadata.json``: input spec and range, preprocessing,
  signatures, method, config, training manifest and verification result
  (:func:`build_metadata` defines the schema, format ``tfless.encoder/1``);
* ``assets.extra/tfless_checksums.json``: the sha256 of every other file.

Besides the signatures (what TF Serving exposes), the SavedModel carries
``call_training``, a function that is no signature: the encoder in training mode
(batch norm normalizes with the batch's statistics and updates its moving ones),
for fine-tuning through ``keras.layers.TFSMLayer(call_training_endpoint=...)``.
It is kept out of the signatures so a serving client can never change the
served model's statistics.

This module holds the names, the metadata schema, version listing, model-name
checks and checksums, shared by the readers (:mod:`tfless.zoo`,
:mod:`tfless.serving`) and the writer, :mod:`tfless.export`, the one module
that writes SavedModels, and the bookkeeping of their temporary directories. It
uses neither TensorFlow nor Keras: checking an export's names, versions and
files needs no graph.
"""

from __future__ import annotations

import ctypes
import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

FEATURE_SIGNATURE = "serving_default"
LOGITS_SIGNATURE = "logits"
UINT8_SIGNATURE = "serving_uint8"
INPUT_KEY = "image"
FEATURE_KEY = "feature_vector"
LOGITS_KEY = "logits"
TRAINING_ENDPOINT = "call_training"

SAVED_MODEL_FILE = "saved_model.pb"
METADATA_PATH = "assets.extra/tfless_metadata.json"
CHECKSUMS_PATH = "assets.extra/tfless_checksums.json"
TFLITE_PATH = "assets.extra/encoder.tflite"
METADATA_FORMAT = "tfless.encoder/1"

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class ExportError(RuntimeError):
    """An export could not be written or published; nothing was left behind."""


class ChecksumError(ExportError):
    """An export's files do not match their recorded sha256 checksums."""


# ------------------------------------------------------------- names and versions
def check_model_name(name: str) -> str:
    """Returns ``name`` if it is usable as a TF Serving model name and directory name."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(
            f"Invalid model name {name!r}: expected letters, digits, '.', '_' or '-' "
            "(starting with a letter or digit, at most 128 characters)."
        )
    return name


def list_versions(model_dir: str) -> list[int]:
    """Sorted integer versions present under ``model_dir`` (TF Serving's layout)."""
    if not os.path.isdir(model_dir):
        return []
    versions = []
    for entry in os.listdir(model_dir):
        if entry.isdigit() and os.path.isdir(os.path.join(model_dir, entry)):
            versions.append(int(entry))
    return sorted(versions)


# ------------------------------------------------------------ temporary directories
#: Untagged temporary directories (written before they carried their owner) older than
#: this are removed as stale; no export or build runs for a day.
LEGACY_TEMP_AGE_S = 24 * 3600


def owned_prefix(prefix: str) -> str:
    """``prefix`` tagged with this host and process id, for ``tempfile.mkdtemp(prefix=...)``.

    A later export or build reads the tag back (:func:`remove_stale_temp_dirs`) to tell the
    leftovers of a killed process from the directories of one that is still running.
    """
    return f"{prefix}{socket.gethostname()}-{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _is_stale(entry: str, full: str, prefix: str, host_tag: re.Pattern, now: float) -> bool:
    match = host_tag.match(entry)
    if match:
        return not _pid_alive(int(match.group(1)))
    if re.match(r"^.+-\d+-", entry[len(prefix) :]):
        return False  # tagged by another host: its processes cannot be checked from here
    try:
        return now - os.path.getmtime(full) > LEGACY_TEMP_AGE_S
    except OSError:
        return False


def remove_stale_temp_dirs(directory: str, prefix: str) -> list[str]:
    """Removes ``directory/<prefix>*`` directories left behind by dead processes.

    Directories tagged by :func:`owned_prefix` are removed when their process no longer
    exists on this host; a live process (a concurrent export) keeps its directory.
    Untagged ones are removed once older than :data:`LEGACY_TEMP_AGE_S`.

    Returns:
      the removed paths.
    """
    try:
        entries = os.listdir(directory)
    except OSError:
        return []
    host_tag = re.compile(rf"^{re.escape(prefix)}{re.escape(socket.gethostname())}-(\d+)-")
    now = time.time()
    removed = []
    for entry in sorted(entries):
        full = os.path.join(directory, entry)
        if not entry.startswith(prefix) or not os.path.isdir(full) or os.path.islink(full):
            continue
        if _is_stale(entry, full, prefix, host_tag, now):
            shutil.rmtree(full, ignore_errors=True)
            if not os.path.exists(full):
                removed.append(full)
    return removed


_PR_SET_PDEATHSIG = 1


def exit_with_parent(parent_pid: int, poll_s: float = 1.0) -> None:
    """Ends this process as soon as ``parent_pid`` (the process that started it) is gone.

    A helper process (the export's fresh-process check) must not outlive an export killed
    with ``kill -9``. On Linux the kernel sends SIGKILL when the parent dies
    (``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon thread polls the parent's pid. Call it
    first thing in the child: a parent that died before the call is caught by the pid check.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:
        os._exit(3)

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        os._exit(3)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


# -------------------------------------------------------------------- checksums
def sha256_file(path: str) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def compute_checksums(export_dir: str, exclude=(CHECKSUMS_PATH,)) -> dict[str, str]:
    """``{relative posix path: sha256}`` of every file under ``export_dir``."""
    sums = {}
    for dirpath, _, files in os.walk(export_dir):
        for fname in files:
            full = os.path.join(dirpath, fname)
            rel = os.path.relpath(full, export_dir).replace(os.sep, "/")
            if rel not in exclude:
                sums[rel] = sha256_file(full)
    return dict(sorted(sums.items()))


def has_checksums(export_dir: str) -> bool:
    """Whether ``export_dir`` carries a tfless checksum file."""
    return os.path.isfile(os.path.join(export_dir, CHECKSUMS_PATH))


def write_checksums(export_dir: str) -> dict[str, str]:
    """Writes the checksum file of every other file in ``export_dir``; returns the sums."""
    checksums = compute_checksums(export_dir)
    path = os.path.join(export_dir, CHECKSUMS_PATH)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(checksums, f, indent=2, sort_keys=True)
    return checksums


def verify_checksums(export_dir: str, expected: Mapping[str, str] | None = None) -> dict[str, str]:
    """Checks an export's files against sha256 checksums; raises :class:`ChecksumError`.

    Args:
      export_dir: a version directory.
      expected: ``{relative path: sha256}``; defaults to the export's own
        ``assets.extra/tfless_checksums.json``.

    Returns:
      the verified checksums. Missing, changed and unexpected extra files are
      all refused; the error lists each of them.
    """
    if expected is None:
        if not has_checksums(export_dir):
            raise ChecksumError(
                f"Export {export_dir!r} has no checksum file {CHECKSUMS_PATH!r}; it was not "
                "written by tfless.export (or was truncated) and is refused."
            )
        with open(os.path.join(export_dir, CHECKSUMS_PATH)) as f:
            expected = json.load(f)
    # The checksum file cannot list itself; it is checked only when ``expected`` lists it.
    actual = compute_checksums(
        export_dir, exclude=() if CHECKSUMS_PATH in expected else (CHECKSUMS_PATH,)
    )
    problems = []
    for rel, digest in sorted(expected.items()):
        if rel not in actual:
            problems.append(f"missing file {rel!r}")
        elif actual[rel] != digest:
            problems.append(f"{rel!r} has sha256 {actual[rel]}, expected {digest}")
    for rel in sorted(set(actual) - set(expected)):
        problems.append(f"unexpected file {rel!r}")
    if problems:
        raise ChecksumError(
            f"Export {export_dir!r} failed its checksum verification (tampered or corrupted): "
            + "; ".join(problems)
        )
    return dict(expected)


# --------------------------------------------------------------------- metadata
def has_metadata(export_dir: str) -> bool:
    """Whether ``export_dir`` carries tfless metadata (foreign SavedModels do not)."""
    return os.path.isfile(os.path.join(export_dir, METADATA_PATH))


def read_metadata(export_dir: str) -> dict:
    """The metadata dict of an export (``assets.extra/tfless_metadata.json``)."""
    if not has_metadata(export_dir):
        raise FileNotFoundError(
            f"{export_dir!r} has no tfless metadata at {METADATA_PATH!r}; is it a tfless export?"
        )
    with open(os.path.join(export_dir, METADATA_PATH)) as f:
        return json.load(f)


def write_metadata(export_dir: str, metadata: Mapping) -> None:
    """Writes ``metadata`` (see :func:`build_metadata`) into ``export_dir``."""
    path = os.path.join(export_dir, METADATA_PATH)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(metadata, f, indent=2, sort_keys=True)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (a ``ConfigDict`` through ``to_dict``; others via str)."""
    if value is None:
        return None
    if hasattr(value, "to_dict"):  # ml_collections.ConfigDict
        value = value.to_dict()
    return json.loads(json.dumps(value, default=str))


def _float_input(shape: Sequence[int]) -> dict:
    return {INPUT_KEY: {"dtype": "float32", "shape": [-1, *shape], "range": [0.0, 1.0]}}


def _features(dim: int) -> dict:
    return {FEATURE_KEY: {"dtype": "float32", "shape": [-1, int(dim)]}}


def signature_specs(
    shape: Sequence[int], dim: int, logits: bool, logits_dim: int | None, uint8: bool
) -> dict:
    """The ``signatures`` field of the metadata: inputs, outputs and preprocessing of each.

    Args:
      shape: ``(H, W, C)`` of ``serving_default``'s input.
      dim: feature size ``D``.
      logits: whether the export has the ``logits`` signature.
      logits_dim: its number of classes, None when unknown.
      uint8: whether the export has the ``serving_uint8`` signature.
    """
    signatures = {FEATURE_SIGNATURE: {"inputs": _float_input(shape), "outputs": _features(dim)}}
    if logits:
        out = {"dtype": "float32"}
        if logits_dim is not None:
            out["shape"] = [-1, int(logits_dim)]
        signatures[LOGITS_SIGNATURE] = {
            "inputs": _float_input(shape),
            "outputs": {LOGITS_KEY: out},
        }
    if uint8:
        signatures[UINT8_SIGNATURE] = {
            "inputs": {
                INPUT_KEY: {"dtype": "uint8", "shape": [-1, -1, -1, shape[2]], "range": [0, 255]}
            },
            "outputs": _features(dim),
            "preprocessing": f"x / 255, bilinear antialiased resize to {shape[0]}x{shape[1]}",
        }
    return signatures


def build_metadata(
    *,
    name: str,
    version: int,
    method: str,
    backbone: str,
    shape: Sequence[int],
    signatures: Mapping,
    tflite: bool,
    config=None,
    manifest: Mapping | None = None,
    extra: Mapping | None = None,
    verification: Mapping,
    versions: Mapping[str, str],
    training_endpoint: str | None = None,
) -> dict:
    """The metadata dict of an export (format ``tfless.encoder/1``).

    Args:
      name, version: the model name and integer version.
      method: the method class name (``'encoder'`` for a bare encoder).
      backbone: the encoder's name.
      shape: ``(H, W, C)`` of ``serving_default``'s float32 input in [0, 1].
      signatures: from :func:`signature_specs`.
      tflite: whether ``assets.extra/encoder.tflite`` ships.
      config, manifest, extra: the training config, manifest and more fields.
      verification: how the export was checked before it was published.
      versions: ``{package: version}`` of the writer (tfless, tensorflow, keras).
      training_endpoint: the name of the training-mode function kept for fine-tuning
        (:data:`TRAINING_ENDPOINT`), None for exports without one.
    """
    dim = signatures[FEATURE_SIGNATURE]["outputs"][FEATURE_KEY]["shape"][-1]
    return {
        "format": METADATA_FORMAT,
        "name": name,
        "version": int(version),
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "method": method,
        "backbone": backbone,
        "input": {
            "key": INPUT_KEY,
            "shape": list(shape),
            "dtype": "float32",
            "range": [0.0, 1.0],
            "layout": "NHWC",
        },
        "output": {"key": FEATURE_KEY, "dim": int(dim), "dtype": "float32"},
        "preprocessing": (
            "None inside serving_default: send float32 images already scaled to [0, 1] at "
            f"{shape[0]}x{shape[1]}x{shape[2]}. serving_uint8 takes raw uint8 pixels of any "
            "size and scales and resizes them in the graph."
        ),
        "signatures": dict(signatures),
        "validation": (
            "Every signature checks its input before running the encoder and raises "
            "InvalidArgumentError naming the expected and received shape: rank 4, batch >= 1, "
            f"channels {shape[2]}, and {shape[0]}x{shape[1]} pixels for the float32 "
            "signatures (serving_uint8 accepts any size and resizes)."
        ),
        "training_endpoint": training_endpoint,
        "tflite": TFLITE_PATH if tflite else None,
        "config": jsonable(config),
        "manifest": jsonable(manifest),
        "extra": jsonable(dict(extra)) if extra else {},
        "verification": dict(verification),
        "versions": dict(versions),
    }

"""The run manifest: resolved config, seeds, split hashes, versions, git revision.

``workdir/manifest.json`` records how a run was made. It is written when the run
starts, compared with the config of any later start in the same workdir (a resumption
must use the same config), and read back to rebuild the run's method.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time

import keras
import numpy as np
import tensorflow as tf

MANIFEST = "manifest.json"

# Config keys that may differ between an interrupted run and its resumption.
_RESUMABLE_KEYS = ("train.verbose",)


def _git_revision() -> str | None:
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _versions() -> dict:
    import tfless

    return {
        "tfless": tfless.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def _flatten(d, prefix=""):
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def config_to_dict(config) -> dict:
    """A JSON-safe plain dict of a ConfigDict (tuples become lists)."""
    return json.loads(
        json.dumps(config.to_dict() if hasattr(config, "to_dict") else config, default=list)
    )


def check_workdir(config, workdir: str) -> dict | None:
    """Returns the existing manifest of ``workdir`` (None if new).

    Raises:
      ValueError: if ``workdir`` holds a run with a different config, naming the keys.
    """
    path = os.path.join(workdir, MANIFEST)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        old = json.load(f)
    a = _flatten(old.get("config", {}))
    b = _flatten(config_to_dict(config))
    diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k) and k not in _RESUMABLE_KEYS)
    if diff:
        shown = ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in diff[:8])
        raise ValueError(
            f"workdir {workdir!r} holds a run with a different config ({shown}"
            f"{', ...' if len(diff) > 8 else ''}). Use a new workdir, or the same config to resume."
        )
    return old


def read_manifest(workdir: str) -> dict:
    """The manifest of the run in ``workdir``; ``FileNotFoundError`` if there is none."""
    path = os.path.join(workdir, MANIFEST)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{workdir!r} is not a tfless run directory: no {MANIFEST}.")
    with open(path) as f:
        return json.load(f)


def run_manifest(
    config,
    data,
    strategy: tf.distribute.Strategy,
    seed: int,
    previous: dict | None,
    resumed_from_epoch: int | None,
) -> dict:
    """The manifest of a run starting (or resuming, ``previous`` set) now.

    Besides the config it records the data the run saw: ``split_hash`` (the labeled
    positions in the training examples left after the validation hold-out),
    ``num_labeled``, ``num_train`` (training examples after the hold-out), and the
    validation split: ``val_source`` (``"validation"``: the dataset's own split,
    ``"train"``: a hold-out of the training split, None: no validation), ``num_val`` and
    ``val_hash`` (the held-out positions in the training split). ``label_noise`` is what
    ``data.label_noise`` corrupted (kind, rate, seed, counts and a hash of the noisy
    labels; None without it).

    Args:
      config: the run's config.
      data: the run's data (split hashes, sizes, image shape, classes).
      strategy: the run's strategy.
      seed: the run's seed.
      previous: the manifest already in the workdir (its start time is kept), or None.
      resumed_from_epoch: the epoch the run resumes from, None for a new run.
    """
    return {
        "config": config_to_dict(config),
        "seed": seed,
        "split_hash": data.split_hash,
        "num_labeled": data.num_labeled,
        "num_train": data.num_train,
        "val_source": data.val_source,
        "num_val": data.num_val,
        "val_hash": data.val_hash,
        "label_noise": getattr(data, "label_noise", None),
        "image_shape": list(data.image_shape),
        "num_classes": data.info.num_classes,
        "versions": _versions(),
        "git_revision": _git_revision(),
        "strategy": type(strategy).__name__,
        "num_replicas": strategy.num_replicas_in_sync,
        "started": (previous or {}).get("started", time.strftime("%Y-%m-%dT%H:%M:%S%z")),
        "resumed_from_epoch": resumed_from_epoch,
        "hostname": platform.node(),
    }

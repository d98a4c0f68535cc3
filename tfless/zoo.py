"""The model zoo: a registry of exported encoders, checksum-verified loading, rebuilds.

The registry (``tfless/model_zoo/registry.json``, shipped as package data so it
works after a plain ``pip install``) lists every encoder with its method,
backbone, dataset, input spec, feature size, the config that rebuilds it, its
measured metrics with the command that measured them, its location and the
sha256 of each of its files. Entries with ``"shipped": true`` have their
SavedModel next to the registry (``<registry dir>/<name>/<version>/``, TF
Serving's layout, so the directory is itself an export root); the others are
recipes with the metrics the papers report, for users with accelerators.

Typical use::

    from tfless import zoo
    encoder = zoo.load_encoder("digits_supervised_convnet")   # a Keras layer
    features = encoder(images)                                 # [B, 16, 16, 1] -> [B, 128]
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import shutil
import tempfile
from collections.abc import Mapping

import keras

from tfless import configs as _configs
from tfless import export as _export
from tfless import export_format as fmt

REGISTRY_FORMAT = "tfless.zoo/1"
DEFAULT_REGISTRY = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "model_zoo", "registry.json"
)
_REQUIRED = ("name", "method", "backbone", "dataset", "input", "feature_dim", "config", "shipped")

ChecksumError = fmt.ChecksumError


class ZooError(RuntimeError):
    """A zoo entry is unknown, malformed, or has no shipped files."""


# --------------------------------------------------------------------- registry
def registry_path(path: str | None = None) -> str:
    """The registry file in use: ``path``, ``$TFLESS_ZOO_REGISTRY``, or the shipped one."""
    return os.path.abspath(path or os.environ.get("TFLESS_ZOO_REGISTRY") or DEFAULT_REGISTRY)


def load_registry(path: str | None = None) -> dict:
    """Reads and validates a registry file; returns ``{"format": ..., "entries": [...]}``."""
    path = registry_path(path)
    try:
        with open(path) as f:
            registry = json.load(f)
    except FileNotFoundError:
        raise ZooError(f"Zoo registry {path!r} does not exist.") from None
    except json.JSONDecodeError as e:
        raise ZooError(f"Zoo registry {path!r} is not valid JSON: {e}") from None
    if not isinstance(registry, dict) or registry.get("format") != REGISTRY_FORMAT:
        raise ZooError(
            f"Zoo registry {path!r} must be a JSON object with format {REGISTRY_FORMAT!r}."
        )
    names = set()
    for i, entry in enumerate(registry.get("entries", [])):
        missing = [k for k in _REQUIRED if k not in entry]
        if missing:
            raise ZooError(f"Zoo registry {path!r}: entry {i} lacks {missing}.")
        if entry["name"] in names:
            raise ZooError(f"Zoo registry {path!r}: duplicate entry {entry['name']!r}.")
        names.add(entry["name"])
        if entry["shipped"] and not ("location" in entry and "files" in entry):
            raise ZooError(
                f"Zoo registry {path!r}: shipped entry {entry['name']!r} needs 'location' and "
                "'files'."
            )
        _check_method_and_config(entry, path)
    return registry


def _check_method_and_config(entry: Mapping, path: str) -> None:
    """Refuses an entry whose method is not registered or whose config file is missing.

    The config is looked up in the source checkout this package belongs to; an installed
    package without the ``configs/`` folder beside it cannot check the file (building
    an entry needs a checkout anyway), so only the method is checked there.
    """
    from tfless.methods import METHODS

    if entry["method"] not in METHODS:
        raise ZooError(
            f"Zoo registry {path!r}: entry {entry['name']!r} names method {entry['method']!r}, "
            f"which is not registered; expected one of {sorted(METHODS)}."
        )
    config = entry["config"]
    if not isinstance(config, Mapping) or not isinstance(config.get("file"), str):
        raise ZooError(
            f"Zoo registry {path!r}: entry {entry['name']!r} needs config.file; got {config!r}."
        )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.isdir(os.path.join(root, "configs")):
        if not os.path.isfile(os.path.join(root, config["file"])):
            raise ZooError(
                f"Zoo registry {path!r}: entry {entry['name']!r} names config "
                f"{config['file']!r}, which does not exist under {root!r}."
            )


def list_entries(registry: str | None = None) -> list[dict]:
    """All registry entries, in registry order."""
    return list(load_registry(registry).get("entries", []))


def get_entry(name: str, registry: str | None = None) -> dict:
    """The registry entry called ``name``; raises :class:`ZooError` naming the known names."""
    entries = list_entries(registry)
    for entry in entries:
        if entry["name"] == name:
            return entry
    raise ZooError(
        f"No zoo entry {name!r} in {registry_path(registry)!r}. Known: "
        f"{[e['name'] for e in entries]}."
    )


def entry_path(entry: Mapping, registry: str | None = None) -> str:
    """The export directory of a shipped entry."""
    if not entry.get("shipped"):
        raise ZooError(
            f"Zoo entry {entry['name']!r} is a recipe without shipped files; build it with "
            f"`tfless-zoo build {entry['name']}` (needs its dataset)."
        )
    base = os.path.dirname(registry_path(registry))
    return os.path.normpath(os.path.join(base, entry["location"]))


def _write_registry(registry: dict, path: str) -> None:
    # Atomic replace: a reader never sees a half-written registry.
    fd, tmp = tempfile.mkstemp(prefix=".registry-", suffix=".json", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(registry, f, indent=2)
            f.write("\n")
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; the registry is package data
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


# --------------------------------------------------------------------- loading
def verify(name: str, registry: str | None = None) -> dict:
    """Checks every file of a shipped entry against the registry's sha256 sums.

    Returns:
      ``{"name", "path", "files"}`` on success.

    Raises:
      ChecksumError: a file is missing, changed, or not listed (the message names each).
    """
    entry = get_entry(name, registry)
    path = entry_path(entry, registry)
    if not os.path.isdir(path):
        raise ChecksumError(f"Zoo entry {name!r}: export directory {path!r} is missing.")
    fmt.verify_checksums(path, entry["files"])
    # The export's own checksum file must agree too, so servers loading it accept it.
    fmt.verify_checksums(path)
    return {"name": name, "path": path, "files": len(entry["files"])}


class EncoderLayer(keras.layers.TFSMLayer):
    """A reloaded tfless export as a Keras layer returning the feature tensor.

    ``keras.layers.TFSMLayer`` returns the signature's output dict; this layer
    returns ``outputs[output_key]`` (``feature_vector`` by default), so it drops
    into ``keras.Sequential`` and functional models. Set ``trainable=True`` to
    fine-tune its variables.

    Attributes:
      metadata: the export's tfless metadata (input spec, preprocessing, method...).
    """

    def __init__(
        self,
        filepath: str,
        call_endpoint: str = fmt.FEATURE_SIGNATURE,
        output_key: str | None = None,
        trainable: bool = False,
        **kwargs,
    ):
        super().__init__(filepath, call_endpoint=call_endpoint, trainable=trainable, **kwargs)
        if output_key is None:
            output_key = (
                fmt.LOGITS_KEY if call_endpoint == fmt.LOGITS_SIGNATURE else fmt.FEATURE_KEY
            )
        self.output_key = output_key
        self.metadata = fmt.read_metadata(filepath) if fmt.has_metadata(filepath) else {}

    def call(self, inputs, training=False, **kwargs):
        outputs = super().call(inputs, training=training, **kwargs)
        return outputs[self.output_key] if isinstance(outputs, dict) else outputs

    def get_config(self):
        return {**super().get_config(), "output_key": self.output_key}


def load_encoder(
    name: str,
    registry: str | None = None,
    *,
    trainable: bool = False,
    signature: str = fmt.FEATURE_SIGNATURE,
    verify_checksums: bool = True,
) -> EncoderLayer:
    """Loads a shipped zoo encoder as a ready Keras layer.

    Args:
      name: registry entry name (see ``tfless-zoo list``).
      registry: registry file (default: the shipped one, or ``$TFLESS_ZOO_REGISTRY``).
      trainable: expose the variables for fine-tuning.
      signature: ``serving_default`` (features), ``logits`` or ``serving_uint8``.
      verify_checksums: check every file's sha256 first (default; refuses a mismatch).

    Returns:
      :class:`EncoderLayer`: images ``[B, H, W, C]`` (see ``layer.metadata['input']``)
      -> ``[B, D]``.

    Raises:
      ZooError: unknown name or a recipe entry without files.
      ChecksumError: the files do not match the registry.
    """
    entry = get_entry(name, registry)
    path = entry_path(entry, registry)
    if verify_checksums:
        verify(name, registry)
    layer = EncoderLayer(path, call_endpoint=signature, trainable=trainable, name=name)
    layer.entry = dict(entry)
    return layer


# ---------------------------------------------------------------------- metrics
#: The metrics :func:`measure` records for an entry.
MEASURED_METRICS = ("test_accuracy", "knn_accuracy", "linear_accuracy")


def measure(export_dir: str, entry: Mapping, settings=None) -> dict:
    """Metrics of an exported encoder on its (built-in) dataset, from the SavedModel itself.

    :func:`tfless.evaluation.evaluate_encoder` on the loaded export: ``test_accuracy``
    through the ``logits`` signature when present, ``knn_accuracy`` (weighted kNN) and
    ``linear_accuracy`` (logistic probe) on the features, rounded to 4 decimals.

    Args:
      export_dir: the export version directory.
      entry: its registry entry (``dataset`` and ``input.shape`` are read).
      settings: protocol parameters; default :data:`tfless.evaluation.DEFAULTS` (the
        same as the trainer's and ``tfless-eval``'s: kNN k=200, T=0.1).
    """
    import tensorflow as tf

    from tfless.data import load
    from tfless.evaluation import DEFAULTS, evaluate_encoder, has_classifier

    shape = entry["input"]["shape"]
    train, test = (
        load(entry["dataset"], split, image_size=tuple(shape[:2]), channels=shape[2])
        for split in ("train", "test")
    )
    loaded = tf.saved_model.load(export_dir)
    protocols = ("knn", "linear") + (("accuracy",) if has_classifier(loaded) else ())
    results = evaluate_encoder(loaded, train, test, protocols, settings=settings or DEFAULTS)
    return {k: round(results[k], 4) for k in MEASURED_METRICS if k in results}


# ------------------------------------------------------------------------ build
@contextlib.contextmanager
def _op_determinism():
    """Deterministic TF kernels inside the block, restoring the previous setting after."""
    from tensorflow.python.framework import config as tf_config

    was = tf_config.is_op_determinism_enabled()
    tf_config.enable_op_determinism()
    try:
        yield
    finally:
        if not was:
            tf_config.disable_op_determinism()


def _config_file(entry: Mapping, config_root: str | None) -> str:
    rel = entry["config"]["file"]
    candidates = [config_root] if config_root else []
    candidates += [os.getcwd(), os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
    for base in candidates:
        path = os.path.join(base, rel)
        if os.path.isfile(path):
            return path
    raise ZooError(
        f"Config {rel!r} of zoo entry {entry['name']!r} not found under {candidates}; run from a "
        "tfless source checkout or pass config_root (--config_root)."
    )


def load_config(entry: Mapping, arg: str | None = None, config_root: str | None = None):
    """The ``ConfigDict`` that rebuilds an entry (``arg`` overrides the entry's config arg)."""
    path = _config_file(entry, config_root)
    arg = entry["config"].get("arg") if arg is None else arg
    config = _configs.load_config(f"{path}:{arg}" if arg else path)
    overrides = entry["config"].get("overrides") or {}
    if overrides:
        config.unlock()
        for dotted, value in overrides.items():
            node = config
            *parents, leaf = dotted.split(".")
            for p in parents:
                node = node[p]
            node[leaf] = value
        config.lock()
    return config


@dataclasses.dataclass
class BuildResult:
    """What :func:`build` produced.

    Attributes:
      export: the :class:`tfless.export.ExportResult`.
      metrics: metrics measured on the export (see :func:`measure`).
      train_metrics: what ``train_and_evaluate`` reported.
      reproduced: the trained weights' digest equals the registry's (None if none recorded).
    """

    export: _export.ExportResult
    metrics: dict
    train_metrics: dict
    reproduced: bool | None


def build(
    name: str,
    registry: str | None = None,
    *,
    out_root: str | None = None,
    workdir: str | None = None,
    config_arg: str | None = None,
    config_root: str | None = None,
    update_registry: bool = False,
    deterministic: bool = True,
    verify: bool = True,
) -> BuildResult:
    """Trains an entry from its config and exports it, deterministically.

    Args:
      name: registry entry.
      registry: registry file.
      out_root: export root; default the registry's directory when
        ``update_registry``, else a new temporary directory.
      workdir: training run directory; default a temporary one, removed after.
      config_arg: overrides the entry's config arg (e.g. ``'smoke'``).
      config_root: where ``configs/`` lives (default: cwd, then the source checkout).
      update_registry: write the new location, checksums, metrics and weight
        digest into the registry and remove the previously shipped version.
      deterministic: run with TF's deterministic kernels (restored afterwards).
      verify: check the export in a fresh process before publishing it (see
        :func:`tfless.export.export_encoder`).

    Returns:
      :class:`BuildResult`.
    """
    from tfless.train import train_and_evaluate

    entry = get_entry(name, registry)
    config = load_config(entry, config_arg, config_root)
    reg_path = registry_path(registry)
    if out_root is None:
        out_root = (
            os.path.dirname(reg_path) if update_registry else tempfile.mkdtemp(prefix="tfless-zoo-")
        )
    own_workdir = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix=f"tfless-zoo-{name}-")
    try:
        with _op_determinism() if deterministic else contextlib.nullcontext():
            result = train_and_evaluate(config, workdir)
        exported = _export.export_encoder(
            result.method,
            out_root,
            name,
            config=config,
            manifest=result.manifest,
            extra_metadata={"zoo_entry": name, "train_metrics": result.metrics},
            verify=verify,
        )
    finally:
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    metrics = measure(exported.path, entry) if _is_builtin(entry["dataset"]) else {}
    digest = result.metrics.get("weights_digest")
    recorded = entry.get("weights_digest")
    reproduced = None if recorded is None or config_arg is not None else recorded == digest
    if update_registry:
        _update_entry(reg_path, entry, exported, metrics, result.metrics, config_arg)
    return BuildResult(exported, metrics, result.metrics, reproduced)


def _is_builtin(dataset: str) -> bool:
    from tfless.data import BUILTIN_DATASETS

    return dataset in BUILTIN_DATASETS


def _update_entry(reg_path, entry, exported, metrics, train_metrics, config_arg) -> None:
    registry = load_registry(reg_path)
    base = os.path.dirname(reg_path)
    old_location = entry.get("location")
    new = dict(entry)
    new.update(
        shipped=True,
        location=os.path.relpath(exported.path, base).replace(os.sep, "/"),
        files={
            **exported.checksums,
            fmt.CHECKSUMS_PATH: fmt.sha256_file(os.path.join(exported.path, fmt.CHECKSUMS_PATH)),
        },
        metrics=metrics,
        train_metrics={
            k: train_metrics[k]
            for k in ("test_accuracy", "test_loss", "steps")
            if k in train_metrics
        },
        weights_digest=train_metrics.get("weights_digest"),
        built_utc=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        size_bytes=sum(
            os.path.getsize(os.path.join(exported.path, rel)) for rel in exported.checksums
        )
        + os.path.getsize(os.path.join(exported.path, fmt.CHECKSUMS_PATH)),
    )
    if config_arg is not None:
        new["config"] = {**entry["config"], "arg": config_arg}
    registry["entries"] = [new if e["name"] == entry["name"] else e for e in registry["entries"]]
    _write_registry(registry, reg_path)
    if old_location and old_location != new["location"]:
        old = os.path.normpath(os.path.join(base, old_location))
        if os.path.isdir(old) and os.path.commonpath([old, base]) == base:
            shutil.rmtree(old)


def describe(entry: Mapping) -> str:
    """A one-line summary of an entry for ``tfless-zoo list``."""
    metrics = entry.get("metrics") or entry.get("expected_metrics") or {}
    shown = ", ".join(f"{k}={v}" for k, v in metrics.items())
    kind = "shipped" if entry.get("shipped") else "recipe"
    return (
        f"{entry['name']:<34} {kind:<8} {entry['method']:<11} {entry['backbone']:<9} "
        f"{entry['dataset']:<13} {shown}"
    )

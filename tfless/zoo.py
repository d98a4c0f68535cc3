"""The model zoo: a registry of exported encoders, checksum-verified loading, rebuilds.

The registry (``tfless/model_zoo/registry.json``, shipped as package data so it
works after a plain ``pip install``) lists every encoder with its method,
backbone, dataset, input spec, feature size, the config that rebuilds it, its
measured metrics with the command that measured them, its location and the
sha256 of each of its files. Entries with ``"shipped": true`` have their
SavedModel next to the registry (``<registry dir>/<name>/<version>/``, TF
Serving's layout, so the directory is itself an export root); the others are
recipes with the metrics the papers report (``expected_metrics``), for users
with accelerators. A shipped entry also records its references, measured by the
same protocols: ``baselines.random_init`` (its encoder before any training step)
and ``supervised_reference`` (the entry trained with every label on the same data).

The loader refuses an entry whose method is not registered or whose config (file,
arg and overrides) does not exist or does not train that method.

Typical use::

    from tfless import zoo
    encoder = zoo.load_encoder("digits_supervised_convnet")   # a Keras layer
    features = encoder(images)                                 # [B, 16, 16, 1] -> [B, 128]
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import json
import os
import re
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
_WORK_PREFIX = "tfless-zoo-run-"


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
        _check_protocols(entry, path)
    _check_references(registry.get("entries", []), path)
    return registry


def _checkout_root() -> str | None:
    """The source checkout this package belongs to, if ``configs/`` sits beside it."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return root if os.path.isdir(os.path.join(root, "configs")) else None


def _check_method_and_config(entry: Mapping, path: str) -> None:
    """Refuses an entry whose method is not registered or whose config does not resolve.

    The config (file, arg and overrides, what ``tfless-zoo build`` runs) is loaded from
    the source checkout this package belongs to, and must train the entry's method. An
    installed package without the ``configs/`` folder beside it cannot load the config
    (building an entry needs a checkout anyway), so only the method and the form of the
    config's path are checked there.
    """
    from tfless.methods import METHODS

    what = f"Zoo registry {path!r}: entry {entry['name']!r}"
    if entry["method"] not in METHODS:
        raise ZooError(
            f"{what} names method {entry['method']!r}, which is not registered; expected one "
            f"of {sorted(METHODS)}."
        )
    config = entry["config"]
    file = config.get("file") if isinstance(config, Mapping) else None
    if not isinstance(file, str) or not file.startswith("configs/") or not file.endswith(".py"):
        raise ZooError(
            f"{what} needs config.file, a 'configs/....py' path relative to the source "
            f"checkout; got {config!r}."
        )
    root = _checkout_root()
    if root is None:
        return
    if not os.path.isfile(os.path.join(root, file)):
        raise ZooError(f"{what} names config {file!r}, which does not exist under {root!r}.")
    try:
        loaded = load_config(entry, config_root=root)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ZooError(f"{what}: its config {file!r} (arg {config.get('arg')!r}) fails: {e}") from e
    if loaded.method.name != entry["method"]:
        raise ZooError(
            f"{what} names method {entry['method']!r} but its config {file!r} (arg "
            f"{config.get('arg')!r}) trains {loaded.method.name!r}."
        )


def _check_protocols(entry: Mapping, path: str) -> None:
    """Refuses a ``protocols`` field that is not one of :data:`ENTRY_PROTOCOLS`."""
    protocols = entry.get("protocols")
    if protocols is not None and tuple(protocols) not in ENTRY_PROTOCOLS:
        raise ZooError(
            f"Zoo registry {path!r}: entry {entry['name']!r} names protocols {protocols!r}; "
            f"expected none (the feature protocols) or one of {[list(p) for p in ENTRY_PROTOCOLS]}."
        )


def _check_references(entries: list, path: str) -> None:
    """Refuses a ``supervised_reference`` that is not another entry on the same dataset."""
    by_name = {e["name"]: e for e in entries}
    for entry in entries:
        ref = entry.get("supervised_reference")
        if ref is None:
            continue
        target = by_name.get(ref)
        if target is None or target["dataset"] != entry["dataset"] or target is entry:
            raise ZooError(
                f"Zoo registry {path!r}: entry {entry['name']!r} names supervised_reference "
                f"{ref!r}; expected another entry of the registry on {entry['dataset']!r}."
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


#: The Keras layer of an export (fine-tunable with ``trainable=True``); see
#: :class:`tfless.export.EncoderLayer`.
EncoderLayer = _export.EncoderLayer


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
#: The metrics :func:`measure` records for an entry measured by the feature protocols.
MEASURED_METRICS = ("test_accuracy", "knn_accuracy", "linear_accuracy", "linear_10pc_accuracy")
#: The frozen-feature protocols behind them (``accuracy`` is added for a classifier).
_FEATURE_PROTOCOLS = ("knn", "linear", "few_label")
#: What an entry's ``protocols`` field may name: the frozen-feature protocols, or
#: ``fewshot`` for an encoder trained on base classes and scored on novel ones (whose
#: training and test classes differ, so kNN and probes fit on ``train`` say nothing).
ENTRY_PROTOCOLS = (_FEATURE_PROTOCOLS, ("fewshot",))
#: The few-shot metrics :func:`measure` records: per setting and head, mean and 95% CI.
_FEWSHOT_METRIC = re.compile(
    r"fewshot_\d+way\d+shot_(protonet|baseline|baseline_pp)_(accuracy|ci95)"
)


def entry_protocols(entry: Mapping) -> tuple[str, ...]:
    """The protocols :func:`measure` runs for an entry (its ``protocols`` field).

    Default: the frozen-feature protocols (kNN, linear probe, few-label probe); an entry
    trained on base classes and tested on novel ones (a few-shot encoder) names
    ``["fewshot"]``: N-way K-shot accuracy on the test split's classes with the heads and
    episodes of :data:`tfless.evaluation.DEFAULTS` (5-way, 1 and 5 shots, 600 episodes).
    """
    return tuple(entry.get("protocols") or _FEATURE_PROTOCOLS)


def _eval_data(entry: Mapping) -> tuple:
    """The entry's (built-in) train and test splits at its input shape, as arrays."""
    return _split_arrays(entry["dataset"], tuple(entry["input"]["shape"]))


@functools.lru_cache(maxsize=4)
def _split_arrays(dataset: str, shape: tuple) -> tuple:
    # Cached: a build measures the export and the random-init encoder on the same arrays.
    from tfless.data import load, to_arrays

    splits = tuple(
        to_arrays(load(dataset, split, image_size=tuple(shape[:2]), channels=shape[2]))
        for split in ("train", "test")
    )
    for array in (a for split in splits for a in split):
        array.setflags(write=False)  # shared by every caller
    return splits


def _rounded(results: Mapping) -> dict:
    return {
        k: round(float(v), 4)
        for k, v in results.items()
        if k in MEASURED_METRICS or _FEWSHOT_METRIC.fullmatch(k)
    }


def _evaluate(encoder, entry: Mapping, protocols, settings) -> dict:
    from tfless.evaluation import DEFAULTS, evaluate_encoder

    train, test = _eval_data(entry)
    if "fewshot" in protocols:
        train = None  # the classes of train are not those of test: nothing fits on them
    return _rounded(
        evaluate_encoder(encoder, train, test, protocols, settings=settings or DEFAULTS)
    )


def measure(export_dir: str, entry: Mapping, settings=None) -> dict:
    """Metrics of an exported encoder on its (built-in) dataset, from the SavedModel itself.

    :func:`tfless.evaluation.evaluate_encoder` on the loaded export, by the entry's
    protocols (:func:`entry_protocols`), rounded to 4 decimals:

    * the feature protocols (default): ``test_accuracy`` through the ``logits``
      signature when present; on the features, ``knn_accuracy`` (weighted kNN) and
      ``linear_accuracy`` (logistic probe) with every training label, and
      ``linear_10pc_accuracy`` (the probe fit on 10 labels per class);
    * ``fewshot``: ``fewshot_<N>way<K>shot_<head>_accuracy`` and ``..._ci95`` on the
      test split's classes for every head on frozen features (ProtoNet, Baseline,
      Baseline++).

    Args:
      export_dir: the export version directory.
      entry: its registry entry (``dataset``, ``input.shape`` and ``protocols`` are read).
      settings: protocol parameters; default :data:`tfless.evaluation.DEFAULTS` (the
        same as the trainer's and ``tfless-eval``'s: kNN k=200, T=0.1, 10 labels per
        class for the few-label probe; 5-way 1- and 5-shot, 600 episodes of 15 queries).
    """
    import tensorflow as tf

    from tfless.evaluation import has_classifier

    loaded = tf.saved_model.load(export_dir)
    protocols = entry_protocols(entry)
    if "fewshot" not in protocols and has_classifier(loaded):
        protocols += ("accuracy",)
    return _evaluate(loaded, entry, protocols, settings)


def measure_random_init(config, entry: Mapping, settings=None) -> dict:
    """The metrics of the entry's encoder before any training step.

    The reference a learned encoder must beat: the config's backbone and method built
    with the run's seed (``train.seed``), measured by the protocols of :func:`measure`
    (no ``test_accuracy``: an untrained head says nothing).
    """
    from tfless.data import get_info
    from tfless.train.build import build_method

    train, _ = _eval_data(entry)
    keras.utils.set_random_seed(int(config.train.get("seed", 0)))
    info = get_info(entry["dataset"])
    method = build_method(
        config, tuple(entry["input"]["shape"]), info.num_classes, num_train=len(train[1])
    )
    return _evaluate(method, entry, entry_protocols(entry), settings)


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
            if leaf not in node:
                raise KeyError(f"config override {dotted!r} names no field of the config")
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
      baselines: reference metrics measured with the same protocols, ``{"random_init":
        {...}}`` (see :func:`measure_random_init`); empty for a dataset that is not built in.
    """

    export: _export.ExportResult
    metrics: dict
    train_metrics: dict
    reproduced: bool | None
    baselines: dict = dataclasses.field(default_factory=dict)


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
    if out_root is None and update_registry:
        out_root = os.path.dirname(reg_path)
    own_workdir = workdir is None
    if own_workdir:
        # Tagged with this process, so a later build removes what a killed one left.
        fmt.remove_stale_temp_dirs(tempfile.gettempdir(), _WORK_PREFIX)
        workdir = tempfile.mkdtemp(prefix=f"{fmt.owned_prefix(_WORK_PREFIX)}{name}-")
    own_out_root = out_root is None
    try:
        with _op_determinism() if deterministic else contextlib.nullcontext():
            result = train_and_evaluate(config, workdir)
        # The build's result lives here: created once there is a result, kept after.
        out_root = out_root or tempfile.mkdtemp(prefix="tfless-zoo-")
        exported = _export.export_encoder(
            result.method,
            out_root,
            name,
            config=config,
            manifest=result.manifest,
            extra_metadata={"zoo_entry": name, "train_metrics": result.metrics},
            verify=verify,
        )
    except BaseException:
        if own_out_root and out_root is not None:
            shutil.rmtree(out_root, ignore_errors=True)
        raise
    finally:
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    builtin = _is_builtin(entry["dataset"])
    metrics = measure(exported.path, entry) if builtin else {}
    baselines = {"random_init": measure_random_init(config, entry)} if builtin else {}
    digest = result.metrics.get("weights_digest")
    recorded = entry.get("weights_digest")
    reproduced = None if recorded is None or config_arg is not None else recorded == digest
    if update_registry:
        _update_entry(reg_path, entry, exported, (metrics, baselines), result.metrics, config_arg)
    return BuildResult(exported, metrics, result.metrics, reproduced, baselines)


def _is_builtin(dataset: str) -> bool:
    from tfless.data import BUILTIN_DATASETS

    return dataset in BUILTIN_DATASETS


def _update_entry(reg_path, entry, exported, measured, train_metrics, config_arg) -> None:
    metrics, baselines = measured
    registry = load_registry(reg_path)
    base = os.path.dirname(reg_path)
    old_location = entry.get("location")
    # The entry as it is now: edits made to the registry while the build ran are kept.
    current = [e for e in registry["entries"] if e["name"] == entry["name"]]
    new = dict(current[0] if current else entry)
    new.update(
        shipped=True,
        location=os.path.relpath(exported.path, base).replace(os.sep, "/"),
        files={
            **exported.checksums,
            fmt.CHECKSUMS_PATH: fmt.sha256_file(os.path.join(exported.path, fmt.CHECKSUMS_PATH)),
        },
        metrics=metrics,
        baselines=baselines,
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


#: Short names of the metrics in ``tfless-zoo list``.
_SHORT = {
    "test_accuracy": "test",
    "knn_accuracy": "knn",
    "linear_accuracy": "linear",
    "linear_10pc_accuracy": "linear@10/class",
}
#: The columns of :func:`list_table`.
LIST_COLUMNS = ("name", "kind", "method", "backbone", "dataset", "measured", "published")


def _metrics_text(metrics: Mapping | None) -> str:
    """``knn=0.99, linear=...``; a few-shot accuracy as ``5way1shot_protonet=0.95+-0.004``."""
    metrics = metrics or {}
    cells = []
    for key, value in metrics.items():
        if not _FEWSHOT_METRIC.fullmatch(key):
            cells.append(f"{_SHORT.get(key, key)}={value}")
        elif key.endswith("_accuracy"):
            ci = metrics.get(key[: -len("accuracy")] + "ci95")
            short = key[len("fewshot_") : -len("_accuracy")]
            cells.append(f"{short}={value}" + ("" if ci is None else f"+-{ci}"))
    return ", ".join(cells) or "-"


def describe(entry: Mapping) -> tuple[str, ...]:
    """An entry's cells in :data:`LIST_COLUMNS` order.

    ``measured`` holds the metrics measured on the shipped export by ``tfless-zoo build``
    (``metrics``); ``published`` the numbers a paper or benchmark reports for the recipe
    (``expected_metrics``, see the entry's ``reference``). A "-" marks none.
    """
    shipped = bool(entry.get("shipped"))
    return (
        entry["name"],
        "shipped" if shipped else "recipe",
        entry["method"],
        entry["backbone"],
        entry["dataset"],
        _metrics_text(entry.get("metrics") if shipped else None),
        _metrics_text(entry.get("expected_metrics")),
    )


def list_table(entries) -> list[str]:
    """``tfless-zoo list``: a header and one aligned line per entry (see :func:`describe`)."""
    rows = [LIST_COLUMNS] + [describe(e) for e in entries]
    widths = [max(len(row[i]) for row in rows) for i in range(len(LIST_COLUMNS) - 1)]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[-1]]).rstrip()
        for row in rows
    ]

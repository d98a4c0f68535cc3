"""Models and versions a server answers for: loading, checksum refusal, version policies.

Like TF Serving's file-system source, a store remembers where each model came from and
:meth:`ModelStore.refresh` picks up versions (and, under an export root, models) that
appeared since: a model directory with no complete version yet is skipped and logged,
not fatal, and is served once a version lands.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tfless import export_format as fmt
from tfless.serving.errors import ModelLoadError, bad_request, not_found

_log = logging.getLogger(__name__)


@dataclasses.dataclass
class Signature:
    """A loaded signature's input specs, output keys and the input ranges its metadata records."""

    name: str
    inputs: dict  # key -> (numpy dtype, shape tuple with -1 for unknown)
    outputs: list  # output keys, sorted
    ranges: dict  # key -> (lo, hi) from tfless metadata; may be empty


@dataclasses.dataclass
class LoadedModel:
    """One loaded model version.

    Attributes:
      name, version, path: what was loaded from where.
      metadata: the tfless metadata dict ({} for foreign SavedModels).
      signatures: the callable signatures of the SavedModel.
    """

    name: str
    version: int
    path: str
    metadata: dict
    loaded: Any
    signatures: dict
    signature_def_json: dict

    def run(self, signature: str, inputs: dict) -> dict:
        """Runs a signature on validated numpy inputs; returns ``{output key: array}``."""
        import tensorflow as tf

        fn = self.loaded.signatures[signature]
        result = fn(**{k: tf.constant(v) for k, v in inputs.items()})
        return {k: v.numpy() for k, v in result.items()}

    @property
    def max_instance_values(self) -> int | None:
        """Values in one instance of the largest fully known signature input (None if none is).

        An input with open dimensions (``serving_uint8``'s any-size raw pixels) is left out:
        it is a variant of the same images, not a larger input.
        """
        sizes = [
            int(np.prod(shape[1:], dtype=np.int64))
            for sig in self.signatures.values()
            for _, shape in sig.inputs.values()
            if all(d >= 0 for d in shape[1:])
        ]
        return max(sizes, default=None)


def _signature_defs(export_dir: str) -> dict:
    from google.protobuf import json_format
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow_serving.apis import get_model_metadata_pb2

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(export_dir, fmt.SAVED_MODEL_FILE), "rb") as f:
        proto.ParseFromString(f.read())
    sig_map = get_model_metadata_pb2.SignatureDefMap()
    for meta_graph in proto.meta_graphs:
        if "serve" in meta_graph.meta_info_def.tags:
            for key, sig in meta_graph.signature_def.items():
                sig_map.signature_def[key].CopyFrom(sig)
    return json_format.MessageToDict(sig_map, preserving_proto_field_name=True)


def load_model_version(
    name: str, version: int, path: str, require_checksums: bool = True
) -> LoadedModel:
    """Loads one version directory after verifying its checksums.

    Raises:
      ModelLoadError: the directory is not a SavedModel, its checksums do not
        match (tampered or corrupted), or TensorFlow cannot load it.
    """
    import tensorflow as tf

    if not os.path.isfile(os.path.join(path, fmt.SAVED_MODEL_FILE)):
        raise ModelLoadError(f"{path!r} (model {name!r} version {version}) has no saved_model.pb.")
    if require_checksums or fmt.has_checksums(path):
        try:
            fmt.verify_checksums(path)
        except fmt.ChecksumError as e:
            raise ModelLoadError(f"Refusing to serve model {name!r} version {version}: {e}") from e
    metadata = {}
    if fmt.has_metadata(path):
        metadata = fmt.read_metadata(path)
    try:
        loaded = tf.saved_model.load(path)
    except Exception as e:  # TF raises a zoo of types for broken SavedModels
        raise ModelLoadError(f"TensorFlow cannot load {path!r} (model {name!r}): {e}") from e
    signatures = {}
    meta_sigs = metadata.get("signatures", {})
    for sig_name, fn in loaded.signatures.items():
        specs = fn.structured_input_signature[1]
        inputs = {
            k: (np.dtype(s.dtype.as_numpy_dtype), tuple(-1 if d is None else d for d in s.shape))
            for k, s in specs.items()
        }
        ranges = {}
        for k, spec in meta_sigs.get(sig_name, {}).get("inputs", {}).items():
            if "range" in spec:
                ranges[k] = tuple(spec["range"])
        signatures[sig_name] = Signature(sig_name, inputs, sorted(fn.structured_outputs), ranges)
    return LoadedModel(name, version, path, metadata, loaded, signatures, _signature_defs(path))


@dataclasses.dataclass(frozen=True)
class _Source:
    """Where a model's versions come from, so :meth:`ModelStore.refresh` can look again."""

    base_path: str
    policy: str
    labels: tuple  # ((label, version), ...)
    require_checksums: bool


def complete_versions(base_path: str) -> list[int]:
    """Version directories under ``base_path`` that hold a ``saved_model.pb``, sorted."""
    return [
        v
        for v in fmt.list_versions(base_path)
        if os.path.isfile(os.path.join(base_path, str(v), fmt.SAVED_MODEL_FILE))
    ]


def _dir_state(path: str) -> tuple:
    """(relative path, size, mtime) of every file under ``path``: changes when a copy goes on."""
    state = []
    for dirpath, _, files in os.walk(path):
        for fname in files:
            full = os.path.join(dirpath, fname)
            try:
                st = os.stat(full)
            except OSError:  # removed while we looked
                continue
            state.append((os.path.relpath(full, path), st.st_size, st.st_mtime_ns))
    return tuple(sorted(state))


def _model_dirs(root: str) -> list[str]:
    return sorted(
        d
        for d in os.listdir(root)
        if os.path.isdir(os.path.join(root, d)) and not d.startswith(".")
    )


class ModelStore:
    """The models a server answers for: ``{name: {version: LoadedModel}}`` plus version labels.

    Safe to read from request threads while :meth:`refresh` runs in another: a model's
    version map is replaced whole, never edited in place.
    """

    def __init__(self):
        self._models: dict[str, dict[int, LoadedModel]] = {}
        self._labels: dict[str, dict[str, int]] = {}
        self._sources: dict[str, _Source] = {}
        self._roots: list[tuple[str, str, bool]] = []
        self._failed: dict[tuple[str, int], tuple] = {}  # (name, version) -> _dir_state
        self._ignored: set[str] = set()  # directories whose names are not model names
        self._refresh_lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return sorted(self._models)

    @property
    def pending(self) -> list[str]:
        """Models known from their directory that have no loaded version yet."""
        return sorted(n for n in self._sources if not self._models.get(n))

    def versions(self, name: str) -> list[int]:
        return sorted(self._models.get(name, {}))

    def add_model(
        self,
        name: str,
        base_path: str,
        policy: str = "latest",
        versions: Sequence[int] = (),
        labels: Mapping[str, int] | None = None,
        require_checksums: bool = True,
    ) -> None:
        """Loads versions of one model from ``base_path`` (``<base_path>/<version>/``).

        Version directories without a ``saved_model.pb`` (still being copied) are not
        candidates for ``'latest'`` and ``'all'``; :meth:`refresh` loads them once complete.

        Args:
          name: model name used in URLs.
          base_path: the model directory holding integer version directories.
          policy: ``'latest'`` (TF Serving's default: newest version only), ``'all'``,
            or ``'specific'`` (the ``versions`` given).
          versions: versions for ``policy='specific'``.
          labels: version labels, ``{'stable': 1}``.
          require_checksums: refuse exports without tfless checksum files.

        Raises:
          ModelLoadError: no loadable version, or a chosen version failed to load.
        """
        fmt.check_model_name(name)
        if policy not in ("latest", "all", "specific"):
            raise ValueError(f"policy must be 'latest', 'all' or 'specific'; got {policy!r}.")
        if not os.path.isdir(base_path):
            raise ModelLoadError(f"Model {name!r}: base path {base_path!r} is not a directory.")
        available = fmt.list_versions(base_path)
        if not available:
            raise ModelLoadError(
                f"Model {name!r}: no integer version directories under {base_path!r}."
            )
        if policy == "specific":
            missing = sorted(set(versions) - set(available))
            if missing or not versions:
                raise ModelLoadError(
                    f"Model {name!r}: versions {missing or list(versions)} requested, "
                    f"available {available}."
                )
            chosen = sorted(set(versions))
        else:
            complete = complete_versions(base_path)
            if not complete:
                raise ModelLoadError(
                    f"Model {name!r}: no complete version under {base_path!r} (version "
                    f"directories {available} hold no {fmt.SAVED_MODEL_FILE} yet)."
                )
            chosen = complete[-1:] if policy == "latest" else complete
        loaded = {
            v: load_model_version(name, v, os.path.join(base_path, str(v)), require_checksums)
            for v in chosen
        }
        for label, v in (labels or {}).items():
            if v not in loaded:
                raise ModelLoadError(
                    f"Model {name!r}: label {label!r} points at version {v}, which is not "
                    f"loaded (loaded: {sorted(loaded)})."
                )
        self._models[name] = loaded
        self._labels[name] = dict(labels or {})
        self._sources[name] = _Source(
            base_path, policy, tuple(sorted((labels or {}).items())), require_checksums
        )

    def add_root(self, root: str, policy: str = "latest", require_checksums: bool = True) -> None:
        """Loads every model directory under an export root.

        A model that cannot be loaded yet (no complete version, or a refused one) is
        skipped with a logged warning, as TF Serving serves its healthy models; it is
        loaded by :meth:`refresh` once a good version appears.

        Raises:
          ModelLoadError: the root is missing or empty, or no model under it loaded
            (the message gives each model's reason).
        """
        if not os.path.isdir(root):
            raise ModelLoadError(f"Export root {root!r} is not a directory.")
        names = _model_dirs(root)
        if not names:
            raise ModelLoadError(f"Export root {root!r} holds no model directories.")
        problems = [
            self._add_or_wait(name, os.path.join(root, name), policy, require_checksums)
            for name in names
        ]
        self._roots.append((root, policy, require_checksums))
        if all(problems):
            raise ModelLoadError(
                f"No model under export root {root!r} could be loaded: " + " ".join(problems)
            )

    def _add_or_wait(self, name: str, base_path: str, policy: str, require: bool) -> str | None:
        """add_model; on failure logs why, remembers the model for :meth:`refresh` and
        returns the reason."""
        try:
            self.add_model(name, base_path, policy, require_checksums=require)
            return None
        except (ModelLoadError, ValueError) as e:
            _log.warning("Not serving model %r yet: %s", name, e)
            try:
                fmt.check_model_name(name)
            except ValueError:  # not servable under this name: do not look again
                self._ignored.add(base_path)
                return str(e)
            self._sources.setdefault(name, _Source(base_path, policy, (), require))
            return str(e)

    def refresh(self) -> list[tuple[str, int]]:
        """Loads what appeared since the last look; returns the ``(model, version)`` loaded.

        New model directories under export roots and new complete versions of every
        ``'latest'`` or ``'all'`` model are loaded; under ``'latest'`` the new version
        replaces the old (versions a label points at stay). A version that fails to load
        is logged and not retried until its files change; the model keeps serving what
        it had.
        """
        with self._refresh_lock:
            for root, policy, require in self._roots:
                if os.path.isdir(root):
                    for name in _model_dirs(root):
                        path = os.path.join(root, name)
                        if name not in self._sources and path not in self._ignored:
                            self._add_or_wait(name, path, policy, require)
            loaded = []
            for name, source in list(self._sources.items()):
                if source.policy != "specific":
                    loaded += self._refresh_model(name, source)
            return loaded

    def _refresh_model(self, name: str, source: _Source) -> list[tuple[str, int]]:
        complete = complete_versions(source.base_path)
        wanted = complete[-1:] if source.policy == "latest" else complete
        current = self._models.get(name, {})
        new = {}
        for v in wanted:
            path = os.path.join(source.base_path, str(v))
            if v in current or self._failed.get((name, v)) == _dir_state(path):
                continue
            try:
                new[v] = load_model_version(name, v, path, source.require_checksums)
            except ModelLoadError as e:
                self._failed[(name, v)] = _dir_state(path)
                _log.warning("Not serving model %r version %d: %s", name, v, e)
        if not new:
            return []
        if source.policy == "latest":
            kept = {v: m for v, m in current.items() if v in dict(source.labels).values()}
            self._models[name] = {**kept, **new}
        else:
            self._models[name] = {**current, **new}
        self._labels.setdefault(name, dict(source.labels))
        for v in new:
            _log.warning("Serving model %r version %d from %r.", name, v, source.base_path)
        return [(name, v) for v in sorted(new)]

    def add_config_file(self, path: str, require_checksums: bool = True) -> None:
        """Loads the models of a TF Serving ``--model_config_file`` (text ``ModelServerConfig``)."""
        from google.protobuf import text_format
        from tensorflow_serving.config import model_server_config_pb2

        config = model_server_config_pb2.ModelServerConfig()
        try:
            with open(path) as f:
                text_format.Parse(f.read(), config)
        except (OSError, text_format.ParseError) as e:
            raise ModelLoadError(f"Cannot read model config file {path!r}: {e}") from e
        base_dir = os.path.dirname(os.path.abspath(path))
        for mc in config.model_config_list.config:
            which = mc.model_version_policy.WhichOneof("policy_choice")
            if which == "all":
                policy, versions = "all", ()
            elif which == "specific":
                policy, versions = "specific", tuple(mc.model_version_policy.specific.versions)
            else:
                policy, versions = "latest", ()
            base_path = mc.base_path
            if not os.path.isabs(base_path):
                base_path = os.path.join(base_dir, base_path)
            self.add_model(
                mc.name,
                base_path,
                policy,
                versions,
                dict(mc.version_labels),
                require_checksums,
            )

    def get(self, name: str, version=None, label=None) -> LoadedModel:
        """The loaded version for a request; raises a 404 error when there is none."""
        versions = self._models.get(name)
        if not versions:
            raise not_found(f"Servable not found for request: Latest({name})")
        if label is not None:
            if label not in self._labels.get(name, {}):
                raise not_found(f"Unrecognized servable version label: {label}")
            version = self._labels[name][label]
        if version is None:
            return versions[max(versions)]
        try:
            version = int(version)
        except (TypeError, ValueError):
            raise bad_request(f"Failed to convert version: {version} to numeric.") from None
        if version not in versions:
            raise not_found(f"Servable not found for request: Specific({name}, {version})")
        return versions[version]

    def status(self, name: str, version=None, label=None) -> dict:
        """TF Serving's ``GetModelStatus`` response as JSON."""
        if version is None and label is None:
            if name not in self._models:
                raise not_found(f"Could not find any versions of model {name}")
            chosen = self.versions(name)
        else:
            chosen = [self.get(name, version, label).version]
        return {
            "model_version_status": [
                {
                    "version": str(v),
                    "state": "AVAILABLE",
                    "status": {"error_code": "OK", "error_message": ""},
                }
                for v in chosen
            ]
        }

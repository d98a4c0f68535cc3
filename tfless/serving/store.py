"""Models and versions a server answers for: loading, checksum refusal, version policies."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tfless import export_format as fmt
from tfless.serving.errors import ModelLoadError, bad_request, not_found


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


class ModelStore:
    """The models a server answers for: ``{name: {version: LoadedModel}}`` plus version labels."""

    def __init__(self):
        self._models: dict[str, dict[int, LoadedModel]] = {}
        self._labels: dict[str, dict[str, int]] = {}

    @property
    def names(self) -> list[str]:
        return sorted(self._models)

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

        Args:
          name: model name used in URLs.
          base_path: the model directory holding integer version directories.
          policy: ``'latest'`` (TF Serving's default: newest version only), ``'all'``,
            or ``'specific'`` (the ``versions`` given).
          versions: versions for ``policy='specific'``.
          labels: version labels, ``{'stable': 1}``.
          require_checksums: refuse exports without tfless checksum files.
        """
        fmt.check_model_name(name)
        if not os.path.isdir(base_path):
            raise ModelLoadError(f"Model {name!r}: base path {base_path!r} is not a directory.")
        available = fmt.list_versions(base_path)
        if not available:
            raise ModelLoadError(
                f"Model {name!r}: no integer version directories under {base_path!r}."
            )
        if policy == "latest":
            chosen = available[-1:]
        elif policy == "all":
            chosen = available
        elif policy == "specific":
            missing = sorted(set(versions) - set(available))
            if missing or not versions:
                raise ModelLoadError(
                    f"Model {name!r}: versions {missing or list(versions)} requested, "
                    f"available {available}."
                )
            chosen = sorted(set(versions))
        else:
            raise ValueError(f"policy must be 'latest', 'all' or 'specific'; got {policy!r}.")
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

    def add_root(self, root: str, policy: str = "latest", require_checksums: bool = True) -> None:
        """Loads every model directory under an export root."""
        if not os.path.isdir(root):
            raise ModelLoadError(f"Export root {root!r} is not a directory.")
        names = sorted(
            d
            for d in os.listdir(root)
            if os.path.isdir(os.path.join(root, d)) and not d.startswith(".")
        )
        if not names:
            raise ModelLoadError(f"Export root {root!r} holds no model directories.")
        for name in names:
            self.add_model(
                name, os.path.join(root, name), policy, require_checksums=require_checksums
            )

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

"""SavedModel export of encoders: the one place in tfless that writes SavedModels.

An export is a TF Serving model version directory ``<root>/<name>/<version>/``
written through ``keras.export.ExportArchive`` with these signatures:

* ``serving_default``: ``image`` float32 ``[batch, H, W, C]`` in [0, 1] ->
  ``feature_vector`` float32 ``[batch, D]``.
* ``logits`` (methods with a ``head``): ``image`` as above -> ``logits`` float32
  ``[batch, num_classes]``.
* ``serving_uint8``: ``image`` uint8 ``[batch, h, w, C]`` of any size ->
  ``feature_vector``; the graph divides by 255 and resizes (bilinear,
  antialiased) to ``H x W``, so raw pixels can be sent as they are; this
  signature alone accepts any image size, by design.

Every signature checks its input inside the graph before the encoder runs
(rank 4, batch >= 1, ``C`` channels, ``H x W`` for the float32 signatures) and
raises ``InvalidArgumentError`` naming the expected and the received shape; the
input spec alone is not enforced when a signature is called, and a wrong rank
would otherwise reach the convolution kernels (which abort the process).

``call_training`` (no signature, invisible to TF Serving) runs the encoder in
training mode for fine-tuning: batch norm normalizes with the batch's statistics
and updates its moving statistics, as when the encoder was trained. Fine-tuning
through the inference path instead multiplies each batch-normalized layer's
gradients by ``gamma / sqrt(moving_variance)`` (about 25 on the first layer of the
digits encoder), which makes SGD and Adam diverge at ordinary learning rates.

Metadata (input spec and range, preprocessing, method, config, training
manifest, verification result) is written as JSON to
``assets.extra/tfless_metadata.json`` and sha256 checksums of every file to
``assets.extra/tfless_checksums.json``. ``assets.extra`` is TF Serving's place
for files that ship with a version but are not read by the graph. The names,
the metadata schema and the checksum checks are :mod:`tfless.export_format`;
this module writes them.

Before an export is published it is reloaded in a fresh Python process and
its outputs are compared with the Keras model's on a fixed batch. Everything
is written into a hidden temporary directory next to the final one and then
renamed, so a reader (TF Serving polls the model directory) never sees a
half-written version, and a failure leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

# The format's names are re-exported so ``tfless.export.read_metadata`` and the like keep working.
from tfless.export_format import (
    CHECKSUMS_PATH,
    FEATURE_KEY,
    FEATURE_SIGNATURE,
    INPUT_KEY,
    LOGITS_KEY,
    LOGITS_SIGNATURE,
    METADATA_FORMAT,
    METADATA_PATH,
    TFLITE_PATH,
    TRAINING_ENDPOINT,
    UINT8_SIGNATURE,
    ChecksumError,
    ExportError,
    build_metadata,
    check_model_name,
    compute_checksums,
    has_metadata,
    list_versions,
    owned_prefix,
    read_metadata,
    remove_stale_temp_dirs,
    sha256_file,
    signature_specs,
    verify_checksums,
    write_checksums,
    write_metadata,
)

__all__ = [
    "CHECKSUMS_PATH",
    "FEATURE_KEY",
    "FEATURE_SIGNATURE",
    "INPUT_KEY",
    "LOGITS_KEY",
    "LOGITS_SIGNATURE",
    "METADATA_FORMAT",
    "METADATA_PATH",
    "TFLITE_PATH",
    "TRAINING_ENDPOINT",
    "UINT8_SIGNATURE",
    "ChecksumError",
    "EncoderLayer",
    "ExportError",
    "ExportResult",
    "ExportVerificationError",
    "check_images",
    "checked_input",
    "check_model_name",
    "compute_checksums",
    "convert_to_tflite",
    "export_encoder",
    "list_versions",
    "read_metadata",
    "run_tflite",
    "sha256_file",
    "verify_checksums",
]

_TMP_PREFIX = ".tmp-export-"
_VERIFY_PREFIX = "tfless-verify-"
_CHECK_BATCH = 4
_CHECK_SEED = 1234
_VERIFY_TIMEOUT_S = 300
# The fresh-process check: bound to this process before it imports TensorFlow, so a
# ``kill -9`` of the export takes the check down with it.
_CHILD_CODE = (
    "import sys; from tfless.export_format import exit_with_parent; "
    "exit_with_parent(int(sys.argv[1])); from tfless.export import _main; "
    "sys.exit(_main(sys.argv[2:]))"
)


class ExportVerificationError(ExportError):
    """The reloaded SavedModel's outputs differ from the Keras model's outputs."""


@dataclasses.dataclass(frozen=True)
class ExportResult:
    """What :func:`export_encoder` published.

    Attributes:
      path: the version directory ``<root>/<name>/<version>``.
      name: the model name.
      version: the integer version.
      metadata: the metadata dict written to ``assets.extra/tfless_metadata.json``.
      checksums: ``{relative path: sha256}`` of every file in the export.
    """

    path: str
    name: str
    version: int
    metadata: dict
    checksums: dict


# ----------------------------------------------------------------------- helpers
def check_images(
    shape: tuple[int, int, int], n: int = _CHECK_BATCH, seed: int = _CHECK_SEED
) -> np.ndarray:
    """The fixed verification batch: ``n`` float32 images of ``shape`` uniform in [0, 1]."""
    rng = np.random.default_rng(seed)
    return rng.random((n, *shape), dtype=np.float32)


def _resolve(model) -> tuple[keras.Model, keras.layers.Layer | None, str]:
    """(encoder, optional head, method name) of a method or a bare encoder."""
    if hasattr(model, "encoder"):
        # A method's evaluation features (CPC: its patch-grid encoder), else its encoder.
        encoder = model.feature_encoder() if hasattr(model, "feature_encoder") else model.encoder
        # Only a classifier's head gives logits; the projection head of a self-supervised
        # method (SimCLR, MoCo) has nothing to do with the labels.
        head = getattr(model, "head", None) if getattr(model, "has_classifier", False) else None
        method = type(model).__name__
    else:
        encoder, head, method = model, None, "encoder"
    if not isinstance(encoder, keras.layers.Layer):
        raise TypeError(
            f"Expected a keras encoder or a method with an `encoder` attribute; got "
            f"{type(model).__name__} whose encoder is {type(encoder).__name__}."
        )
    if head is not None and not isinstance(head, keras.layers.Layer):
        head = None
    return encoder, head, method


def _input_shape(encoder, input_shape) -> tuple[int, int, int]:
    if input_shape is None:
        try:
            input_shape = tuple(encoder.inputs[0].shape[1:])
        except (AttributeError, IndexError, TypeError, ValueError) as e:
            raise ValueError(
                f"Cannot read the input shape of encoder {encoder.name!r}; pass "
                "input_shape=(H, W, C)."
            ) from e
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(d, int) and d > 0 for d in shape):
        raise ValueError(
            f"Encoder input shape must be a fully known (H, W, C); got {shape!r}. Pass "
            "input_shape=(H, W, C) for encoders built without a fixed size."
        )
    return shape


def _prepare_root(root: str, name: str) -> tuple[str, bool]:
    """Creates ``<root>/<name>`` if needed; returns (model_dir, created)."""
    root = os.fspath(root)
    if os.path.exists(root) and not os.path.isdir(root):
        raise ExportError(f"Export root {root!r} exists and is not a directory.")
    try:
        os.makedirs(root, exist_ok=True)
    except OSError as e:
        raise ExportError(f"Cannot create export root {root!r}: {e.strerror or e}.") from e
    if not os.access(root, os.W_OK | os.X_OK):
        raise ExportError(f"Export root {root!r} is not writable by this process.")
    model_dir = os.path.join(root, name)
    if os.path.exists(model_dir) and not os.path.isdir(model_dir):
        raise ExportError(f"{model_dir!r} exists and is not a directory.")
    created = not os.path.exists(model_dir)
    try:
        os.makedirs(model_dir, exist_ok=True)
    except OSError as e:
        raise ExportError(f"Cannot create model directory {model_dir!r}: {e.strerror or e}.") from e
    if not os.access(model_dir, os.W_OK | os.X_OK):
        raise ExportError(f"Model directory {model_dir!r} is not writable by this process.")
    return model_dir, created


# ------------------------------------------------------------------- the export
def _uint8_to_input(images, shape):
    x = tf.cast(images, tf.float32) / 255.0
    return tf.clip_by_value(tf.image.resize(x, shape[:2], antialias=True), 0.0, 1.0)


def checked_input(image, shape, endpoint: str, any_size: bool = False):
    """``image`` once its runtime shape matches ``[batch >= 1, *shape]``; else the graph raises.

    A called signature does not enforce its input spec, and a wrong rank reaches the
    convolution kernels, which abort the process instead of raising. The check runs
    before anything reads ``image`` and raises ``InvalidArgumentError`` naming the
    expected and the received shape.

    Args:
      image: the signature's input tensor.
      shape: ``(H, W, C)`` of the recorded input spec.
      endpoint: the signature's name, for the message.
      any_size: accept any ``h, w >= 1`` (``serving_uint8`` resizes).
    """
    got = tf.shape(image)
    # The rank cannot be compared directly: graph optimization folds it from the declared
    # spec. Padded with -1 and cut to 5 entries, a wrong rank shows as a -1 where a size
    # belongs (rank < 4) or a size where the -1 belongs (rank > 4).
    dims = tf.concat([got, tf.fill([5], -1)], axis=0)[:5]
    ok = tf.logical_and(tf.equal(dims[4], -1), dims[0] >= 1)
    ok = tf.logical_and(ok, tf.equal(dims[3], shape[2]))
    if any_size:
        ok = tf.logical_and(ok, tf.reduce_all(dims[1:3] >= 1))
        want = f"[batch>=1, height>=1, width>=1, {shape[2]}]"
    else:
        ok = tf.logical_and(ok, tf.reduce_all(tf.equal(dims[1:3], list(shape[:2]))))
        want = f"[batch>=1, {', '.join(map(str, shape))}]"
    check = tf.debugging.Assert(
        ok,
        [f"{endpoint}: input {INPUT_KEY!r} ({image.dtype.name}) must have shape {want}; got", got],
        summarize=8,
    )
    with tf.control_dependencies([check]):
        return tf.identity(image)


def _add_training_function(archive, endpoints, encoder, spec, shape) -> None:
    """Saves ``call_training`` (the encoder in training mode) as a function, not a signature.

    A signature is served by TF Serving, and a client calling this one would move the
    served model's batch-norm statistics; a plain function is reachable only from Python
    (``TFSMLayer(call_training_endpoint=...)``).
    """
    trackable = getattr(archive, "_tf_trackable", None)
    if trackable is None:
        raise ExportError(
            f"keras {keras.__version__}'s ExportArchive has no `_tf_trackable`; cannot save the "
            f"{TRAINING_ENDPOINT!r} function."
        )

    def train_features(image):
        image = checked_input(image, shape, TRAINING_ENDPOINT)
        return {FEATURE_KEY: encoder(image, training=True)}

    fn = tf.function(train_features, input_signature=[spec], autograph=False)
    used = {id(v) for f in endpoints for v in f.get_concrete_function().variables}
    extra = [v for v in fn.get_concrete_function().variables if id(v) not in used]
    if extra:  # e.g. the state of a dropout's seed generator: used in training only
        archive.add_variable_collection("training_variables", extra)
    setattr(trackable, TRAINING_ENDPOINT, fn)


def _build_archive(encoder, head, shape, include_uint8: bool):
    # No archive.track(): add_endpoint already saves the variables the endpoints use, and
    # tracking the layers as well stores every variable twice (Keras 3.15).
    archive = keras.export.ExportArchive()
    spec = tf.TensorSpec([None, *shape], tf.float32, name=INPUT_KEY)

    def features(image):
        image = checked_input(image, shape, FEATURE_SIGNATURE)
        return {FEATURE_KEY: encoder(image, training=False)}

    endpoints = [archive.add_endpoint(FEATURE_SIGNATURE, features, input_signature=[spec])]
    if head is not None:

        def logits(image):
            image = checked_input(image, shape, LOGITS_SIGNATURE)
            return {LOGITS_KEY: head(encoder(image, training=False), training=False)}

        endpoints.append(archive.add_endpoint(LOGITS_SIGNATURE, logits, input_signature=[spec]))
    if include_uint8:
        spec8 = tf.TensorSpec([None, None, None, shape[2]], tf.uint8, name=INPUT_KEY)

        def features_uint8(image):
            image = checked_input(image, shape, UINT8_SIGNATURE, any_size=True)
            return {FEATURE_KEY: encoder(_uint8_to_input(image, shape), training=False)}

        endpoints.append(
            archive.add_endpoint(UINT8_SIGNATURE, features_uint8, input_signature=[spec8])
        )
    _add_training_function(archive, endpoints, encoder, spec, shape)
    return archive


def _expected_outputs(encoder, head, images, images_u8, shape) -> dict[str, np.ndarray]:
    out = {FEATURE_SIGNATURE: np.asarray(encoder(images, training=False))}
    if head is not None:
        out[LOGITS_SIGNATURE] = np.asarray(head(encoder(images, training=False), training=False))
    if images_u8 is not None:
        out[UINT8_SIGNATURE] = np.asarray(
            encoder(_uint8_to_input(images_u8, shape), training=False)
        )
    return out


def _child_env() -> dict:
    env = dict(os.environ)
    # The child must import this very tfless, installed or not.
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["CUDA_VISIBLE_DEVICES"] = "-1"
    return env


def _verify_in_fresh_process(
    export_dir: str, inputs: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Runs every signature (and the TFLite file, if any) in a new Python process.

    Args:
      export_dir: the SavedModel to load.
      inputs: ``{signature or 'tflite': input batch}``.

    Returns:
      ``{same keys: output array}``.
    """
    remove_stale_temp_dirs(tempfile.gettempdir(), _VERIFY_PREFIX)
    with tempfile.TemporaryDirectory(prefix=owned_prefix(_VERIFY_PREFIX)) as tmp:
        in_path = os.path.join(tmp, "inputs.npz")
        out_path = os.path.join(tmp, "outputs.npz")
        np.savez(in_path, **inputs)
        cmd = [sys.executable, "-c", _CHILD_CODE, str(os.getpid()), export_dir, in_path, out_path]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=_VERIFY_TIMEOUT_S, env=_child_env()
            )
        except subprocess.TimeoutExpired as e:
            raise ExportVerificationError(
                f"Reloading {export_dir!r} in a fresh process took more than {_VERIFY_TIMEOUT_S}s."
            ) from e
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            raise ExportVerificationError(
                f"Reloading {export_dir!r} in a fresh process failed "
                f"(exit {proc.returncode}):\n{tail}"
            )
        with np.load(out_path) as data:
            return {k: data[k] for k in data.files}


def _run_signatures(export_dir: str, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    loaded = tf.saved_model.load(export_dir)
    outputs = {}
    for key, batch in inputs.items():
        if key == "tflite":
            outputs[key] = run_tflite(os.path.join(export_dir, TFLITE_PATH), batch)
            continue
        if key == TRAINING_ENDPOINT:
            outputs[key] = getattr(loaded, key)(tf.constant(batch))[FEATURE_KEY].numpy()
            continue
        fn = loaded.signatures[key]
        result = fn(**{INPUT_KEY: tf.constant(batch)})
        outputs[key] = result[LOGITS_KEY if key == LOGITS_SIGNATURE else FEATURE_KEY].numpy()
    return outputs


def convert_to_tflite(export_dir: str, output_path: str | None = None) -> str:
    """Converts an export's ``serving_default`` signature to a TFLite flatbuffer.

    Args:
      export_dir: a version directory written by :func:`export_encoder`.
      output_path: where to write; defaults to ``<export_dir>/assets.extra/encoder.tflite``.

    Returns:
      the path of the ``.tflite`` file (float32 in, ``feature_vector`` out).
    """
    converter = tf.lite.TFLiteConverter.from_saved_model(
        export_dir, signature_keys=[FEATURE_SIGNATURE]
    )
    flatbuffer = converter.convert()
    output_path = output_path or os.path.join(export_dir, TFLITE_PATH)
    os.makedirs(os.path.dirname(output_path), exist_ok=True)
    with open(output_path, "wb") as f:
        f.write(flatbuffer)
    return output_path


def run_tflite(tflite_path: str, images: np.ndarray) -> np.ndarray:
    """Runs a converted encoder on ``images`` float32 ``[B, H, W, C]``; returns ``[B, D]``."""
    interpreter = tf.lite.Interpreter(model_path=tflite_path)
    runner = interpreter.get_signature_runner(FEATURE_SIGNATURE)
    return runner(**{INPUT_KEY: np.asarray(images, np.float32)})[FEATURE_KEY]


def _compare(expected, actual, atol, rtol, export_dir) -> dict[str, float]:
    diffs = {}
    for key, want in expected.items():
        got = actual.get(key)
        if got is None or got.shape != want.shape:
            raise ExportVerificationError(
                f"Reloaded export {export_dir!r}: {key!r} returned shape "
                f"{None if got is None else got.shape}, expected {want.shape}."
            )
        diff = float(np.max(np.abs(got - want))) if want.size else 0.0
        tol_atol = atol * 10 if key == "tflite" else atol
        if not np.allclose(got, want, atol=tol_atol, rtol=rtol):
            raise ExportVerificationError(
                f"Reloaded export {export_dir!r}: {key!r} differs from the Keras model by up to "
                f"{diff:.3g} (atol={tol_atol}, rtol={rtol}); the export is not published."
            )
        diffs[key] = diff
    return diffs


@dataclasses.dataclass(frozen=True)
class _Plan:
    """What will be exported, resolved and checked before anything touches the disk."""

    encoder: keras.layers.Layer
    head: keras.layers.Layer | None
    method: str
    shape: tuple[int, int, int]
    images: np.ndarray
    images_u8: np.ndarray | None
    expected: dict[str, np.ndarray]

    @property
    def uint8(self) -> bool:
        return self.images_u8 is not None

    @property
    def dim(self) -> int:
        return int(self.expected[FEATURE_SIGNATURE].shape[-1])


def _check_version(version) -> None:
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or version < 1
    ):
        raise ValueError(f"version must be a positive int or None; got {version!r}.")


def _check_batch(images, shape) -> np.ndarray:
    if images is None:
        images = check_images(shape)
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or tuple(images.shape[1:]) != shape:
        raise ValueError(
            f"Verification images must have shape [B, {', '.join(map(str, shape))}]; "
            f"got {list(images.shape)}."
        )
    if images.size and (images.min() < 0.0 or images.max() > 1.0):
        raise ValueError("Verification images must be in [0, 1].")
    return images


def _plan(model, input_shape, include_logits: bool, include_uint8: bool, images) -> _Plan:
    """Resolves the encoder and head, checks the verification batch, runs the Keras model on it."""
    encoder, head, method = _resolve(model)
    if not include_logits:
        head = None
    shape = _input_shape(encoder, input_shape)
    images = _check_batch(images, shape)
    images_u8 = np.round(images * 255.0).astype(np.uint8) if include_uint8 else None
    expected = _expected_outputs(encoder, head, images, images_u8, shape)
    feats = expected[FEATURE_SIGNATURE]
    if feats.ndim != 2:
        raise ValueError(
            f"Encoder {encoder.name!r} returns shape {list(feats.shape)}; expected [batch, D]."
        )
    return _Plan(encoder, head, method, shape, images, images_u8, expected)


def _target(root: str, name: str, version: int | None) -> tuple[str, bool, int, str]:
    """(model dir, whether it was created, version, final version dir) of a new version."""
    model_dir, created = _prepare_root(root, name)
    if version is None:
        existing = list_versions(model_dir)
        version = (existing[-1] + 1) if existing else 1
    final_dir = os.path.join(model_dir, str(version))
    if os.path.exists(final_dir):
        raise ExportError(f"Version {version} of {name!r} already exists at {final_dir!r}.")
    return model_dir, created, version, final_dir


def _make_tmp_dir(model_dir: str, root: str) -> str:
    # Hidden and next to the final directory, so publishing is one rename on one filesystem.
    # Tagged with this process, so the next export removes it if this one is killed.
    remove_stale_temp_dirs(model_dir, _TMP_PREFIX)
    try:
        return tempfile.mkdtemp(prefix=owned_prefix(_TMP_PREFIX), dir=model_dir)
    except OSError as e:
        raise ExportError(
            f"Cannot write into {model_dir!r} (export root {os.fspath(root)!r}): {e.strerror or e}."
        ) from e


def _stage(plan: _Plan, stage: str, tflite: bool) -> tuple[dict, dict]:
    """Writes the SavedModel (and TFLite file) to ``stage``; returns the check's inputs, outputs."""
    _build_archive(plan.encoder, plan.head, plan.shape, plan.uint8).write_out(stage, verbose=False)
    inputs = {FEATURE_SIGNATURE: plan.images}
    if plan.head is not None:
        inputs[LOGITS_SIGNATURE] = plan.images
    if plan.uint8:
        inputs[UINT8_SIGNATURE] = plan.images_u8
    expected = plan.expected
    if tflite:
        convert_to_tflite(stage)
        inputs["tflite"] = plan.images
        expected = {**expected, "tflite": expected[FEATURE_SIGNATURE]}
    return inputs, expected


def _check_training_output(out, plan: _Plan, export_dir: str) -> None:
    # Its values depend on the batch's statistics and it moves the moving ones, so it is
    # checked for shape and finiteness, not against the Keras model.
    want = plan.expected[FEATURE_SIGNATURE].shape
    if out is None or out.shape != want or not np.all(np.isfinite(out)):
        got = None if out is None else (out.shape, bool(np.all(np.isfinite(out))))
        raise ExportVerificationError(
            f"Reloaded export {export_dir!r}: {TRAINING_ENDPOINT!r} returned {got}; expected "
            f"finite features of shape {want}."
        )


def _verify_stage(stage, plan: _Plan, inputs, expected, atol, rtol, final_dir) -> dict:
    """Reloads ``stage`` in a fresh process and compares; returns the metadata's record of it."""
    actual = _verify_in_fresh_process(stage, {**inputs, TRAINING_ENDPOINT: plan.images})
    _check_training_output(actual.pop(TRAINING_ENDPOINT, None), plan, final_dir)
    diffs = _compare(expected, actual, atol, rtol, final_dir)
    return {
        "checked": True,
        "training_endpoint": "ran: finite features of the expected shape",
        "fresh_process": True,
        "batch_shape": list(plan.images.shape),
        "batch_seed": _CHECK_SEED,
        "max_abs_diff": diffs,
        "atol": atol,
        "rtol": rtol,
    }


def _metadata(plan: _Plan, name, version, tflite, config, manifest, extra, verification) -> dict:
    from tfless import __version__

    head = plan.head
    logits_dim = int(head.units) if head is not None and hasattr(head, "units") else None
    return build_metadata(
        name=name,
        version=version,
        method=plan.method,
        backbone=plan.encoder.name,
        shape=plan.shape,
        signatures=signature_specs(plan.shape, plan.dim, head is not None, logits_dim, plan.uint8),
        tflite=tflite,
        config=config,
        manifest=manifest,
        extra=extra,
        verification=verification,
        versions={"tfless": __version__, "tensorflow": tf.__version__, "keras": keras.__version__},
        training_endpoint=TRAINING_ENDPOINT,
    )


def _publish(stage: str, final_dir: str) -> None:
    # One rename: TF Serving polls the model directory and must never see a partial version.
    try:
        os.rename(stage, final_dir)
    except OSError as e:
        raise ExportError(f"Cannot publish export to {final_dir!r}: {e.strerror or e}.") from e


def _discard(tmp_dir: str | None, model_dir: str, created_model_dir: bool) -> None:
    """Removes what a failed export wrote, including a model directory it created."""
    if tmp_dir is not None:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    if created_model_dir and os.path.isdir(model_dir) and not os.listdir(model_dir):
        os.rmdir(model_dir)


def export_encoder(
    model,
    root: str,
    name: str,
    version: int | None = None,
    *,
    input_shape=None,
    include_logits: bool = True,
    include_uint8: bool = True,
    tflite: bool = False,
    config=None,
    manifest: Mapping | None = None,
    extra_metadata: Mapping | None = None,
    verify: bool = True,
    images: np.ndarray | None = None,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> ExportResult:
    """Exports an encoder (or a method's encoder) as ``<root>/<name>/<version>/``.

    Args:
      model: a ``keras.Model`` encoder ``[B, H, W, C] -> [B, D]``, or a method
        (anything with an ``encoder`` attribute; a ``head`` adds ``logits``).
      root: the export root (TF Serving's ``--model_base_path`` is ``<root>/<name>``).
      name: model name (letters, digits, ``._-``).
      version: integer version; default: one more than the newest present.
      input_shape: ``(H, W, C)`` when the encoder has no fixed input shape.
      include_logits: add the ``logits`` signature when the method has a head.
      include_uint8: add the ``serving_uint8`` signature (uint8 pixels of any size).
      tflite: also convert to TFLite (``assets.extra/encoder.tflite``), checked
        on the same batch.
      config: the resolved training config (dict or ConfigDict), stored in the metadata.
      manifest: the training manifest, stored in the metadata.
      extra_metadata: more JSON-serialisable fields for the metadata.
      verify: reload in a fresh process and compare outputs before publishing.
      images: the verification batch (float32 ``[B, H, W, C]`` in [0, 1]);
        default: 4 seeded uniform images.
      atol, rtol: tolerances of the comparison (TFLite gets ``10 * atol``).

    Returns:
      :class:`ExportResult`.

    Raises:
      ExportError: bad root, existing version, or any failure while writing;
        the temporary directory is removed and no version is published.
      ExportVerificationError: the reloaded model's outputs differ.
    """
    check_model_name(name)
    _check_version(version)
    plan = _plan(model, input_shape, include_logits, include_uint8, images)
    model_dir, created_model_dir, version, final_dir = _target(root, name, version)
    tmp_dir = None
    try:
        tmp_dir = _make_tmp_dir(model_dir, root)
        stage = os.path.join(tmp_dir, "model")
        inputs, expected = _stage(plan, stage, tflite)
        verification = {"checked": False}
        if verify:
            verification = _verify_stage(stage, plan, inputs, expected, atol, rtol, final_dir)
        meta = _metadata(
            plan, name, version, tflite, config, manifest, extra_metadata, verification
        )
        write_metadata(stage, meta)
        checksums = write_checksums(stage)
        _publish(stage, final_dir)
    except BaseException as e:
        _discard(tmp_dir, model_dir, created_model_dir)
        if isinstance(e, (ExportError, ValueError, TypeError, KeyboardInterrupt)):
            raise
        raise ExportError(
            f"Exporting {name!r} version {version} to {final_dir!r} failed: {e}"
        ) from e
    shutil.rmtree(tmp_dir, ignore_errors=True)
    return ExportResult(final_dir, name, version, meta, checksums)


# ------------------------------------------------------------------ the Keras layer
class EncoderLayer(keras.layers.TFSMLayer):
    """A tfless export as a Keras layer: images ``[B, H, W, C]`` -> features ``[B, D]``.

    The Keras way to use (and fine-tune) an export::

        encoder = EncoderLayer("exports/digits/1", trainable=True)
        model = keras.Sequential([keras.Input((16, 16, 1)), encoder, keras.layers.Dense(10)])
        model.compile(keras.optimizers.Adam(1e-3), ...)  # or SGD

    It differs from ``keras.layers.TFSMLayer`` in four ways:

    * it returns ``outputs[output_key]`` (``feature_vector``; ``logits`` for that
      signature) instead of the output dict, so it fits ``keras.Sequential``;
    * in training (``fit``) it calls the export's ``call_training`` function: batch norm
      uses the batch's statistics and updates its moving ones, as when the encoder was
      trained (the inference path makes fine-tuning diverge; see the module docstring);
    * its weights are named without SavedModel's ``:0`` suffix, which Keras optimizers
      refuse in their slot-variable names (Adam: "'conv0_kernel:0_momentum' is not a
      valid scope name");
    * a wrong input shape or dtype raises one ValueError naming the expected input.

    Attributes:
      metadata: the export's tfless metadata (input spec, preprocessing, method...).
    """

    def __init__(
        self,
        filepath: str,
        call_endpoint: str = FEATURE_SIGNATURE,
        output_key: str | None = None,
        trainable: bool = False,
        **kwargs,
    ):
        filepath = os.fspath(filepath)
        metadata = read_metadata(filepath) if has_metadata(filepath) else {}
        if call_endpoint == FEATURE_SIGNATURE:
            kwargs.setdefault("call_training_endpoint", metadata.get("training_endpoint"))
        super().__init__(filepath, call_endpoint=call_endpoint, trainable=trainable, **kwargs)
        if output_key is None:
            output_key = LOGITS_KEY if call_endpoint == LOGITS_SIGNATURE else FEATURE_KEY
        self.output_key = output_key
        self.metadata = metadata
        inputs = metadata.get("signatures", {}).get(call_endpoint, {}).get("inputs", {})
        self._expected = inputs.get(INPUT_KEY)
        if trainable and not self.call_training_endpoint:
            warnings.warn(
                f"{filepath!r} has no {TRAINING_ENDPOINT!r} function for {call_endpoint!r} "
                "(exports written before tfless added it, or the logits/uint8 signatures): "
                "fine-tuning runs batch norm with its moving statistics, which diverges at "
                "ordinary learning rates. Re-export the encoder to fine-tune it.",
                stacklevel=2,
            )

    def _add_existing_weight(self, weight):
        # SavedModel names ("conv0/kernel:0") hold a ':' that optimizers cannot use in the
        # names of their slot variables; "/" is refused by keras.Variable itself.
        name = weight.name.split(":")[0].replace("/", "_")
        variable = keras.Variable(
            initializer=weight,
            trainable=weight.trainable,
            dtype=weight.dtype,
            shape=weight.shape,
            name=name,
        )
        self._track_variable(variable)

    def _check_input(self, inputs) -> None:
        spec = self._expected
        if not spec:
            return
        want = [None if d == -1 else d for d in spec["shape"]]
        got = list(getattr(inputs, "shape", ()))
        dtype = keras.backend.standardize_dtype(getattr(inputs, "dtype", None))
        shape_ok = len(got) == len(want) and all(
            w is None or g is None or g == w for g, w in zip(got, want, strict=True)
        )
        if shape_ok and got[0] != 0 and dtype == spec["dtype"]:
            return
        shown = "[" + ", ".join("batch>=1" if i == 0 else str(d) for i, d in enumerate(want))
        raise ValueError(
            f"EncoderLayer {self.name!r} ({self.call_endpoint}) expects {spec['dtype']} images "
            f"of shape {shown.replace('None', 'any')}] (range {spec.get('range')}); got "
            f"{dtype} of shape {[None if g is None else int(g) for g in got]}."
        )

    def call(self, inputs, training=False, **kwargs):
        self._check_input(inputs)
        outputs = super().call(inputs, training=training, **kwargs)
        return outputs[self.output_key] if isinstance(outputs, dict) else outputs

    def get_config(self):
        return {**super().get_config(), "output_key": self.output_key}


def _main(argv: list[str]) -> int:
    """Entry of the fresh-process check: ``python -m tfless.export DIR INPUTS.npz OUTPUTS.npz``."""
    if len(argv) != 3:
        print("usage: python -m tfless.export EXPORT_DIR INPUTS.npz OUTPUTS.npz", file=sys.stderr)
        return 2
    export_dir, in_path, out_path = argv
    with np.load(in_path) as data:
        inputs = {k: data[k] for k in data.files}
    np.savez(out_path, **_run_signatures(export_dir, inputs))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))

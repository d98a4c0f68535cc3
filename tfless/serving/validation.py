"""Checks a request's named inputs against a signature: keys, dtype, shape and value range.

Shared by the REST and gRPC servers, so both refuse the same inputs with the same message.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from tfless import export_format as fmt
from tfless.serving.errors import bad_request
from tfless.serving.store import LoadedModel, Signature


def _to_array(value, key: str, dtype: np.dtype, shape: tuple, value_range) -> np.ndarray:
    """Validates one named input against its signature spec and returns it as ``dtype``."""
    try:
        arr = np.asarray(value)
    except ValueError as e:
        raise bad_request(f"Input {key!r} is ragged or malformed: {e}") from None
    if arr.dtype == object:
        raise bad_request(
            f"Input {key!r} is ragged or holds non-numeric values: every instance must be a "
            "nested list of numbers of the same shape."
        )
    if arr.dtype.kind not in "iuf":
        raise bad_request(
            f"Input {key!r} must hold numbers of dtype {dtype.name}; got values of type "
            f"{arr.dtype.name}."
        )
    if len(arr.shape) != len(shape) or any(
        want != -1 and got != want for got, want in zip(arr.shape, shape, strict=False)
    ):
        expected = "[" + ", ".join("batch" if d == -1 else str(d) for d in shape) + "]"
        raise bad_request(
            f"Input {key!r} has shape {list(arr.shape)}; expected {expected} (dtype {dtype.name})."
        )
    if dtype.kind in "iu":
        if arr.dtype.kind == "f":
            if arr.size and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
                raise bad_request(f"Input {key!r} must hold integers ({dtype.name}).")
        info = np.iinfo(dtype)
        lo, hi = value_range if value_range else (info.min, info.max)
        if arr.size and (arr.min() < lo or arr.max() > hi):
            raise bad_request(
                f"Input {key!r} has values in [{arr.min()}, {arr.max()}]; expected {dtype.name} "
                f"in [{lo}, {hi}]."
            )
        return arr.astype(dtype)
    out = arr.astype(dtype)
    if out.size and not np.all(np.isfinite(out)):
        raise bad_request(f"Input {key!r} contains NaN or infinite values.")
    if value_range and out.size:
        lo, hi = value_range
        if out.min() < lo or out.max() > hi:
            raise bad_request(
                f"Input {key!r} has values in [{float(out.min()):.4g}, {float(out.max()):.4g}]; "
                f"this model expects images in [{lo}, {hi}] (see its metadata)."
            )
    return out


@functools.lru_cache(maxsize=8)
def json_template(shape: tuple, spec: str) -> str:
    """A ``%``-format string writing an array of ``shape`` as nested JSON lists."""
    text = spec
    for size in reversed(shape):
        text = "[" + ",".join([text] * size) + "]"
    return text


def json_array(arr: np.ndarray, float32_digits: int = 17) -> str:
    """``arr`` as JSON text (nested lists) holding the values of ``json.dumps(arr.tolist())``.

    One C-level ``%`` format of the flat values into a per-shape template, which is several
    times faster than ``json.dumps(arr.tolist())`` for a batch of images: no nested Python
    lists are built. Floats get 17 significant digits: the exact value, as a float64 reader
    sees it. ``float32_digits=9`` writes float32 shorter, still parsing back to the identical
    float32 (not to the identical float64 of it).
    """
    arr = np.asarray(arr)
    if arr.ndim == 0 or arr.size == 0 or arr.dtype.kind not in "iuf":
        return json.dumps(arr.tolist())
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):  # no JSON literal for NaN or infinity
            return json.dumps(arr.tolist())
        spec = f"%.{float32_digits}g" if arr.dtype == np.float32 else "%.17g"
    else:
        spec = "%d"
    return json_template(arr.shape, spec) % tuple(arr.ravel().tolist())


def is_b64(value: Any) -> bool:
    """Whether ``value`` is TF Serving's binary value ``{"b64": "<base64 text>"}``."""
    return isinstance(value, dict) and len(value) == 1 and "b64" in value


def _b64_instance_shape(key: str, shape: tuple, nbytes: int) -> tuple:
    """(H, W, C) of raw pixels: the signature's, or square ``s*s*C`` for any-size inputs."""
    inner = tuple(shape[1:])
    if all(d >= 0 for d in inner):
        return inner
    channels = inner[-1]
    side = math.isqrt(nbytes // channels) if channels > 0 and nbytes else 0
    if len(inner) != 3 or channels < 1 or side * side * channels != nbytes:
        raise bad_request(
            f"Input {key!r} instance 0 holds {nbytes} bytes; an any-size input "
            f"{list(shape)} takes square images of s*s*{channels} raw uint8 bytes."
        )
    return (side, side, channels)


def _from_b64(value, key: str, dtype: np.dtype, shape: tuple) -> np.ndarray:
    """Base64 instances -> array: each ``{"b64": ...}`` holds one instance's raw bytes.

    TF Serving decodes ``b64`` values to string tensors; tfless signatures take pixels, so
    for a uint8 input the decoded bytes are the instance's pixels in row-major (H, W, C)
    order, ``H*W*C`` bytes; the server reshapes them. ``serving_uint8`` takes any size, so
    there the images are square: ``s*s*C`` bytes each, all the same size. Encoded PNG/JPEG is
    not accepted (decoding it would need an image library the server does not carry).
    """
    if dtype != np.uint8:
        raise bad_request(
            f"Input {key!r} is {dtype.name}: base64 ('b64') values are accepted for uint8 "
            "inputs only (serving_uint8); send numbers instead."
        )
    if not isinstance(value, list) or not value or not all(is_b64(v) for v in value):
        raise bad_request(
            f"Input {key!r}: expected a non-empty list of {{'b64': ...}} instances, one per "
            "image, or nested lists of numbers."
        )
    chunks = []
    for i, item in enumerate(value):
        try:
            chunks.append(base64.b64decode(item["b64"], validate=True))
        except (binascii.Error, TypeError, ValueError) as e:
            raise bad_request(f"Input {key!r} instance {i}: bad base64: {e}") from None
    inner = _b64_instance_shape(key, shape, len(chunks[0]))
    want = int(np.prod(inner))
    for i, raw in enumerate(chunks):
        if len(raw) != want:
            raise bad_request(
                f"Input {key!r} instance {i} holds {len(raw)} bytes; expected {want} "
                f"(raw uint8 pixels of shape {list(inner)}, row-major, like instance 0)."
            )
    return np.frombuffer(b"".join(chunks), np.uint8).reshape(len(value), *inner)


def signature_of(model: LoadedModel, name: str | None) -> Signature:
    """The signature a request names (``serving_default`` when it names none); 400 if unknown."""
    name = name or fmt.FEATURE_SIGNATURE
    if not isinstance(name, str) or name not in model.signatures:
        raise bad_request(
            f'Serving signature name: "{name}" not found in signature def. Available: '
            f"{sorted(model.signatures)}"
        )
    return model.signatures[name]


def validate_inputs(sig: Signature, named: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """``{input key: array}`` checked against ``sig`` and cast to its dtypes; 400 otherwise.

    A uint8 input may come as base64 ``{"b64": ...}`` values, one per instance, each the
    instance's raw pixels (row-major H, W, C; square for ``serving_uint8``): see
    :func:`_from_b64`.
    """
    missing = sorted(set(sig.inputs) - set(named))
    extra = sorted(set(named) - set(sig.inputs))
    if missing or extra:
        raise bad_request(
            f"Signature {sig.name!r} expects inputs {sorted(sig.inputs)}; "
            + (f"missing {missing}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"unexpected {extra}" if extra else "")
            + "."
        )
    out = {}
    for k, (dtype, shape) in sig.inputs.items():
        value = named[k]
        if is_b64(value) or (isinstance(value, list) and value and is_b64(value[0])):
            value = _from_b64(value, k, dtype, shape)
        out[k] = _to_array(value, k, dtype, shape, sig.ranges.get(k))
    return out

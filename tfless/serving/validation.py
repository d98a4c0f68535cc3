"""Checks a request's named inputs against a signature: keys, dtype, shape and value range.

Shared by the REST and gRPC servers, so both refuse the same inputs with the same message.
"""

from __future__ import annotations

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
    """``{input key: array}`` checked against ``sig`` and cast to its dtypes; 400 otherwise."""
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
    return {
        k: _to_array(named[k], k, dtype, shape, sig.ranges.get(k))
        for k, (dtype, shape) in sig.inputs.items()
    }

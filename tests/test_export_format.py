"""The on-disk export format: names, versions, checksums and the metadata schema, without TF."""

import json
import os

import pytest

from tfless import export_format as fmt


def test_model_names_and_versions(tmp_path):
    assert fmt.check_model_name("digits_v1.2-b") == "digits_v1.2-b"
    for bad in ("", "../x", ".hidden", "a/b", "x" * 129, 7):
        with pytest.raises(ValueError, match="Invalid model name"):
            fmt.check_model_name(bad)
    for entry in ("3", "10", "1", ".tmp-export-x", "latest"):
        (tmp_path / entry).mkdir()
    (tmp_path / "4").write_text("a file, not a version")
    assert fmt.list_versions(str(tmp_path)) == [1, 3, 10]
    assert fmt.list_versions(str(tmp_path / "missing")) == []


def test_checksums_round_trip_and_refuse_changes(tmp_path):
    (tmp_path / "variables").mkdir()
    (tmp_path / "saved_model.pb").write_bytes(b"graph")
    (tmp_path / "variables" / "v.data").write_bytes(b"weights")
    with pytest.raises(fmt.ChecksumError, match="no checksum file"):
        fmt.verify_checksums(str(tmp_path))
    sums = fmt.write_checksums(str(tmp_path))
    assert fmt.has_checksums(str(tmp_path)) and set(sums) == {"saved_model.pb", "variables/v.data"}
    assert sums["saved_model.pb"] == fmt.sha256_file(str(tmp_path / "saved_model.pb"))
    assert fmt.verify_checksums(str(tmp_path)) == sums
    (tmp_path / "variables" / "v.data").write_bytes(b"weightz")
    (tmp_path / "extra.txt").write_text("x")
    with pytest.raises(fmt.ExportError, match="tampered or corrupted") as err:
        fmt.verify_checksums(str(tmp_path))
    assert isinstance(err.value, fmt.ChecksumError)
    assert "'variables/v.data' has sha256" in str(err.value)
    assert "unexpected file 'extra.txt'" in str(err.value)
    os.remove(tmp_path / "saved_model.pb")
    with pytest.raises(fmt.ChecksumError, match="missing file 'saved_model.pb'"):
        fmt.verify_checksums(str(tmp_path), sums)


def test_metadata_schema_round_trip(tmp_path):
    signatures = fmt.signature_specs((8, 8, 1), 16, logits=True, logits_dim=None, uint8=True)
    assert set(signatures) == {"serving_default", "logits", "serving_uint8"}
    assert signatures["logits"]["outputs"] == {"logits": {"dtype": "float32"}}
    assert signatures["serving_uint8"]["inputs"]["image"]["shape"] == [-1, -1, -1, 1]
    meta = fmt.build_metadata(
        name="tiny",
        version=3,
        method="Supervised",
        backbone="convnet",
        shape=(8, 8, 1),
        signatures=signatures,
        tflite=False,
        config={"seed": 0},
        verification={"checked": False},
        versions={"tfless": "0"},
    )
    assert meta["format"] == fmt.METADATA_FORMAT and meta["output"]["dim"] == 16
    assert meta["input"]["range"] == [0.0, 1.0] and meta["tflite"] is None
    assert not fmt.has_metadata(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="is it a tfless export"):
        fmt.read_metadata(str(tmp_path))
    fmt.write_metadata(str(tmp_path), meta)
    assert fmt.read_metadata(str(tmp_path)) == json.loads(json.dumps(meta))

"""The on-disk export format: names, versions, checksums and the metadata schema, without TF."""

import json
import os
import socket
import subprocess
import sys
import time

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


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    host = socket.gethostname()
    prefix = ".tmp-export-"
    assert fmt.owned_prefix(prefix) == f"{prefix}{host}-{os.getpid()}-"
    names = {
        "dead": f"{prefix}{host}-{_dead_pid()}-a1",
        "live": f"{fmt.owned_prefix(prefix)}b2",
        "other_host": f"{prefix}elsewhere-1-c3",
        "legacy_old": f"{prefix}d4",
        "legacy_new": f"{prefix}e5",
        "unrelated": "1",
    }
    for name in names.values():
        (tmp_path / name).mkdir()
    day_ago = time.time() - fmt.LEGACY_TEMP_AGE_S - 60
    os.utime(tmp_path / names["legacy_old"], (day_ago, day_ago))
    removed = fmt.remove_stale_temp_dirs(str(tmp_path), prefix)
    assert sorted(removed) == sorted(str(tmp_path / names[k]) for k in ("dead", "legacy_old"))
    kept = {names[k] for k in ("live", "other_host", "legacy_new", "unrelated")}
    assert set(os.listdir(tmp_path)) == kept
    assert fmt.remove_stale_temp_dirs(str(tmp_path / "missing"), prefix) == []


_GRANDCHILD = (
    "import sys, time\n"
    "from tfless.export_format import exit_with_parent\n"
    "exit_with_parent(int(sys.argv[1]))\n"
    "print('bound', flush=True)\n"
    "time.sleep(120)\n"
)
_PARENT = (
    "import os, subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', sys.argv[1], str(os.getpid())],\n"
    "                         stdout=subprocess.PIPE, text=True)\n"
    "print(child.pid, child.stdout.readline().strip(), flush=True)\n"
    "time.sleep(120)\n"
)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"  # exited, not yet reaped
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_helper_process_dies_with_its_parent():
    # What the export's fresh-process check does: after `kill -9` of the export, the
    # check must not live on as an orphan.
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, _GRANDCHILD], stdout=subprocess.PIPE, text=True
    )
    try:
        pid, state = parent.stdout.readline().split()
        assert state == "bound"
        assert not _gone(int(pid))
    finally:
        parent.kill()
        parent.wait()
    deadline = time.time() + 10
    while not _gone(int(pid)) and time.time() < deadline:
        time.sleep(0.05)
    assert _gone(int(pid))

"""ModelStore: checksum refusal, foreign SavedModels, model config files, versions and labels."""

import os
import shutil
import time

import numpy as np
import pytest
import tensorflow as tf

from tfless import serving


def test_tampered_and_foreign_exports_are_refused(root, tmp_path, post):
    bad = tmp_path / "root"
    shutil.copytree(os.path.join(root, "digits", "2"), bad / "m" / "1")
    data = bad / "m" / "1" / "variables" / "variables.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[10] ^= 0xFF
    data.write_bytes(bytes(raw))
    with pytest.raises(serving.ModelLoadError, match="Refusing to serve model 'm' version 1.*"):
        serving.ModelStore().add_root(str(bad))
    foreign = tmp_path / "foreign"
    module = tf.Module()
    module.f = tf.function(
        lambda image: {"y": image * 2.0}, input_signature=[tf.TensorSpec([None])]
    )
    tf.saved_model.save(module, str(foreign / "f" / "1"), signatures={"serving_default": module.f})
    with pytest.raises(serving.ModelLoadError, match="no checksum file"):
        serving.ModelStore().add_root(str(foreign))
    store = serving.ModelStore()
    store.add_root(str(foreign), require_checksums=False)
    with serving.LocalServer(store) as srv:
        out = post(srv, {"instances": [1.0, 2.0]}, "/v1/models/f:predict").json()
    assert out == {"predictions": [2.0, 4.0]}
    with pytest.raises(serving.ModelLoadError, match="no integer version directories"):
        (tmp_path / "empty" / "e").mkdir(parents=True)
        serving.ModelStore().add_root(str(tmp_path / "empty"))


def test_model_config_file_versions_and_labels(root, tmp_path, reference):
    x, run = reference
    config = tmp_path / "models.config"
    config.write_text(
        "model_config_list {\n"
        "  config {\n"
        "    name: 'enc'\n"
        f"    base_path: '{os.path.join(root, 'digits')}'\n"
        "    model_platform: 'tensorflow'\n"
        "    model_version_policy { specific { versions: 1 versions: 2 } }\n"
        "    version_labels { key: 'stable' value: 1 }\n"
        "  }\n"
        "}\n"
    )
    store = serving.ModelStore()
    store.add_config_file(str(config))
    assert store.names == ["enc"] and store.versions("enc") == [1, 2]
    with serving.LocalServer(store) as srv:
        client = serving.FeatureClient(srv.url, "enc", label="stable")
        np.testing.assert_array_equal(
            client.predict(x[:2]), run("serving_default", "feature_vector", x[:2])
        )
        assert client.status()["model_version_status"][0]["version"] == "1"


def test_export_root_serves_healthy_models_and_picks_up_new_versions(root, tmp_path, reference):
    x, run = reference
    good = os.path.join(root, "digits", "2")
    base = tmp_path / "root"
    shutil.copytree(good, base / "digits" / "1")
    (base / "exporting" / ".tmp-export-abc").mkdir(parents=True)  # an export in progress
    (base / "copying" / "1" / "variables").mkdir(parents=True)  # no saved_model.pb yet
    store = serving.ModelStore()
    store.add_root(str(base))
    assert store.names == ["digits"] and store.pending == ["copying", "exporting"]
    assert store.refresh() == []
    with serving.LocalServer(store, poll_seconds=0.05) as srv:
        client = serving.FeatureClient(srv.url, "exporting")
        with pytest.raises(serving.ServingError, match="Latest\\(exporting\\)"):
            client.predict(x[:1])
        shutil.copytree(good, base / "exporting" / ".tmp-export-abc" / "model")
        os.rename(base / "exporting" / ".tmp-export-abc" / "model", base / "exporting" / "1")
        deadline = time.monotonic() + 10
        while "exporting" not in store.names:
            assert time.monotonic() < deadline, "the new model was not picked up"
            time.sleep(0.05)
        np.testing.assert_array_equal(
            client.predict(x[:2]), run("serving_default", "feature_vector", x[:2])
        )
    # A new version that fails its checksums is logged, not retried, and not served.
    shutil.copytree(good, base / "digits" / "2")
    (base / "digits" / "2" / "fingerprint.pb").write_bytes(b"tampered")
    assert store.refresh() == [] and store.refresh() == [] and store.versions("digits") == [1]
    shutil.copytree(good, base / "digits" / "3")
    assert store.refresh() == [("digits", 3)] and store.versions("digits") == [3]

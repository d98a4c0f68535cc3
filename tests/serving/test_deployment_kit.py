"""The TF Serving deployment kit in ``export/``: model config, batching config, run script."""

import os
import subprocess

from tfless import zoo

NAME = "digits_supervised_convnet"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_deployment_kit_is_consistent():
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    kit = os.path.join(REPO, "export")
    config = model_server_config_pb2.ModelServerConfig()
    with open(os.path.join(kit, "models.config")) as f:
        text_format.Parse(f.read(), config)
    names = [c.name for c in config.model_config_list.config]
    assert len(names) >= 3 and NAME in names
    known = {e["name"] for e in zoo.list_entries()}
    for c in config.model_config_list.config:
        assert c.name in known and c.base_path == f"/models/{c.name}"
    with open(os.path.join(kit, "batching.config")) as f:
        batching = f.read()
    for key in ("max_batch_size", "batch_timeout_micros", "num_batch_threads"):
        assert key in batching
    script = os.path.join(kit, "run_tf_serving.sh")
    assert subprocess.run(["bash", "-n", script], timeout=10).returncode == 0
    with open(script) as f:
        text = f.read()
    assert "tensorflow/serving" in text and "8500" in text and "8501" in text

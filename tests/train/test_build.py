"""``build_run``: the first batch is checked against the method's declared keys first."""

import os

import pytest

from tfless.configs import load_config
from tfless.train import train_and_evaluate

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_a_batch_without_a_declared_key_is_refused_before_training(tmp_path):
    config = load_config(f"{ROOT}/configs/deepcluster/digits.py:smoke")
    with config.unlocked():
        config.data.with_index = False
    with pytest.raises(
        ValueError,
        match=r"DeepCluster \('deepcluster'\) reads batch keys \['image', 'index'\]; the batch "
        r"lacks \['index'\]\. It has \[",
    ):
        train_and_evaluate(config, str(tmp_path / "run"))
    assert not os.path.exists(tmp_path / "run" / "manifest.json")

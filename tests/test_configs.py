"""Every config's ``:smoke`` variant trains end to end (TFDS datasets through mock data)."""

import ast
import glob
import os

import pytest
import tensorflow_datasets as tfds

from tfless.configs import load_config
from tfless.data import BUILTIN_DATASETS
from tfless.train import train_and_evaluate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "*", "*.py")))


def test_there_are_configs():
    assert any(p.endswith(os.path.join("supervised", "digits.py")) for p in CONFIGS)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: os.path.relpath(p, ROOT))
def test_smoke_variant_trains(path, tmp_path):
    with open(path) as f:
        doc = ast.get_docstring(ast.parse(f.read()))
    assert doc and "tfless-train" in doc, "docstring must give the command"
    config = load_config(f"{path}:smoke")
    assert config.is_locked
    assert config.train.steps <= 50, "smoke variants must finish in seconds"
    with config.unlocked():
        config.train.verbose = 0
        config.train.tensorboard = False
        # The linear probe is tested on its own; kNN keeps the frozen-feature path covered.
        config.eval = {"protocols": ("knn",)}
    if config.data.dataset in BUILTIN_DATASETS:
        result = train_and_evaluate(config, str(tmp_path / "run"))
    else:
        with tfds.testing.mock_data(num_examples=2000):
            result = train_and_evaluate(config, str(tmp_path / "run"))
    assert result.metrics["steps"] == config.train.steps
    assert result.metrics["loss"] == result.metrics["loss"]  # not NaN

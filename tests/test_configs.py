"""Every config's ``:smoke`` variant trains end to end (TFDS datasets through mock data)."""

import glob
import importlib.util
import os

import pytest
import tensorflow_datasets as tfds

from tfless.data import BUILTIN_DATASETS
from tfless.train import train_and_evaluate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(
    p
    for p in glob.glob(os.path.join(ROOT, "configs", "*", "*.py"))
    if not os.path.basename(p).startswith("_")
)


def _load(path):
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_are_configs():
    assert any(p.endswith(os.path.join("supervised", "digits.py")) for p in CONFIGS)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: os.path.relpath(p, ROOT))
def test_smoke_variant_trains(path, tmp_path):
    module = _load(path)
    assert module.__doc__ and "tfless-train" in module.__doc__, "docstring must give the command"
    config = module.get_config("smoke")
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

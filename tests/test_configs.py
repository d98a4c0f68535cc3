"""Every config's ``:smoke`` variant trains end to end (TFDS datasets through mock data)."""

import ast
import glob
import math
import os

import pytest
import tensorflow_datasets as tfds

from tfless.configs import load_config
from tfless.data import BUILTIN_DATASETS
from tfless.train import train_and_evaluate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "*", "*.py")))
# TFDS configs train on mock data: a few hundred examples keep a 2-step run in seconds
# (generating 2,000 mock images per split cost more than the training). CIFAR-100 needs
# enough for 4 labels in each of its 100 classes; methods that keep one slot per
# training example get as many examples as their smoke config declares.
MOCK_EXAMPLES = 300
MOCK_EXAMPLES_BY_DATASET = {"cifar100": 1000}


def _mock_examples(config) -> int:
    kwargs = config.method.kwargs
    declared = [int(kwargs[k]) for k in ("num_data", "num_examples") if kwargs.get(k)]
    return max([MOCK_EXAMPLES_BY_DATASET.get(config.data.dataset, MOCK_EXAMPLES), *declared])


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
        with tfds.testing.mock_data(num_examples=_mock_examples(config)):
            result = train_and_evaluate(config, str(tmp_path / "run"))
    assert result.metrics["steps"] == config.train.steps
    assert math.isfinite(result.metrics["loss"]), result.metrics

"""Every config's ``:smoke`` variant trains end to end (TFDS datasets through mock data)."""

import ast
import glob
import math
import os

import pytest
import tensorflow_datasets as tfds

from tfless.configs import load_config
from tfless.data import BUILTIN_DATASETS, get_info
from tfless.methods import get_method_class
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


def _data_path(config) -> tuple:
    """What a smoke run exercises of the data side: the dataset (few-shot episodes as one;
    TFDS datasets by their splits and image shape, so CIFAR-100 repeats CIFAR-10 while
    STL-10's unlabelled split and SVHN's extra split do not), the pipeline, the
    augmentation and the unlabeled views."""
    data = config.data
    episodic = data.get("pipeline") == "episodes"
    dataset = "episodes" if episodic else data.dataset
    if dataset not in BUILTIN_DATASETS and dataset != "episodes":
        info = get_info(dataset)
        dataset = ("tfds", info.splits, info.image_shape)
    return dataset, data.get("pipeline"), data.get("augment"), data.get("unlabeled_views")


def _trained_configs() -> set:
    """The configs whose smoke run trains: each one that brings a method or a data path
    (:func:`_data_path`) no config before it trained. Built-in datasets come first, so each
    method trains on its digits / glyphs config and a TFDS config (mock data) trains when it
    brings a dataset, pipeline, augmentation or view set not yet trained. Several few-shot
    recipes (Omniglot, miniImageNet) shrink to the same method on small episodes for their
    smoke run (the Omniglot and folder sources are tested in
    ``tests/data/test_fewshot_sources.py``). A config that would repeat what others
    trained (the same method, and its data path trained with another method) is checked
    without training (:func:`test_recipe_configs_resolve`)."""
    configs = {path: load_config(f"{path}:smoke") for path in CONFIGS}
    order = sorted(CONFIGS, key=lambda p: (_data_path(configs[p])[0][0] == "tfds", p))
    methods, data_paths, trained = set(), set(), set()
    for path in order:
        method, data_path = configs[path].method.name, _data_path(configs[path])
        if method not in methods or data_path not in data_paths:
            methods.add(method)
            data_paths.add(data_path)
            trained.add(path)
    return trained


TRAINED = _trained_configs()


def _check_docstring_and_smoke(path):
    with open(path) as f:
        doc = ast.get_docstring(ast.parse(f.read()))
    assert doc and "tfless-train" in doc, "docstring must give the command"
    config = load_config(f"{path}:smoke")
    assert config.is_locked
    assert config.train.steps <= 50, "smoke variants must finish in seconds"
    return config


@pytest.mark.parametrize(
    "path", sorted(set(CONFIGS) - TRAINED), ids=lambda p: os.path.relpath(p, ROOT)
)
def test_recipe_configs_resolve(path):
    """The full and smoke variants load, name a registered method that accepts their
    kwargs and a registered backbone."""
    import inspect

    from tfless.backbones import BACKBONES
    from tfless.methods import get_method_class

    _check_docstring_and_smoke(path)
    config = load_config(path)
    accepted = set()
    for cls in get_method_class(config.method.name).__mro__:  # **kwargs go to the base
        if "__init__" in vars(cls) and cls.__module__.startswith("tfless."):
            accepted |= set(inspect.signature(cls.__init__).parameters)
    unknown = sorted(set(config.method.kwargs) - accepted)
    assert not unknown, unknown
    assert config.model.backbone in BACKBONES


@pytest.mark.parametrize("path", sorted(TRAINED), ids=lambda p: os.path.relpath(p, ROOT))
def test_smoke_variant_trains(path, tmp_path):
    config = _check_docstring_and_smoke(path)
    classifier = get_method_class(config.method.name).has_classifier
    with config.unlocked():
        config.train.verbose = 0
        config.train.tensorboard = False
        # A classifier reports its own test accuracy; an encoder without one is evaluated
        # by kNN (the linear probe is tested on its own), which keeps the frozen-feature
        # path covered.
        config.eval = {"protocols": () if classifier else ("knn",)}
    if config.data.dataset in BUILTIN_DATASETS:
        result = train_and_evaluate(config, str(tmp_path / "run"))
    else:
        with tfds.testing.mock_data(num_examples=_mock_examples(config)):
            result = train_and_evaluate(config, str(tmp_path / "run"))
    assert result.metrics["steps"] == config.train.steps
    assert math.isfinite(result.metrics["loss"]), result.metrics

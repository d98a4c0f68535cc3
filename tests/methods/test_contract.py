"""The method contract: declared input keys, classifier flag, callbacks hook, no configs."""

import ast
import glob
import inspect
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfless.methods
from tests.testing import tiny_encoder
from tfless.configs import load_config
from tfless.data import BUILTIN_DATASETS
from tfless.data.pipelines import build_data
from tfless.methods import METHODS, ClassifierMixin, Method, Supervised
from tfless.methods.base import batch_key_paths, missing_input_keys, scale_for_replicas
from tfless.methods.contrastive import PIRL
from tfless.methods.semi import FixMatch
from tfless.train.build import build_method

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS_CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "*", "digits.py")))


def test_a_batch_missing_a_key_is_refused_naming_method_missing_and_present_keys():
    method = Supervised(tiny_encoder(), num_classes=10)
    with pytest.raises(ValueError) as info:
        method.check_inputs({"image": np.zeros((2, 8, 8, 1), np.float32)})
    message = str(info.value)
    assert "Supervised ('supervised')" in message
    assert "reads batch keys ['image', 'label']" in message
    assert "lacks ['label']" in message
    assert "It has ['image']" in message
    method.check_inputs({"image": np.zeros((2, 8, 8, 1)), "label": np.zeros(2)})


def test_nested_keys_are_slash_paths():
    method = FixMatch(tiny_encoder(), num_classes=10)
    assert method.input_keys == (
        "labeled/image",
        "labeled/label",
        "unlabeled/image_weak",
        "unlabeled/image_strong",
    )
    image = np.zeros((2, 8, 8, 1), np.float32)
    batch = {"labeled": {"image": image, "label": np.zeros(2)}, "unlabeled": {"image_weak": image}}
    assert batch_key_paths(batch) == [
        "labeled",
        "labeled/image",
        "labeled/label",
        "unlabeled",
        "unlabeled/image_weak",
    ]
    with pytest.raises(ValueError, match=r"lacks \['unlabeled/image_strong'\]\. It has \["):
        method.check_inputs(batch)
    with pytest.raises(ValueError, match=r"lacks \['labeled/image', 'labeled/label'"):
        method.check_inputs({"image": image})


def test_alternative_keys():
    assert PIRL.input_keys == ("index", "image|views")
    assert missing_input_keys({"index": 0, "views": 0}, PIRL.input_keys) == []
    assert missing_input_keys({"index": 0, "image": 0}, PIRL.input_keys) == []
    assert missing_input_keys({"index": 0}, PIRL.input_keys) == ["image|views"]
    assert missing_input_keys([1, 2], ("image",)) == ["image"]


@pytest.mark.parametrize("name", sorted(METHODS))
def test_has_classifier_is_declared_by_the_classifier_mixin(name):
    cls = METHODS[name]
    assert cls.has_classifier is issubclass(cls, ClassifierMixin)
    family = cls.__module__.split(".")[2]
    if family in ("semi", "supervised"):
        assert cls.has_classifier
    if family in ("contrastive", "pretext", "clustering"):
        assert not cls.has_classifier


def _config_parameters(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
            found += [f"{node.name}({n})" for n in names if n in ("config", "cfg")]
    return found


def test_methods_never_receive_config_objects():
    package = os.path.dirname(tfless.methods.__file__)
    offenders = {}
    for path in glob.glob(os.path.join(package, "**", "*.py"), recursive=True):
        with open(path) as f:
            found = _config_parameters(ast.parse(f.read()))
        if found:
            offenders[os.path.relpath(path, package)] = found
    assert offenders == {}
    assert list(inspect.signature(Method.callbacks).parameters) == ["self", "data"]
    assert Method.callbacks(Supervised(tiny_encoder(), num_classes=10), None) == []


def test_scale_for_replicas_matches_the_global_batch_mean(mirrored_strategy):
    loss = tf.constant(3.0)
    assert scale_for_replicas(loss) is loss  # one replica: unchanged

    def replica_fn():
        return scale_for_replicas(tf.constant(3.0))

    scaled = mirrored_strategy.experimental_local_results(mirrored_strategy.run(replica_fn))
    assert [float(s) for s in scaled] == [3.0 * np.float32(0.5)] * 2
    assert scaled[0].dtype == tf.float32


def _keep(batch, input_keys):
    """``batch`` restricted to the declared keys (nested dicts pruned likewise)."""
    wanted = {alt for key in input_keys for alt in key.split("|")}
    out = {}
    for key, value in batch.items():
        inner = [w.split("/", 1)[1] for w in wanted if w.startswith(f"{key}/")]
        if inner and isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if k in inner}
        elif key in wanted:
            out[key] = value
    return out


def _smoke_configs_by_method() -> dict:
    """``{method name: path}``: each method's digits config, else its first config on a
    built-in dataset (families that need many classes train on ``glyphs``)."""
    paths = sorted(glob.glob(os.path.join(ROOT, "configs", "*", "*.py")))
    paths.sort(key=lambda p: os.path.basename(p) != "digits.py")
    found = {}
    for path in paths:
        config = load_config(f"{path}:smoke")
        if config.data.dataset in BUILTIN_DATASETS:
            found.setdefault(config.method.name, path)
    return found


SMOKE_CONFIGS = _smoke_configs_by_method()


def test_every_registered_method_has_a_config_on_a_built_in_dataset():
    assert set(METHODS) <= set(SMOKE_CONFIGS)


@pytest.mark.parametrize("name", sorted(SMOKE_CONFIGS))
def test_declared_keys_match_the_smoke_batch_and_a_mixed_precision_step_trains(name):
    """The smoke config's first batch has every declared key, and the declared keys are
    all the loss reads: the loss runs on the batch cut down to them. The method is built
    in ``mixed_bfloat16`` and one training step on the batch gives a finite loss."""
    config = load_config(f"{SMOKE_CONFIGS[name]}:smoke")
    with config.unlocked():
        config.train.precision = "mixed_bfloat16"
    data = build_data(config.data, seed=0)
    batch = next(iter(data.train.take(1)))
    method = build_method(config, data.image_shape, data.info.num_classes, num_train=data.num_train)
    method.check_inputs(batch)
    loss = method.compute_loss(x=_keep(batch, method.input_keys), training=False)
    assert np.isfinite(float(loss))
    method.compile(optimizer=keras.optimizers.SGD(0.01))
    logs = method.train_step(batch)
    assert np.isfinite(float(logs["loss"])), logs
    assert int(method.optimizer.iterations.numpy()) == 1

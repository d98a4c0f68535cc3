"""The Python path: method classes from ``tfless.methods``, a lazy curated ``tfless``, and a
method built on your own backbone that refuses what it cannot honour (a loss or metrics
in ``compile``, ``save`` to one Keras file) before doing anything."""

import subprocess
import sys

import keras
import pytest

import tfless
import tfless.methods


def test_every_registered_method_class_is_importable_from_tfless_methods():
    for name, cls in tfless.methods.METHODS.items():
        assert getattr(tfless.methods, cls.__name__) is cls, name
        assert cls.__name__ in tfless.methods.__all__, name
    from tfless.methods import FixMatch, MoCo, SimCLR  # noqa: F401  (the documented import)


def test_tfless_all_resolves_and_importing_tfless_loads_no_tensorflow():
    assert {"METHODS", "Method", "load", "train_and_evaluate", "evaluate_encoder"} <= set(
        tfless.__all__
    )
    for name in tfless.__all__:
        assert getattr(tfless, name) is not None, name
    assert tfless.METHODS is tfless.methods.METHODS
    code = (
        "import sys, tfless; names = list(tfless.__all__) + dir(tfless); "
        "assert 'tensorflow' not in sys.modules, 'tensorflow loaded'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.fixture(scope="module")
def method():
    own = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3), keras.layers.GlobalAveragePooling2D()]
    )
    return tfless.methods.Supervised(own, num_classes=10)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"loss": "sparse_categorical_crossentropy"},
        {"metrics": ["accuracy"]},
        {"weighted_metrics": ["accuracy"]},
        {"loss_weights": [1.0]},
    ],
)
def test_compile_with_a_loss_or_metrics_is_refused(method, kwargs):
    (key,) = kwargs
    with pytest.raises(ValueError, match=rf"Supervised computes its own loss.*takes no {key}="):
        method.compile(optimizer="adam", **kwargs)
    assert not method.compiled  # refused before compiling anything


def test_compile_with_an_optimizer_passes_keras_options_through(method):
    method.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    assert isinstance(method.optimizer, keras.optimizers.Adam) and method.jit_compile is False


def test_save_is_refused_before_writing_anything(method, tmp_path):
    path = tmp_path / "method.keras"
    with pytest.raises(NotImplementedError, match=r"nothing was written.*export_encoder"):
        method.save(str(path))
    assert not path.exists()
    # The ways the message offers work.
    method.encoder.save(str(tmp_path / "encoder.keras"))
    assert keras.models.load_model(str(tmp_path / "encoder.keras")).output_shape == (None, 4)

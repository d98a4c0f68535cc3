"""Mixed precision (``train.precision``) and fused steps (``train.steps_per_execution``)."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfless.backbones import build_backbone
from tfless.configs import load_config
from tfless.train import precision as precision_lib
from tfless.train import train_and_evaluate
from tfless.train.build import build_method, build_run

# bfloat16 keeps 8 bits of mantissa (about 0.4% per rounding); through a small backbone the
# loss of one batch stays within this relative distance of the float32 loss.
BF16_LOSS_RTOL = 0.05


def _conv_dtypes(model) -> set:
    """Compute dtypes of the convolutions anywhere inside ``model``."""
    layers = model._flatten_layers(include_self=False, recursive=True)
    return {layer.compute_dtype for layer in layers if isinstance(layer, keras.layers.Conv2D)}


def _config(spec, **train):
    config = load_config(f"configs/{spec}:smoke")
    with config.unlocked():
        config.train.verbose = 0
        config.train.tensorboard = False
        for key, value in train.items():
            config.train[key] = value
    return config


def test_unknown_precision_is_refused_naming_the_accepted_ones():
    with pytest.raises(ValueError, match=r"'float16'.*'float32', 'mixed_bfloat16'"):
        precision_lib.check_precision("float16")
    assert precision_lib.check_precision(None) == "float32"


@pytest.mark.parametrize("name", ["convnet", "conv4"])
def test_backbones_compute_in_bfloat16_with_float32_variables_and_features(name):
    before = keras.config.dtype_policy().name
    with precision_lib.dtype_policy("mixed_bfloat16"):
        encoder = build_backbone(name, (16, 16, 1), **({"width": 8} if name == "conv4" else {}))
    assert keras.config.dtype_policy().name == before  # restored
    assert {v.dtype for v in encoder.weights} == {"float32"}
    assert _conv_dtypes(encoder) == {"bfloat16"}
    features = encoder(np.random.rand(2, 16, 16, 1).astype("float32"))
    assert features.dtype == "float32"


def test_an_encoder_with_a_low_precision_output_is_cast_to_float32():
    with precision_lib.dtype_policy("mixed_bfloat16"):
        inputs = keras.Input((4,))
        encoder = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    wrapped = precision_lib.float32_features(encoder)
    assert wrapped.output.dtype == "float32" and wrapped.feature_dim == 3
    assert precision_lib.float32_features(wrapped) is wrapped


def _loss(method, batch) -> float:
    with method.seeded_step():
        return float(method.compute_loss(x=batch, training=False))


# One method per family, and the ones with float32 state: MoCo's queue, the Mean Teacher
# EMA, PIRL's memory bank, VAT's perturbation norm, DeepCluster's k-means.
FAMILIES = [
    "supervised/digits.py",
    "fixmatch/digits.py",
    "mean_teacher/digits.py",
    "vat/digits.py",
    "simclr/digits.py",
    "moco/digits.py",
    "pirl/digits.py",
    "rotation/digits.py",
    "deepcluster/digits.py",
    "protonet/glyphs.py",
    "sla/digits.py",
    "noisy_label/digits.py",
    "nrm/digits.py",
]
# One per family trains a short mixed_bfloat16 run, after which the loss of the fixed batch
# must be lower. (MoCo's and PIRL's losses are measured against a queue and a memory bank that
# fill up as they train, so their loss of one batch is not comparable across steps.)
BF16_LEARNS = {
    "supervised/digits.py",
    "fixmatch/digits.py",
    "simclr/digits.py",
    "rotation/digits.py",
    "deepcluster/digits.py",
    "protonet/glyphs.py",
    "sla/digits.py",
    "noisy_label/digits.py",
    "nrm/digits.py",
}
BF16_LEARN_STEPS = 15


@pytest.mark.parametrize("spec", FAMILIES, ids=lambda s: s.split("/")[0])
def test_in_bfloat16_a_batch_loss_agrees_with_float32_and_a_short_run_learns(spec):
    reference = build_run(_config(spec, precision="float32"))
    data, batch = reference.data, next(iter(reference.data.train.take(1)))
    low = build_method(
        _config(spec, precision="mixed_bfloat16"),
        data.image_shape,
        data.info.num_classes,
        num_train=data.num_train,
        num_held_out=data.num_val if data.val_source == "train" else 0,
    )
    low.build_from_batch(batch)
    low.set_weights(reference.method.get_weights())
    expected, got = _loss(reference.method, batch), _loss(low, batch)
    assert np.isfinite(got)
    assert abs(got - expected) <= BF16_LOSS_RTOL * abs(expected), (got, expected)
    # Queues, memory banks, EMA teachers, batch-norm statistics: every float state is float32.
    floats = [w for w in low.weights if "float" in w.dtype]
    assert floats and not [w.path for w in floats if w.dtype != "float32"]
    assert _conv_dtypes(low.encoder) == {"bfloat16"}
    if spec not in BF16_LEARNS:
        return
    # It learns in bfloat16: a few steps on the run's stream lower the fixed batch's loss.
    keras.utils.set_random_seed(0)
    low.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)
    low.fit(data.train, steps_per_epoch=BF16_LEARN_STEPS, epochs=1, verbose=0)
    after = _loss(low, batch)
    assert np.isfinite(after) and after < got, (after, got)


def test_a_short_bfloat16_run_learns_and_exports_a_float32_signature(tmp_path):
    config = _config("supervised/digits.py", precision="mixed_bfloat16")
    with config.unlocked():
        config.optimizer.ema = 0.0  # 20 steps: evaluate the weights, not their average
    result = train_and_evaluate(config, str(tmp_path / "run"))
    assert result.metrics["test_accuracy"] > 0.5, result.metrics  # chance is 0.1
    from tfless.export import export_encoder

    exported = export_encoder(result.method, str(tmp_path / "export"), "bf16")
    loaded = tf.saved_model.load(exported.path)
    signature = loaded.signatures["serving_default"]
    assert signature.structured_input_signature[1]["image"].dtype == tf.float32
    out = signature(image=tf.zeros([2, 16, 16, 1]))
    assert out["feature_vector"].dtype == tf.float32


def test_float16_scales_the_loss_and_keeps_the_ema_swap():
    # float16 convolutions are emulated on CPUs (slow): two steps show the loss scaling.
    run = build_run(_config("supervised/digits.py", precision="mixed_float16"))
    assert isinstance(run.optimizer, keras.optimizers.LossScaleOptimizer)
    assert precision_lib.uses_ema(run.optimizer)  # digits configs average the weights
    scale = float(run.optimizer.dynamic_scale.numpy())
    history = run.method.fit(run.data.train, steps_per_epoch=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    assert int(run.optimizer.iterations.numpy()) == 2
    assert float(run.optimizer.dynamic_scale.numpy()) == scale  # finite steps keep the scale


def test_fused_steps_train_the_same_weights_and_log_every_point(tmp_path):
    from tests.train.test_tensorboard import _events

    digests = {}
    for spe in (1, 5):
        config = _config("supervised/digits.py", steps_per_execution=spe, tensorboard=True)
        with config.unlocked():
            config.train.update(steps=10, eval_every=5, log_every=5)
        workdir = tmp_path / f"spe{spe}"
        result = train_and_evaluate(config, str(workdir))
        assert result.metrics["steps"] == config.train.steps
        digests[spe] = result.metrics["weights_digest"]
        with open(workdir / "history.json") as f:
            assert [row["step"] for row in json.load(f)] == [5, 10]
        losses = _events(str(workdir / "tensorboard")).get("train/loss", [])
        assert [step for step, _, _ in losses] == [5, 10]
    assert digests[1] == digests[5]


def test_a_step_xla_cannot_compile_trains_without_it_and_says_why(caplog):
    run = build_run(_config("mixmatch/digits.py", jit_compile=True))
    assert run.method.jit_compile is False
    assert "MixMatch trains without XLA: MixUp pairs examples with StatelessShuffle" in caplog.text
    supervised = build_run(_config("supervised/digits.py", jit_compile=True))
    assert supervised.method.jit_compile is True

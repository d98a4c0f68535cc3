"""TANDA: TF validation, the adversarial game's direction, generator files and the view."""

import numpy as np
import pytest
import tensorflow as tf

from tfless.augment import ops
from tfless.augment.views import tanda as tanda_view
from tfless.methods.augment import tanda


def test_discriminator_learns_to_spot_transformed_images(digits8):
    """With a TF that is easy to detect (Invert), the discriminator's loss falls."""
    _, history = tanda.train_tanda(
        digits8,
        steps=30,
        transforms=[("Invert", 0.0)],
        sequence_length=1,
        hidden=4,
        discriminator_learning_rate=1e-2,
        discriminator_widths=(8,),
        log_every=10,
    )
    assert history[0]["d_loss"] > 1.0
    assert history[-1]["d_loss"] < 0.5 * history[0]["d_loss"], history
    assert history[-1]["d_real"] > history[-1]["d_fake"] + 0.3


def test_generator_learns_to_avoid_detectable_tfs(digits8):
    """The generator, rewarded by fooling the discriminator, moves away from Invert."""
    transforms = [("Identity", 0.0), ("Invert", 0.0), ("Rotate", 1.0)]
    generator, history = tanda.train_tanda(
        digits8,
        steps=60,
        transforms=transforms,
        sequence_length=1,
        hidden=8,
        generator_learning_rate=0.05,
        discriminator_learning_rate=1e-2,
        discriminator_widths=(8,),
        log_every=20,
    )
    probs = generator.tf_probabilities()
    assert probs.shape == (3,) and probs.sum() == pytest.approx(1.0, abs=1e-5)
    assert probs[1] < 0.15, probs
    # The generator's reward rises as it stops producing inverted digits.
    assert history[-1]["g_reward"] > history[0]["g_reward"], history


def test_generator_file_round_trip_and_view(tmp_path, digits8):
    generator = tanda.TandaGenerator(
        [("Rotate", 3.0), ("ShearX", 5.0)], sequence_length=2, hidden=4
    )
    path = str(tmp_path / "gen.json")
    tanda.save_generator(path, generator, note="x")
    loaded = tanda.load_generator(path)
    assert loaded.transforms == generator.transforms and loaded.sequence_length == 2
    np.testing.assert_allclose(loaded.tf_probabilities(), generator.tf_probabilities(), rtol=1e-6)
    seqs = generator.sample(4, [0, 1])
    np.testing.assert_array_equal(seqs.numpy(), loaded.sample(4, [0, 1]).numpy())
    view = tanda_view(path)
    out = view(digits8[:5])["image"]
    assert out.shape == (5, 8, 8, 1) and out.dtype == tf.float32
    u8 = tf.cast(tf.constant(digits8[:5]) * 255, tf.uint8)
    assert view(u8)["image"].dtype == tf.uint8
    ds = tf.data.Dataset.from_tensor_slices(digits8).batch(4).map(view)
    assert next(iter(ds))["image"].shape == (4, 8, 8, 1)
    # prob 0 leaves images untouched.
    np.testing.assert_allclose(tanda_view(path, prob=0.0)(digits8[:3])["image"], digits8[:3])


def test_apply_matches_the_op_library(digits8):
    generator = tanda.TandaGenerator([("Invert", 0.0), ("Solarize", 5.0)], 2, hidden=4)
    x = tf.constant(digits8[:2])
    out = generator.apply(x, tf.constant([[0, 1], [1, 1]]))
    ref0 = ops.apply_op(ops.apply_op(x[:1], "Invert"), "Solarize", 5.0)
    ref1 = ops.apply_op(ops.apply_op(x[1:], "Solarize", 5.0), "Solarize", 5.0)
    np.testing.assert_allclose(out.numpy(), np.concatenate([ref0, ref1]), atol=1e-6)


def test_bad_input(tmp_path, digits8):
    with pytest.raises(ValueError, match="non-empty"):
        tanda.TandaGenerator([])
    with pytest.raises(ValueError, match="unknown augmentation op 'Melt'"):
        tanda.TandaGenerator([("Melt", 3.0)])
    with pytest.raises(ValueError, match="magnitude"):
        tanda.TandaGenerator([("Rotate", 11.0)])
    with pytest.raises(ValueError, match=r"\(op_name, magnitude\)"):
        tanda.TandaGenerator(["Rotate"])
    with pytest.raises(ValueError, match="sequence_length"):
        tanda.TandaGenerator([("Rotate", 3.0)], sequence_length=0)
    with pytest.raises(ValueError, match="images must be"):
        tanda.train_tanda(digits8[0], steps=1)
    with pytest.raises(ValueError, match="does not exist"):
        tanda_view(str(tmp_path / "none.json"))


def test_cli_tanda_mode_takes_ops_at_the_default_magnitudes(tmp_path, cli_module):
    import json

    from absl import flags

    argv = [
        "augment_search",
        "--mode=tanda",
        f"--output_dir={tmp_path}",
        "--image_size=8",
        "--labels_per_class=3",
        "--num_validation=50",
        "--ops=Rotate,Invert",
        "--tanda_steps=2",
        "--tanda_length=2",
    ]
    with cli_module("augment_search") as augment_search:
        flags.FLAGS(argv)
        augment_search.main(argv[:1])
    record = json.load(open(tmp_path / "tanda_generator.json"))
    assert [tuple(t) for t in record["transforms"]] == [
        (n, m) for n in ("Rotate", "Invert") for m in (3.0, 6.0, 9.0)
    ]
    assert record["flags"]["ops"] == ["Rotate", "Invert"] and len(record["history"]) == 1
    generator = tanda.load_generator(str(tmp_path / "tanda_generator.json"))
    assert generator.sequence_length == 2 and len(generator.transforms) == 6

"""What tfless.augment.ops says about Pillow and the TF reference, checked.

The geometric ops are Pillow's ``Image.transform`` / ``Image.rotate`` pixel for pixel (grey
fill, pixel-centre sampling); Posterize and Solarize follow Pillow where the TF reference
(tensorflow/models ``official/vision/ops/augment.py``) differs; each recipe translates by
its own paper's range.
"""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image, ImageOps

from tfless.augment import ctaugment, ops, policies, views

GREY = (128, 128, 128)


def _image(h=24, w=20, seed=3):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3)).astype(np.uint8)


def _pillow_geometric(image, name, m, fraction=ops.TRANSLATE_FRACTION):
    """Pillow's result for signed ``m = magnitude / 10``, grey fill, nearest sampling."""
    pil = Image.fromarray(image)
    if name == "Rotate":
        return np.asarray(pil.rotate(30.0 * m, fillcolor=GREY))
    h, w = image.shape[:2]
    data = {
        "ShearX": (1, 0.3 * m, 0, 0, 1, 0),
        "ShearY": (1, 0, 0, 0.3 * m, 1, 0),
        "TranslateX": (1, 0, m * fraction * w, 0, 1, 0),
        "TranslateY": (1, 0, 0, 0, 1, m * fraction * h),
    }[name]
    return np.asarray(pil.transform(pil.size, Image.AFFINE, data, fillcolor=GREY))


@pytest.mark.parametrize("name", ["ShearX", "ShearY", "Rotate", "TranslateX", "TranslateY"])
def test_geometric_ops_are_pillow_pixel_for_pixel(name):
    image = _image()
    magnitudes = np.array([2.0, 4.5, 7.3, 10.0] * 4, np.float32)
    out = ops.OPS[name](np.repeat(image[None], len(magnitudes), 0), magnitudes).numpy()
    for got, magnitude in zip(out, magnitudes, strict=True):
        m = float(magnitude) / 10.0
        candidates = [_pillow_geometric(image, name, sign * m) for sign in (1.0, -1.0)]
        # Exactly one of the two random signs, every pixel (fill included).
        assert any(np.array_equal(got, c) for c in candidates), (name, magnitude)


def test_posterize_follows_pillow_where_the_tf_reference_keeps_one_bit():
    image = _image()[None]
    # Magnitude 1 -> int(0.4) = 0 bits: Pillow's table v & ~(2**8 - 1) is all zeros.
    table = np.array([v & ~(2**8 - 1) for v in range(256)], np.uint8)
    np.testing.assert_array_equal(ops.OPS["Posterize"](image, 1.0).numpy(), table[image])
    assert ops.OPS["Posterize"](image, 1.0).numpy().max() == 0
    # The reference shifts right then left by 8 - bits; TF clamps a shift of 8 to 7.
    reference = tf.bitwise.left_shift(tf.bitwise.right_shift(image, 8), 8).numpy()
    assert set(np.unique(reference)) == {0, 128}
    # From one bit up tfless is ImageOps.posterize itself.
    for magnitude, bits in ((2.5, 1), (5.0, 2), (10.0, 4)):
        expected = np.asarray(ImageOps.posterize(Image.fromarray(image[0]), bits))
        np.testing.assert_array_equal(ops.OPS["Posterize"](image, magnitude).numpy()[0], expected)


def test_solarize_at_magnitude_10_is_pillows_identity_not_the_references_inversion():
    image = _image()[None]
    expected = np.asarray(ImageOps.solarize(Image.fromarray(image[0]), 256))
    np.testing.assert_array_equal(expected, image[0])
    np.testing.assert_array_equal(ops.OPS["Solarize"](image, 10.0).numpy()[0], expected)
    # The reference's uint8 comparison with 256 (int(10 / 10 * 256)) inverts every pixel.
    pixels = tf.constant(image)
    reference = tf.where(pixels < 256, pixels, 255 - pixels).numpy()
    np.testing.assert_array_equal(reference, 255 - image)


def _record_translate_fractions(monkeypatch):
    seen = []
    real = ops.apply_per_image

    def spy(x, op_index, magnitude, names, *args, **kwargs):
        if any(n.startswith("Translate") for n in names):
            seen.append(kwargs.get("translate_fraction", ops.TRANSLATE_FRACTION))
        return real(x, op_index, magnitude, names, *args, **kwargs)

    monkeypatch.setattr(ops, "apply_per_image", spy)
    monkeypatch.setattr(ctaugment, "apply_per_image", spy)
    return seen


def test_each_recipe_translates_by_its_papers_range(monkeypatch):
    assert ops.CIFAR_TRANSLATE_FRACTION == 10 / 32
    assert ops.FIXMATCH_TRANSLATE_FRACTION == 0.3
    assert ops.TRANSLATE_FRACTION == 100 / 224
    images = np.repeat(_image(8, 8)[None], 2, 0)
    cases = {
        "cifar10 policy": (lambda x: policies.apply_policy(x, "cifar10"), 10 / 32),
        "svhn policy": (lambda x: policies.apply_policy(x, "svhn"), 10 / 32),
        "imagenet policy": (lambda x: policies.apply_policy(x, "imagenet"), 100 / 224),
        "autoaugment view": (views.build_view("autoaugment", policy="cifar10"), 10 / 32),
        "fixmatch strong": (views.build_view("weak_strong", flip=False), 0.3),
        "ctaugment": (ctaugment.CTAugment(ops=("Identity", "TranslateX")), 0.3),
        "randaugment (imagenet)": (policies.RandAugment(1, 5.0), 100 / 224),
    }
    for label, (fn, fraction) in cases.items():
        seen = _record_translate_fractions(monkeypatch)
        fn(images)
        assert seen and all(f == pytest.approx(fraction) for f in seen), (label, seen)
        monkeypatch.undo()
    # An explicit value still wins.
    seen = _record_translate_fractions(monkeypatch)
    policies.apply_policy(images, "cifar10", translate_fraction=0.1)
    assert seen and set(seen) == {0.1}


def test_cifar_policy_shift_is_at_most_10_px_of_32():
    # TranslateX at magnitude 10 under the CIFAR range moves a 32 px image by exactly 10 px.
    image = np.zeros((1, 32, 32, 1), np.uint8)
    image[0, :, 16] = 255
    policy = [[("TranslateX", 1.0, 10.0)]]
    out = policies.apply_policy(
        np.repeat(image, 8, 0), policy, translate_fraction=ops.CIFAR_TRANSLATE_FRACTION
    ).numpy()
    columns = {int(np.argmax(o[0, :, 0] == 255)) for o in out}
    assert columns <= {6, 26} and columns


def test_bad_translate_fraction_is_refused():
    with pytest.raises(ValueError, match="translate_fraction"):
        policies.RandAugment(2, 5.0, translate_fraction=1.5)
    with pytest.raises(ValueError, match="translate_fraction"):
        ctaugment.CTAugment(translate_fraction=-0.1)
    with pytest.raises(ValueError, match="translate_fraction"):
        views.build_view("autoaugment", policy="cifar10", translate_fraction=2.0)

"""Tests of tfless.augment.ops: dtypes, tf.data, identities, randomness, Pillow parity."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image, ImageEnhance, ImageOps

from tfless.augment import ops

B, H, W = 6, 24, 20


def _test_images(channels=3, batch=B, seed=0):
    """uint8 images with varied ranges so AutoContrast/Equalize have work to do."""
    rng = np.random.default_rng(seed)
    images = []
    for i in range(batch):
        lo = 10 * (i % 6)
        hi = 255 - 15 * (i % 6)
        base = rng.integers(lo, hi, size=(H, W, channels))
        gradient = np.linspace(lo, hi, W)[None, :, None]
        images.append(np.where(np.arange(H)[:, None, None] < H // 2, base, gradient))
    return np.stack(images).round().astype(np.uint8)


def _as_float(images):
    return images.astype(np.float32) / 255.0


PIL_OPS = {
    "AutoContrast": lambda im, m: ImageOps.autocontrast(im),
    "Equalize": lambda im, m: ImageOps.equalize(im),
    "Invert": lambda im, m: ImageOps.invert(im),
    # Pillow rejects 0 bits; keeping no bits is a black image.
    "Posterize": lambda im, m: (
        ImageOps.posterize(im, int(m / 10 * 4)) if m >= 2.5 else Image.new(im.mode, im.size)
    ),
    "Solarize": lambda im, m: ImageOps.solarize(im, int(m / 10 * 256)),
    "Color": lambda im, m: ImageEnhance.Color(im).enhance(0.1 + 1.8 * m / 10),
    "Contrast": lambda im, m: ImageEnhance.Contrast(im).enhance(0.1 + 1.8 * m / 10),
    "Brightness": lambda im, m: ImageEnhance.Brightness(im).enhance(0.1 + 1.8 * m / 10),
    "Sharpness": lambda im, m: ImageEnhance.Sharpness(im).enhance(0.1 + 1.8 * m / 10),
}
# Pillow truncates blends where we round, so blend ops may differ by one level.
PIL_TOLERANCE = {"Color": 1, "Contrast": 1, "Brightness": 1, "Sharpness": 1}


def _pil_apply(images, name, magnitude):
    out = []
    for image in images:
        pil = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
        result = np.asarray(PIL_OPS[name](pil, magnitude))
        out.append(result.reshape(image.shape))
    return np.stack(out)


@pytest.mark.parametrize("channels", [3, 1])
@pytest.mark.parametrize("magnitude", [2.0, 7.0, 10.0])
@pytest.mark.parametrize("name", sorted(PIL_OPS))
def test_matches_pillow(name, magnitude, channels):
    images = _test_images(channels)
    expected = _pil_apply(images, name, magnitude).astype(np.int32)
    got = ops.OPS[name](images, magnitude).numpy().astype(np.int32)
    diff = np.abs(got - expected)
    assert diff.max() <= PIL_TOLERANCE.get(name, 0), (name, magnitude, diff.max())
    assert diff.mean() < 0.25
    got_float = ops.OPS[name](_as_float(images), magnitude).numpy() * 255.0
    # The float path agrees with the uint8 path up to rounding (blends of rounded images).
    tolerance = 2.0 if name in PIL_TOLERANCE else 1.0
    assert np.abs(got_float - got).max() <= tolerance + 1e-3


@pytest.mark.parametrize("name", ops.OP_NAMES)
def test_dtype_shape_range_eager_and_tf_data(name):
    images_u8 = _test_images()
    for images in (images_u8, _as_float(images_u8)):
        eager = ops.OPS[name](images, 7.0)
        assert eager.dtype == tf.as_dtype(images.dtype)
        assert eager.shape == images.shape
        dataset = (
            tf.data.Dataset.from_tensor_slices(images)
            .batch(3)
            .map(lambda x, n=name: ops.OPS[n](x, 7.0), num_parallel_calls=2)
        )
        batches = list(dataset.as_numpy_iterator())
        piped = np.concatenate(batches)
        assert piped.dtype == images.dtype and piped.shape == images.shape
        assert [b.shape[0] for b in batches] == [3, 3]
        high = 255 if images.dtype == np.uint8 else 1.0
        assert piped.min() >= 0 and piped.max() <= high
        if name not in ops._GEOMETRIC_OPS + ("Cutout",):
            # Deterministic ops give the same result in tf.data as eagerly.
            np.testing.assert_allclose(piped, eager.numpy(), atol=1e-6)
        if name != "Identity":
            assert not np.array_equal(piped, images), f"{name} left the images unchanged"


def test_ops_registry_complete():
    expected = {
        "AutoContrast", "Equalize", "Invert", "Rotate", "Posterize", "Solarize",
        "SolarizeAdd", "Color", "Contrast", "Brightness", "Sharpness", "ShearX", "ShearY",
        "TranslateX", "TranslateY", "Cutout", "Identity",
    }  # fmt: skip
    assert set(ops.OPS) == expected


@pytest.mark.parametrize(
    "name, magnitude",
    [
        ("Identity", 10.0),
        ("Rotate", 0.0),
        ("ShearX", 0.0),
        ("ShearY", 0.0),
        ("TranslateX", 0.0),
        ("TranslateY", 0.0),
        ("Cutout", 0.0),
        ("SolarizeAdd", 0.0),
        ("Solarize", 10.0),
        ("Color", 5.0),
        ("Contrast", 5.0),
        ("Brightness", 5.0),
        ("Sharpness", 5.0),
    ],
)
def test_identity_magnitudes(name, magnitude):
    images = _test_images()
    np.testing.assert_array_equal(ops.OPS[name](images, magnitude).numpy(), images)
    floats = _as_float(images)
    np.testing.assert_allclose(ops.OPS[name](floats, magnitude).numpy(), floats, atol=1e-5)


@pytest.mark.parametrize("name", ["Rotate", "ShearX", "ShearY", "TranslateX", "TranslateY"])
def test_geometric_random_sign_per_image(name):
    same = np.repeat(_test_images(batch=1), 32, axis=0)
    out = ops.OPS[name](same, 10.0).numpy()
    distinct = {o.tobytes() for o in out}
    # One random sign per image: both directions appear (probability 1 - 2^-31).
    assert len(distinct) == 2


def _pil_geometric(image, name, signed_m):
    pil = Image.fromarray(image)
    fill = (128, 128, 128)
    if name == "Rotate":
        return np.asarray(pil.rotate(signed_m * 30.0, fillcolor=fill))
    if name == "ShearX":
        data = (1, 0.3 * signed_m, 0, 0, 1, 0)
    elif name == "ShearY":
        data = (1, 0, 0, 0.3 * signed_m, 1, 0)
    elif name == "TranslateX":
        data = (1, 0, signed_m * ops.TRANSLATE_FRACTION * image.shape[1], 0, 1, 0)
    else:
        data = (1, 0, 0, 0, 1, signed_m * ops.TRANSLATE_FRACTION * image.shape[0])
    return np.asarray(pil.transform(pil.size, Image.AFFINE, data, fillcolor=fill))


@pytest.mark.parametrize("name", ["Rotate", "ShearX", "ShearY", "TranslateX", "TranslateY"])
def test_geometric_matches_pillow_one_of_two_signs(name):
    images = _test_images(batch=8)
    out = ops.OPS[name](images, 6.0).numpy()
    for image, got in zip(images, out, strict=True):
        agreement = max(np.mean(got == _pil_geometric(image, name, sign * 0.6)) for sign in (1, -1))
        # Nearest-neighbour sampling conventions differ on a few boundary pixels.
        assert agreement > 0.9, (name, agreement)


def test_translate_integer_shift_exact():
    images = _test_images(batch=8)
    magnitude = 10.0 * 4.0 / (ops.TRANSLATE_FRACTION * W)  # exactly 4 px
    out = ops.OPS["TranslateX"](images, magnitude).numpy()
    assert not np.array_equal(out, images)
    left = np.full_like(images, 128)
    left[:, :, :-4] = images[:, :, 4:]
    right = np.full_like(images, 128)
    right[:, :, 4:] = images[:, :, :-4]
    for got, a, b in zip(out, left, right, strict=True):
        assert np.array_equal(got, a) or np.array_equal(got, b)


def test_per_image_magnitude_vector():
    images = _test_images()
    magnitudes = np.array([0.0, 10.0, 2.0, 5.0, 8.0, 3.0], np.float32)
    batched = ops.OPS["Brightness"](images, magnitudes).numpy()
    for i, m in enumerate(magnitudes):
        single = ops.OPS["Brightness"](images[i : i + 1], float(m)).numpy()
        np.testing.assert_array_equal(batched[i : i + 1], single)
    rotated = ops.OPS["Rotate"](images, tf.constant(magnitudes)).numpy()
    np.testing.assert_array_equal(rotated[0], images[0])
    assert not np.array_equal(rotated[1], images[1])


def test_cutout_square_size_and_location_per_image():
    images = np.zeros((32, 56, 56, 1), np.uint8)
    out = ops.OPS["Cutout"](images, 10.0).numpy()[..., 0]
    half = int(ops.CUTOUT_FRACTION * 56)  # 10 px half-side at magnitude 10
    masks = out == 128
    sizes = masks.sum(axis=(1, 2))
    assert sizes.max() == (2 * half) ** 2 and sizes.min() > 0
    centres = {tuple(np.argwhere(m).mean(axis=0).round()) for m in masks}
    assert len(centres) > 20


def test_apply_per_image_matches_single_ops():
    images = _test_images(batch=12)
    names = ["Identity", *ops._LUT_OPS, *ops._BLEND_OPS]
    op_index = np.arange(12) % len(names)
    magnitudes = np.linspace(1.0, 9.0, 12).astype(np.float32)
    fused = ops.apply_per_image(
        ops.to_float255(tf.constant(images)), op_index, magnitudes, names, quantized=True
    )
    fused = ops.from_float255(fused, tf.uint8).numpy()
    for i in range(12):
        single = ops.OPS[names[op_index[i]]](images[i : i + 1], float(magnitudes[i])).numpy()
        np.testing.assert_array_equal(fused[i], single[0], err_msg=names[op_index[i]])


def test_flip_and_pad_crop():
    images = _test_images(batch=16)
    flipped = ops.random_flip_left_right(images, p=1.0).numpy()
    np.testing.assert_array_equal(flipped, images[:, :, ::-1])
    np.testing.assert_array_equal(ops.random_flip_left_right(images, p=0.0).numpy(), images)
    np.testing.assert_array_equal(ops.random_flip_up_down(images, p=1.0).numpy(), images[:, ::-1])
    cropped = ops.random_pad_crop(images, pad_fraction=0.25).numpy()
    ph, pw = round(0.25 * H), round(0.25 * W)
    padded = np.pad(images, [(0, 0), (ph, ph), (pw, pw), (0, 0)], mode="reflect")
    offsets = set()
    for i in range(16):
        matches = [
            (dy, dx)
            for dy in range(2 * ph + 1)
            for dx in range(2 * pw + 1)
            if np.array_equal(padded[i, dy : dy + H, dx : dx + W], cropped[i])
        ]
        assert matches, "crop is not a window of the reflect-padded image"
        offsets.add(matches[0])
    assert len(offsets) > 4


def test_random_resized_crop_and_grayscale():
    images = _test_images(batch=8)
    out = ops.random_resized_crop(images, size=(10, 9))
    assert out.shape == (8, 10, 9, 3) and out.dtype == tf.uint8
    full = ops.random_resized_crop(_as_float(images), scale=(1.0, 1.0), ratio=(0.75, 0.75))
    # W / H = 0.75 is the only ratio that covers the whole image: an exact identity.
    np.testing.assert_allclose(full.numpy(), _as_float(images), atol=1e-5)
    gray = ops.random_grayscale(images, p=1.0).numpy()
    assert np.all(gray[..., 0] == gray[..., 1]) and np.all(gray[..., 1] == gray[..., 2])
    luma = np.round(images @ np.array([0.299, 0.587, 0.114]))
    np.testing.assert_allclose(gray[..., 0], luma, atol=1)


def test_color_jitter_and_blur():
    images = _as_float(_test_images(batch=16))
    np.testing.assert_allclose(ops.color_jitter(images, p=0.0).numpy(), images, atol=1e-6)
    jittered = ops.color_jitter(images, strength=1.0, p=1.0).numpy()
    assert jittered.min() >= 0 and jittered.max() <= 1
    changes = np.abs(jittered - images).mean(axis=(1, 2, 3))
    assert np.all(changes > 0) and len(np.unique(changes.round(5))) == 16
    np.testing.assert_allclose(ops.gaussian_blur(images, p=0.0).numpy(), images, atol=1e-6)
    blurred = ops.gaussian_blur(images, p=1.0, sigma=(2.0, 2.0)).numpy()
    # Blurring removes high-frequency energy but keeps the mean (reflect padding).
    assert np.abs(np.diff(blurred, axis=2)).mean() < np.abs(np.diff(images, axis=2)).mean()
    np.testing.assert_allclose(blurred.mean(), images.mean(), atol=0.02)


def test_extra_ops_in_tf_data():
    images = _test_images(batch=8)
    fns = [
        ops.random_flip_left_right,
        ops.random_pad_crop,
        lambda x: ops.random_resized_crop(x, size=(8, 8)),
        ops.color_jitter,
        ops.random_grayscale,
        ops.gaussian_blur,
        ops.cutout,
    ]
    for fn in fns:
        for data in (images, _as_float(images)):
            ds = tf.data.Dataset.from_tensor_slices(data).batch(4).map(fn)
            out = np.concatenate(list(ds.as_numpy_iterator()))
            assert out.dtype == data.dtype and out.shape[0] == 8


@pytest.mark.parametrize(
    "images, match",
    [
        (np.zeros((4, 4, 3), np.uint8), "rank 4"),
        (np.zeros((1, 4, 4, 4), np.uint8), "1 or 3 channels"),
        (np.zeros((1, 4, 4, 3), np.int32), "dtype int32"),
        (np.zeros((1, 4, 4, 3), np.float64), "dtype float64"),
    ],
)
def test_bad_images(images, match):
    with pytest.raises(ValueError, match=match):
        ops.OPS["Rotate"](images, 5.0)


def test_bad_magnitude_name_probability():
    images = _test_images()
    with pytest.raises(ValueError, match="magnitude must be in"):
        ops.OPS["Rotate"](images, 11.0)
    with pytest.raises(ValueError, match=r"-1\.0"):
        ops.OPS["Rotate"](images, [-1.0, 1, 1, 1, 1, 1])
    with pytest.raises(ValueError, match="one value per image"):
        ops.OPS["Rotate"](images, [1.0, 2.0])
    with pytest.raises(ValueError, match="unknown augmentation op 'Rotat'"):
        ops.apply_op(images, "Rotat", 3.0)
    with pytest.raises(ValueError, match="p must be in"):
        ops.random_flip_left_right(images, p=1.5)
    with pytest.raises(ValueError, match="unknown argument"):
        ops.apply_op(images, "Rotate", 3.0, angle=4)


def test_apply_per_image_with_empty_groups():
    # One image and 17 ops: 16 groups are empty in every call and must stay well-shaped.
    image = _test_images(batch=1)
    for k, name in enumerate(ops.OP_NAMES):
        out = ops.apply_per_image(
            ops.to_float255(tf.constant(image)), [k], [6.0], ops.OP_NAMES, quantized=True
        )
        assert out.shape == image.shape, name
        if name not in ops._GEOMETRIC_OPS + ("Cutout",):
            single = ops.OPS[name](image, 6.0).numpy()
            np.testing.assert_array_equal(ops.from_float255(out, tf.uint8).numpy(), single)


@pytest.mark.parametrize("name", ops.OP_NAMES)
def test_ops_compile_with_xla(name):
    images = _test_images(batch=2)
    compiled = tf.function(lambda x: ops.OPS[name](x, 7.0), jit_compile=True)
    out = compiled(images).numpy()
    if name not in ops._GEOMETRIC_OPS + ("Cutout",):
        # XLA may fuse float arithmetic differently: truncation can move by one level.
        expected = ops.OPS[name](images, 7.0).numpy().astype(int)
        assert np.abs(out.astype(int) - expected).max() <= 1


def test_warp_affine_nearest_matches_image_projective_transform():
    rng = np.random.default_rng(1)
    x = tf.constant(rng.uniform(0, 255, (32, 9, 11, 3)).astype(np.float32))
    theta = rng.uniform(-0.6, 0.6, 32)
    cos, sin = np.cos(theta), np.sin(theta)
    affine = np.stack(
        [
            cos,
            -sin + rng.uniform(-0.3, 0.3, 32),
            rng.uniform(-4, 4, 32),
            sin,
            cos,
            rng.uniform(-4, 4, 32),
        ],
        axis=1,
    ).astype(np.float32)
    full = np.concatenate([affine, np.zeros((32, 2), np.float32)], axis=1)
    expected = ops.projective_transform(x, full).numpy()
    got = ops.warp_affine_nearest(x, affine).numpy()
    assert np.mean(got == expected) > 0.999


def test_intensity_jitter_is_a_per_image_affine_map():
    """Each image is mapped by x -> (x - mean) * f + mean + d with its own f and d, in
    the stated ranges; strength 0 is the identity; a bad strength is refused."""
    rng = np.random.RandomState(0)
    x = rng.uniform(0.3, 0.7, size=(64, 5, 5, 1)).astype("f4")  # no clipping at s = 0.4
    tf.random.set_seed(0)
    y = ops.intensity_jitter(x, 0.4).numpy()
    m = x.mean(axis=(1, 2, 3), keepdims=True)
    # Recover f and d per image by least squares on y = f * (x - m) + (m + d).
    factors, shifts = [], []
    for xi, yi, mi in zip(x, y, m, strict=True):
        a = np.stack([(xi - mi).ravel(), np.ones(xi.size)], 1)
        (f, c), res, *_ = np.linalg.lstsq(a, yi.ravel(), rcond=None)
        np.testing.assert_allclose(a @ [f, c], yi.ravel(), atol=1e-5)
        factors.append(f)
        shifts.append(c - mi.item())
    factors, shifts = np.array(factors), np.array(shifts)
    assert factors.min() >= 0.6 - 1e-5 and factors.max() <= 1.4 + 1e-5
    assert np.abs(shifts).max() <= 0.2 + 1e-5
    assert factors.std() > 0.1 and shifts.std() > 0.05  # drawn per image
    np.testing.assert_allclose(ops.intensity_jitter(x, 0.0).numpy(), x, atol=1e-6)
    assert ops.intensity_jitter(np.ones((2, 4, 4, 1), "f4"), 1.0).numpy().max() <= 1.0
    with pytest.raises(ValueError, match="strength"):
        ops.intensity_jitter(x, 1.5)

"""SLA transformation sets: contents, order, products, and the errors on bad sets."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from tfless.augment import label_transforms as lt

IMAGES = np.random.RandomState(0).rand(2, 4, 4, 3).astype("float32")


def _copies(name, images=IMAGES):
    ts = lt.get_transform_set(name)
    out = np.asarray(ts.expand(tf.constant(images)))
    return out.reshape(len(images), ts.size, *images.shape[1:])


def test_sizes_of_the_paper_sets():
    sizes = {name: s.size for name, s in lt.TRANSFORM_SETS.items()}
    assert sizes == {
        "rotation": 4,
        "rotation2": 2,
        "color_perm": 6,
        "color_perm3": 3,
        "rot_color_perm6": 6,
        "rot_color_perm12": 12,
        "rot_color_perm24": 24,
    }


def test_rotation_copies_are_interleaved_counter_clockwise_turns():
    out = _copies("rotation")
    for b, k in itertools.product(range(2), range(4)):
        np.testing.assert_array_equal(out[b, k], np.rot90(IMAGES[b], k, axes=(0, 1)))
    out2 = _copies("rotation2")
    np.testing.assert_array_equal(out2[:, 1], np.rot90(IMAGES, 2, axes=(1, 2)))


def test_colour_permutations_in_label_order():
    out = _copies("color_perm")
    for j, order in enumerate(itertools.permutations(range(3))):
        np.testing.assert_array_equal(out[:, j], IMAGES[..., list(order)])
    out3 = _copies("color_perm3")
    for j, order in enumerate([(0, 1, 2), (1, 2, 0), (2, 0, 1)]):
        np.testing.assert_array_equal(out3[:, j], IMAGES[..., list(order)])


def test_products_rotate_then_permute_with_colour_fastest():
    out = _copies("rot_color_perm12")
    for k, (c, order) in itertools.product(range(4), enumerate(lt.CYCLIC_COLOR_PERMUTATIONS)):
        ref = np.rot90(IMAGES, k, axes=(1, 2))[..., list(order)]
        np.testing.assert_array_equal(out[:, k * 3 + c], ref)
    out6 = _copies("rot_color_perm6")
    np.testing.assert_array_equal(out6[:, 4], np.rot90(IMAGES, 2, axes=(1, 2))[..., [1, 2, 0]])
    composed = lt.compose("rotation", "color_perm")
    assert composed.transforms == lt.TRANSFORM_SETS["rot_color_perm24"].transforms
    assert lt.get_transform_set("rotation x color_perm3").size == 12
    assert (lt.TRANSFORM_SETS["rotation2"] * lt.TRANSFORM_SETS["color_perm"]).size == 12


def test_expand_runs_inside_tf_data():
    ts = lt.get_transform_set("rotation")
    ds = tf.data.Dataset.from_tensors(IMAGES).map(ts.expand)
    np.testing.assert_array_equal(next(iter(ds)).numpy(), _copies("rotation").reshape(8, 4, 4, 3))


def test_bad_sets_raise_clear_errors():
    with pytest.raises(ValueError, match=r"Unknown transformation set 'rotate'.*'rotation'"):
        lt.get_transform_set("rotate")
    with pytest.raises(ValueError, match=r"has duplicate transformations at positions \[\(0, 2\)"):
        lt.TransformSet("dup", (lt.Transform(0), lt.Transform(2), lt.Transform(4)))
    with pytest.raises(ValueError, match="duplicate"):
        lt.compose("rotation", "rotation2")  # 0+0 and 2+2 turns coincide
    with pytest.raises(ValueError, match=r"has M = 1; SLA needs M >= 2"):
        lt.TransformSet("one", (lt.Transform(0),))
    with pytest.raises(ValueError, match="must be the identity"):
        lt.TransformSet("no_id", (lt.Transform(1), lt.Transform(2)))
    with pytest.raises(ValueError, match=r"'color_perm3' permutes colour channels.*1 channel"):
        lt.get_transform_set("color_perm3").check_image_shape((8, 8, 1))
    with pytest.raises(ValueError, match=r"'rotation' rotates by 90 degrees.*8x6"):
        lt.get_transform_set("rotation").check_image_shape((8, 6, 1))
    lt.get_transform_set("rotation2").check_image_shape((8, 6, 1))

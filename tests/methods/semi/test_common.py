import pytest
import tensorflow as tf

from tfless.methods import METHODS
from tfless.methods.semi import SEMI_METHODS, FixMatch, check_semi_batch, validate_threshold


def test_registry():
    assert set(SEMI_METHODS) >= {
        "pseudo_label",
        "mean_teacher",
        "vat",
        "mixmatch",
        "fixmatch",
        "label_propagation",
    }
    for name, cls in SEMI_METHODS.items():
        assert METHODS[name] is cls


def test_threshold_validation():
    assert validate_threshold(0.95) == 0.95
    for bad in (0.0, 1.0, -0.2, 1.2):
        with pytest.raises(ValueError, match="threshold must be in \\(0, 1\\)"):
            validate_threshold(bad)


def test_unlabeled_images_of_another_shape_are_rejected(semi):
    lab = {"image": tf.zeros([2, 8, 8, 1]), "label": tf.zeros([2], tf.int32)}
    unl = {"image_weak": tf.zeros([4, 16, 16, 1]), "image_strong": tf.zeros([4, 16, 16, 1])}
    batch = {"labeled": lab, "unlabeled": unl}
    with pytest.raises(ValueError, match=r"'image_weak'\] have shape \(16, 16, 1\); expected"):
        check_semi_batch(batch, ("image_weak", "image_strong"))
    model = FixMatch(semi.tiny_encoder(), num_classes=10)
    # fit traces compute_loss first, so the error comes before any training step.
    ds = tf.data.Dataset.from_tensors(batch).repeat()
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="expected the labeled images' shape \\(8, 8, 1\\)"):
        model.fit(ds, steps_per_epoch=1, verbose=0)
    views = {"views": (tf.zeros([4, 8, 8, 1]), tf.zeros([4, 8, 8, 3]))}
    with pytest.raises(ValueError, match=r"'views\[1\]'"):
        check_semi_batch({"labeled": lab, "unlabeled": views}, ("views",))
    with pytest.raises(ValueError, match="lacks 'image_strong'"):
        only_weak = {"labeled": lab, "unlabeled": {"image_weak": tf.zeros([4, 8, 8, 1])}}
        check_semi_batch(only_weak, ("image_weak", "image_strong"))
    with pytest.raises(ValueError, match="Expected a semi-supervised batch"):
        check_semi_batch(lab, ("image_weak",))

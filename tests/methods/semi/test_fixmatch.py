import keras
import numpy as np
import pytest

from tests.testing import first_batch, run_mirrored_equivalence
from tfless.methods.semi import FixMatch


def _fit(semi, model, steps, epochs=1, **kw):
    ds, _ = semi.make_semi_dataset(semi.views_weak_strong, **kw)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    return model.fit(ds, steps_per_epoch=steps, epochs=epochs, verbose=0).history


def test_fixmatch_learns_and_reports_mask_rate(semi):
    keras.utils.set_random_seed(0)
    model = FixMatch(semi.tiny_encoder(), num_classes=10, threshold=0.7, weight_decay=0.0)
    hist = _fit(semi, model, steps=25, epochs=3, batch=20, mu=3)
    assert hist["labeled_loss"][-1] < 0.5 * hist["labeled_loss"][0]
    # Confidence grows as the model learns, so more pseudo-labels pass the threshold.
    assert 0.0 <= hist["mask_rate"][0] < hist["mask_rate"][-1] <= 1.0
    assert hist["mask_rate"][-1] > 0.2
    # Confident pseudo-labels are far better than chance (0.1) on digits.
    assert hist["pseudo_label_accuracy"][-1] > 0.6
    assert hist["unlabeled_loss"][-1] > 0.0
    acc = model.evaluate(semi.digits_test_dataset(), verbose=0, return_dict=True)["accuracy"]
    assert acc > 0.5


def test_fixmatch_unlabeled_loss_matches_reference(semi):
    """The unlabeled term equals a NumPy computation from the model's own logits."""
    keras.utils.set_random_seed(1)
    model = FixMatch(semi.tiny_encoder(), num_classes=10, threshold=0.15, weight_decay=0.0)
    ds, _ = semi.make_semi_dataset(semi.views_weak_strong, batch=8, mu=2)
    batch = next(iter(ds))
    loss = float(model.compute_loss(x=batch, training=False))
    lab, unl = batch["labeled"], batch["unlabeled"]

    def probs(images):
        z = np.asarray(model.logits(images, training=False), np.float64)
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    p_x, p_w, p_s = probs(lab["image"]), probs(unl["image_weak"]), probs(unl["image_strong"])
    y = np.asarray(lab["label"])
    ref_x = -np.mean(np.log(p_x[np.arange(len(y)), y]))
    pseudo, mask = p_w.argmax(1), (p_w.max(1) >= 0.15).astype(float)
    ref_u = np.mean(mask * -np.log(p_s[np.arange(len(pseudo)), pseudo]))
    assert loss == pytest.approx(ref_x + ref_u, rel=1e-4)


def test_fixmatch_bad_input(semi):
    enc = semi.tiny_encoder()
    for bad in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="threshold must be in \\(0, 1\\); got"):
            FixMatch(enc, num_classes=10, threshold=bad)
    with pytest.raises(ValueError, match="lambda_u"):
        FixMatch(enc, num_classes=10, lambda_u=-1.0)


def test_fixmatch_two_replicas_train_as_one(semi, mirrored_strategy):
    # A low threshold so the step has confident pseudo-labels to learn from.
    ds, _ = semi.make_semi_dataset(semi.views_weak_strong, batch=8, mu=2)
    _, _, hist, _ = run_mirrored_equivalence(
        lambda: FixMatch(semi.tiny_encoder(), num_classes=10, threshold=0.12),
        first_batch(ds),
        mirrored_strategy,
        steps=2,
        optimizer_fn=lambda: keras.optimizers.SGD(0.03, momentum=0.9, nesterov=True),
        keys=("loss", "labeled_loss", "unlabeled_loss", "mask_rate"),
    )
    assert min(hist["mask_rate"]) > 0  # the unlabeled term took part


def _one_hot_logits_model(cls, **kwargs):
    """A 3-class model whose logits are 10x the 1x1x3 input pixel: predictions set by hand."""
    inputs = keras.Input((1, 1, 3))
    encoder = keras.Model(inputs, keras.layers.Flatten()(inputs))
    model = cls(encoder, num_classes=3, weight_decay=0.0, **kwargs)
    model.head.set_weights([10.0 * np.eye(3, dtype="float32"), np.zeros(3, "float32")])
    return model


def test_pseudo_label_accuracy_skips_images_without_a_label():
    # Weak views predict classes 0, 1, 2 with p > 0.999 and the last one uniformly (1/3 <
    # 0.95: masked out). True labels 0, 2, -1 (no label, STL-10's unlabelled split), 0.
    # Passing images with a label: #0 right, #1 wrong -> accuracy 1/2 (1/3 if -1 counted).
    model = _one_hot_logits_model(FixMatch, threshold=0.95)
    weak = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]], "float32").reshape(4, 1, 1, 3)
    batch = {
        "labeled": {"image": weak[:1], "label": np.array([0], "int32")},
        "unlabeled": {
            "image_weak": weak,
            "image_strong": weak,
            "true_label": np.array([0, 2, -1, 0], "int32"),
        },
    }
    model.compute_loss(x=batch, training=False)
    assert float(model.mask_rate_tracker.result()) == pytest.approx(3 / 4)
    assert float(model.pseudo_label_accuracy_tracker.result()) == pytest.approx(1 / 2)

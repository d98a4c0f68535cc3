import keras
import numpy as np
import pytest

from tests.testing import first_batch, run_mirrored_equivalence
from tfless.methods.semi import PseudoLabel


def test_pseudo_label_learns(semi):
    keras.utils.set_random_seed(0)
    model = PseudoLabel(
        semi.tiny_encoder(), num_classes=10, threshold=0.7, rampup_start=10, rampup_end=40
    )
    ds, _ = semi.make_semi_dataset(semi.views_single, batch=20, mu=3)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    hist = model.fit(ds, steps_per_epoch=25, epochs=3, verbose=0).history
    assert hist["labeled_loss"][-1] < 0.5 * hist["labeled_loss"][0]
    assert hist["mask_rate"][-1] > hist["mask_rate"][0]
    assert hist["pseudo_label_accuracy"][-1] > 0.6
    acc = model.evaluate(semi.digits_test_dataset(), verbose=0, return_dict=True)["accuracy"]
    assert acc > 0.5


def test_pseudo_label_weight_is_zero_before_rampup_start(semi):
    model = PseudoLabel(semi.tiny_encoder(), num_classes=10, threshold=0.01, rampup_start=5)
    ds, _ = semi.make_semi_dataset(semi.views_single, batch=8, mu=2)
    batch = next(iter(ds))
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    # At step 0 the loss is the labeled cross-entropy only.
    loss = float(model.compute_loss(x=batch, training=False))
    assert loss == pytest.approx(float(model.labeled_loss_tracker.result()), rel=1e-5)
    assert float(model.unlabeled_loss_tracker.result()) > 0


def test_pseudo_label_bad_input(semi):
    enc = semi.tiny_encoder()
    for bad in (1.0, -0.5, 2.0):
        with pytest.raises(ValueError, match="threshold must be in \\[0, 1\\)"):
            PseudoLabel(enc, num_classes=10, threshold=bad)
    with pytest.raises(ValueError, match="rampup_start <= rampup_end"):
        PseudoLabel(enc, num_classes=10, rampup_start=10, rampup_end=5)


def test_pseudo_label_two_replicas_train_as_one(semi, mirrored_strategy):
    ds, _ = semi.make_semi_dataset(semi.views_single, batch=8, mu=2)
    _, _, hist, _ = run_mirrored_equivalence(
        lambda: PseudoLabel(
            semi.tiny_encoder(), num_classes=10, threshold=0.12, rampup_start=0, rampup_end=1
        ),
        first_batch(ds),
        mirrored_strategy,
        steps=2,
        optimizer_fn=lambda: keras.optimizers.SGD(0.03, momentum=0.9),
        keys=("loss", "labeled_loss", "unlabeled_loss", "mask_rate"),
    )
    assert min(hist["mask_rate"]) > 0  # the unlabeled term took part


def test_pseudo_label_accuracy_skips_images_without_a_label():
    # A 3-class model whose logits are 10x the 1x1x3 pixel. Unlabeled images predict 0, 1,
    # 2 confidently and the last one uniformly (masked out); true labels 0, 2, -1 (no
    # label), 0 -> one right, one wrong among the scored ones: 1/2 (1/3 if -1 counted).
    inputs = keras.Input((1, 1, 3))
    encoder = keras.Model(inputs, keras.layers.Flatten()(inputs))
    model = PseudoLabel(encoder, num_classes=3, threshold=0.95, weight_decay=0.0)
    model.head.set_weights([10.0 * np.eye(3, dtype="float32"), np.zeros(3, "float32")])
    images = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]], "float32").reshape(4, 1, 1, 3)
    batch = {
        "labeled": {"image": images[:1], "label": np.array([0], "int32")},
        "unlabeled": {"image": images, "true_label": np.array([0, 2, -1, 0], "int32")},
    }
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    model.compute_loss(x=batch, training=False)
    assert float(model.mask_rate_tracker.result()) == pytest.approx(3 / 4)
    assert float(model.pseudo_label_accuracy_tracker.result()) == pytest.approx(1 / 2)

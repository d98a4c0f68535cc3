import keras
import numpy as np
import pytest

from tests.testing import first_batch, replica_values, run_mirrored_equivalence
from tfless.methods.semi import LabelPropagation, LabelPropagationCallback


def _model_and_data(semi, **kw):
    ds, (x, y, lab_idx) = semi.make_semi_dataset(semi.views_single, with_index=True, **kw)
    model = LabelPropagation(semi.tiny_encoder(), num_classes=10, num_examples=len(y), k=10)
    callback = LabelPropagationCallback(x, y, lab_idx)
    return model, ds, callback


def test_label_propagation_learns_and_diffuses(semi):
    keras.utils.set_random_seed(0)
    model, ds, callback = _model_and_data(semi, batch=20, mu=2)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    hist = model.fit(ds, steps_per_epoch=25, epochs=3, verbose=0, callbacks=[callback]).history
    assert hist["labeled_loss"][-1] < 0.5 * hist["labeled_loss"][0]
    # Epoch 1 trains on labels only (no certainty yet); later epochs use the diffusion.
    assert hist["unlabeled_loss"][0] == 0.0 and hist["unlabeled_loss"][-1] > 0.0
    # Diffused labels of the unlabeled images are far above chance (0.1).
    assert min(hist["diffusion_accuracy"]) > 0.5
    assert hist["pseudo_label_accuracy"][-1] > 0.5
    acc = model.evaluate(semi.digits_test_dataset(), verbose=0, return_dict=True)["accuracy"]
    assert acc > 0.5


def test_label_propagation_loss_uses_certainty_and_class_weights(semi):
    model, ds, _ = _model_and_data(semi, batch=4, mu=2)
    batch = next(iter(ds))
    n = model.num_examples
    rng = np.random.default_rng(0)
    pseudo = rng.integers(0, 10, n)
    cert = rng.uniform(size=n).astype(np.float32)
    cw = rng.uniform(0.5, 2.0, size=10).astype(np.float32)
    model.set_pseudo_labels(pseudo, cert, cw)
    loss = float(model.compute_loss(x=batch, training=False))

    def xent(images, labels):
        z = np.asarray(model.logits(images, training=False), np.float64)
        z = z - z.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        return -logp[np.arange(len(labels)), labels]

    y = batch["labeled"]["label"].numpy()
    idx = batch["unlabeled"]["index"].numpy()
    ref = np.mean(cw[y] * xent(batch["labeled"]["image"], y)) + np.mean(
        cert[idx] * cw[pseudo[idx]] * xent(batch["unlabeled"]["image"], pseudo[idx])
    )
    assert loss == pytest.approx(ref, rel=1e-4)


def test_label_propagation_bad_input(semi):
    enc = semi.tiny_encoder()
    with pytest.raises(ValueError, match="alpha must be in \\(0, 1\\); got 1.0"):
        LabelPropagation(enc, num_classes=10, num_examples=100, alpha=1.0)
    model = LabelPropagation(enc, num_classes=10, num_examples=100)
    ds, _ = semi.make_semi_dataset(semi.views_single, batch=4, mu=1)  # no index
    with pytest.raises(ValueError, match="lacks 'index'"):
        model.compute_loss(x=next(iter(ds)))


def test_label_propagation_two_replicas_train_as_one(semi, mirrored_strategy):
    # Two epochs of one step: the second uses the labels diffused after the first.
    ds, (x, y, lab_idx) = semi.make_semi_dataset(semi.views_single, batch=8, mu=2, with_index=True)
    one, two, _, _ = run_mirrored_equivalence(
        lambda: LabelPropagation(semi.tiny_encoder(), num_classes=10, num_examples=len(y), k=10),
        first_batch(ds),
        mirrored_strategy,
        steps=2,
        optimizer_fn=lambda: keras.optimizers.SGD(0.03, momentum=0.9),
        callbacks_fn=lambda method: [LabelPropagationCallback(x, y, lab_idx)],
        keys=("loss", "labeled_loss", "unlabeled_loss"),
    )
    for v in (two.pseudo_labels, two.certainty, two.class_weights):
        a, b = replica_values(v)
        np.testing.assert_array_equal(a, b)
    assert replica_values(two.certainty)[0].max() > 0
    np.testing.assert_array_equal(replica_values(two.pseudo_labels)[0], one.pseudo_labels.numpy())


def test_label_propagation_skips_unlabeled_true_labels_and_refuses_extra_splits(semi):
    model, ds, _ = _model_and_data(semi, batch=4, mu=2)
    batch = next(iter(ds))
    idx = batch["unlabeled"]["index"].numpy()
    true = batch["unlabeled"]["true_label"].numpy().copy()
    # Pseudo-labels: right for the first 4 unlabeled images, wrong for the last 4; the
    # wrong ones get true_label -1 (no label), so they are not scored: accuracy 1.
    pseudo = np.zeros(model.num_examples, np.int64)
    pseudo[idx[:4]] = true[:4]
    pseudo[idx[4:]] = (true[4:] + 1) % 10
    model.set_pseudo_labels(pseudo, np.ones(model.num_examples, np.float32), np.ones(10))
    true[4:] = -1
    unlabeled = dict(batch["unlabeled"], true_label=true)
    model.compute_loss(x={"labeled": batch["labeled"], "unlabeled": unlabeled}, training=False)
    assert float(model.pseudo_label_accuracy_tracker.result()) == pytest.approx(1.0)

    # Extra unlabeled splits come without ``index`` (the data pipeline refuses them
    # together with with_index), and a batch without it is refused before training.
    without_index = {k: v for k, v in batch["unlabeled"].items() if k != "index"}
    with pytest.raises(ValueError, match=r"lacks \['unlabeled/index'\]"):
        model.check_inputs({"labeled": batch["labeled"], "unlabeled": without_index})

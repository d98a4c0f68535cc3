import keras
import numpy as np
import pytest

from tests.testing import first_batch, replica_values, run_mirrored_equivalence
from tfless.methods.semi import MeanTeacher


def test_mean_teacher_learns_and_teacher_follows(semi):
    keras.utils.set_random_seed(0)
    # A short EMA horizon: with the paper's 0.99/0.999 the teacher would still average the
    # untrained start after these few dozen steps.
    model = MeanTeacher(
        semi.tiny_encoder(),
        num_classes=10,
        consistency_weight=10.0,
        rampup_steps=30,
        ema_decay=0.9,
        ema_decay_rampup=0.9,
    )
    ds, _ = semi.make_semi_dataset(semi.views_multi_weak(2), batch=20, mu=2)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    hist = model.fit(ds, steps_per_epoch=25, epochs=3, verbose=0).history
    assert hist["labeled_loss"][-1] < 0.5 * hist["labeled_loss"][0]
    assert hist["consistency_weight"][0] < hist["consistency_weight"][-1] <= 10.0
    test = semi.digits_test_dataset()
    acc = model.evaluate(test, verbose=0, return_dict=True)["accuracy"]
    assert acc > 0.5
    # The teacher (EMA of the student) classifies well too.
    batch = next(iter(test))
    teacher_acc = np.mean(
        np.argmax(model.teacher(batch["image"], training=False), -1) == batch["label"].numpy()
    )
    assert teacher_acc > 0.5


def test_teacher_is_the_ema_of_the_student(semi):
    model = MeanTeacher(semi.tiny_encoder(), num_classes=10, rampup_steps=0, ema_decay=0.9)
    ds, _ = semi.make_semi_dataset(semi.views_multi_weak(2), batch=8, mu=2)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0)  # step 0: decay min(0.9, 0) = 0
    kernel = model.head.kernel.numpy()
    teacher_kernel = model.teacher.network.weights[-2].numpy()
    np.testing.assert_allclose(teacher_kernel, kernel, rtol=1e-6)
    before = teacher_kernel.copy()
    model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0)  # step 1: decay min(0.9, 0.5) = 0.5
    np.testing.assert_allclose(
        model.teacher.network.weights[-2].numpy(),
        0.5 * before + 0.5 * model.head.kernel.numpy(),
        rtol=1e-5,
    )


def test_mean_teacher_bad_input(semi):
    enc = semi.tiny_encoder()
    with pytest.raises(ValueError, match="ema_decay must be in \\[0, 1\\); got 1.5"):
        MeanTeacher(enc, num_classes=10, ema_decay=1.5)
    model = MeanTeacher(semi.tiny_encoder(), num_classes=10)
    ds, _ = semi.make_semi_dataset(semi.views_multi_weak(1), batch=4, mu=1)
    with pytest.raises(ValueError, match="needs >= 2 unlabeled views"):
        model.compute_loss(x=next(iter(ds)))


def test_mean_teacher_two_replicas_train_as_one_teacher_identical(semi, mirrored_strategy):
    ds, _ = semi.make_semi_dataset(semi.views_multi_weak(2), batch=8, mu=2)
    one, model, _, _ = run_mirrored_equivalence(
        lambda: MeanTeacher(semi.tiny_encoder(), num_classes=10, rampup_steps=0),
        first_batch(ds),
        mirrored_strategy,
        steps=2,
        optimizer_fn=lambda: keras.optimizers.SGD(0.1, momentum=0.9),
        keys=("loss", "labeled_loss"),
    )
    # Batch-norm moving statistics are per replica in Keras (the student's are not
    # aggregated either), so compare the weights that follow trainable student weights.
    student = model.teacher.source.weights
    followed = [t for t, s in zip(model.teacher.network.weights, student) if s.trainable]
    assert len(followed) == len(model.trainable_variables)
    for v in followed:
        a, b = replica_values(v)
        np.testing.assert_array_equal(a, b)
    # Two steps: the teacher is halfway between the student after step 0 and after step 1.
    a, _ = replica_values(model.teacher.network.weights[-2])
    s, _ = replica_values(model.head.kernel)
    assert 0 < np.abs(a - s).max() < np.abs(s).max()

"""Neural Rendering Model: shared kernels, the RPN term by hand, and that it learns."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import digits_images
from tfless.backbones import allconv, convnet
from tfless.data import digits_arrays
from tfless.losses import adversarial
from tfless.methods import METHODS
from tfless.methods.generative import NRM


def _nrm(shape=(8, 8, 1), layers=(8, "M", 16), **kwargs):
    keras.utils.set_random_seed(0)
    return NRM(allconv(shape, layers=layers), num_classes=10, **kwargs)


def test_reconstruction_gradient_reaches_the_shared_kernels():
    method = _nrm()
    assert METHODS["nrm"] is NRM
    # The rendering path owns no weights: the encoder's and the head's are all there is.
    own = {id(v) for v in method.encoder.trainable_variables + method.head.trainable_variables}
    assert {id(v) for v in method.trainable_variables} == own
    x = digits_images(8, n=4)
    kernels = [la.kernel for la in method.encoder.layers if isinstance(la, keras.layers.Conv2D)]
    with tf.GradientTape() as tape:
        _, rendering, _ = method.render(x, labels=np.arange(4))
        loss = adversarial.reconstruction_loss(x, rendering)
    assert rendering.shape == x.shape
    grads = tape.gradient(loss, kernels + [method.head.kernel])
    assert all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)


def test_rendering_path_normalization_matches_a_hand_computation():
    # One 3x3 conv (1 -> 2 channels) on 4x4 images, GAP, a 3-class head.
    keras.utils.set_random_seed(1)
    method = NRM(allconv((4, 4, 1), layers=(2,)), num_classes=3, rpn_weight=1.0)
    conv = method.encoder.get_layer("conv0")
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(3, 3, 1, 2)).astype(np.float32)
    bias = np.array([0.3, -0.2], np.float32)
    conv.set_weights([kernel, bias])
    head = method.head.kernel.numpy()  # [2, 3]
    x = rng.uniform(size=(2, 4, 4, 1)).astype(np.float32)
    labels = np.array([2, 0])

    padded = np.pad(x[..., 0], ((0, 0), (1, 1), (1, 1)))
    pre = np.zeros((2, 4, 4, 2), np.float32)
    for i in range(4):
        for j in range(4):
            patch = padded[:, i : i + 3, j : j + 3]
            pre[:, i, j] = np.einsum("bhw,hwc->bc", patch, kernel[..., 0, :]) + bias
    mask = np.where(pre > 0, 1.0, 0.1)
    mask_zero = np.where(bias > 0, 1.0, 0.1)  # a zero image's pre-activation is the bias
    mu = np.eye(3)[labels] @ head.T  # [2, 2]
    mu = np.broadcast_to(mu[:, None, None, :] / 16.0, (2, 4, 4, 2)) * mask
    mu_pn = np.broadcast_to((np.ones(3) @ head.T) / 16.0, (2, 4, 4, 2)) * mask_zero
    want = np.mean(np.abs(bias * mu - bias * mu_pn))

    _, _, rpn = method.render(x, labels=labels)
    np.testing.assert_allclose(float(rpn), want, rtol=1e-5)


def test_learns_semi_supervised_and_reconstructs_better():
    method = _nrm(layers=(16, "M", 32))
    x, y = digits_arrays("train")
    labeled = np.concatenate([np.flatnonzero(y == c)[:4] for c in range(10)])
    lab = tf.data.Dataset.from_tensor_slices({"image": x[labeled], "label": y[labeled]})
    unl = tf.data.Dataset.from_tensor_slices({"image": x})
    data = tf.data.Dataset.zip(
        lab.shuffle(40, seed=0).repeat().batch(20), unl.shuffle(1000, seed=1).repeat().batch(40)
    ).map(lambda a, b: {"labeled": a, "unlabeled": b})
    method.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    hist = method.fit(data, steps_per_epoch=20, epochs=4, verbose=0).history
    assert hist["reconstruction"][-1] < hist["reconstruction"][0], hist["reconstruction"]
    assert hist["loss"][-1] < hist["loss"][0], hist["loss"]
    tx, ty = digits_arrays("test")
    acc = np.mean(np.argmax(method.predict(tx, verbose=0), -1) == ty)
    assert acc > 0.3, acc  # chance is 0.1; 40 labels


def test_encoders_that_cannot_be_rendered_are_refused():
    with pytest.raises(ValueError, match="chain of Conv2D, LeakyReLU, MaxPooling2D"):
        NRM(convnet((8, 8, 1), widths=(4, 8)), num_classes=10)

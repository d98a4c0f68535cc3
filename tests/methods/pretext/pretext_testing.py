"""Helpers of the pretext-method tests: tiny digits data, short training, a mirrored step."""

import keras
import numpy as np
import tensorflow as tf

from tfless.backbones import build_backbone
from tfless.data import digits_arrays


def digits_images(size: int, channels: int = 1, split: str = "train", n: int = 512) -> np.ndarray:
    x, _ = digits_arrays(split)
    x = tf.image.resize(x[:n], (size, size), antialias=True).numpy().clip(0, 1)
    if channels == 3:
        x = np.repeat(x, 3, axis=-1)
    return x.astype(np.float32)


def tiny_encoder(size: int, channels: int = 1, widths=(16, 32)):
    return build_backbone("convnet", (size, size, channels), widths=widths)


def image_batches(images: np.ndarray, batch_size: int, seed: int = 0):
    ds = tf.data.Dataset.from_tensor_slices({"image": images})
    return ds.shuffle(len(images), seed=seed).repeat().batch(batch_size, drop_remainder=True)


def train(method, images, steps: int, batch_size: int = 32, lr: float = 3e-3, seed: int = 0):
    """Trains ``steps`` steps; returns the per-step history dict of lists."""
    keras.utils.set_random_seed(seed)
    method.compile(optimizer=keras.optimizers.Adam(lr), jit_compile=False)
    hist = method.fit(
        image_batches(images, batch_size, seed), steps_per_epoch=1, epochs=steps, verbose=0
    )
    return hist.history


def evaluate(method, images, batch_size: int = 64) -> dict:
    ds = tf.data.Dataset.from_tensor_slices({"image": images}).batch(batch_size)
    return method.evaluate(ds, verbose=0, return_dict=True)


def mirrored_strategy():
    """``MirroredStrategy`` over the two logical CPUs of ``tests/conftest.py``."""
    return tf.distribute.MirroredStrategy(
        ["/cpu:0", "/cpu:1"], cross_device_ops=tf.distribute.ReductionToOneDevice()
    )


def fit_one_mirrored_step(build_method, images, batch_size: int = 8) -> dict:
    """Builds the method under a two-CPU MirroredStrategy and runs one ``fit`` step."""
    # ReductionToOneDevice: several strategies built with collective all-reduce in one process
    # reuse collective instance keys, and TF then rejects the second one's different gradient
    # shapes ("Shape mismatch in the collective instance"). Replicas are still mirrored.
    strategy = mirrored_strategy()
    with strategy.scope():
        method = build_method()
        method.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    hist = method.fit(image_batches(images, batch_size), steps_per_epoch=1, epochs=1, verbose=0)
    return {k: v[-1] for k, v in hist.history.items()}

"""CycleGAN: the image pool's swap semantics, the schedule, the networks, and that it learns."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import digits_images
from tfless.backbones.cyclegan_nets import patch_discriminator, resnet_generator
from tfless.methods.generative import (
    ConstantThenLinearDecay,
    CycleGAN,
    CycleGANSamples,
    pool_query,
)


def _pool_reference(pool, count, images, uniforms, indices, p=0.5):
    pool, out = pool.copy(), []
    for image, u, j in zip(images, uniforms, indices):
        if count < len(pool):
            pool[count] = image
            count += 1
            out.append(image)
        elif u < p:
            out.append(pool[j].copy())
            pool[j] = image
        else:
            out.append(image)
    return np.stack(out), pool, count


@pytest.mark.parametrize("count", [0, 2, 4])
def test_pool_query_matches_the_official_semantics(count):
    rng = np.random.default_rng(count)
    pool = rng.normal(size=(4, 2, 2, 1)).astype(np.float32)
    images = rng.normal(size=(5, 2, 2, 1)).astype(np.float32)
    # Draws cover both sides of the swap and a slot picked twice.
    uniforms = np.array([0.9, 0.1, 0.2, 0.7, 0.4], np.float32)
    indices = np.array([1, 3, 3, 0, 2], np.int32)
    got = pool_query(tf.constant(pool), tf.constant(count), images, uniforms, indices)
    want = _pool_reference(pool, count, images, uniforms, indices)
    np.testing.assert_array_equal(got[0].numpy(), want[0])
    np.testing.assert_array_equal(got[1].numpy(), want[1])
    assert int(got[2]) == want[2]
    if count == 4:  # full: three swaps (u < 0.5), two images returned unchanged
        returned = got[0].numpy()
        assert sum(np.array_equal(r, i) for r, i in zip(returned, images)) == 2
        # Slot 3 is drawn twice: the second swap returns the image the first one stored.
        np.testing.assert_array_equal(returned[1], pool[3])
        np.testing.assert_array_equal(returned[2], images[1])


def test_schedule_is_constant_then_linear_to_zero():
    s = ConstantThenLinearDecay(2e-4, constant_steps=10, decay_steps=4)
    got = [float(s(i)) for i in (0, 10, 11, 12, 14, 20)]
    np.testing.assert_allclose(got, [2e-4, 2e-4, 1.5e-4, 1e-4, 0.0, 0.0], rtol=1e-6)
    with pytest.raises(ValueError, match="decay_steps >= 1"):
        ConstantThenLinearDecay(2e-4, 10, 0)


def test_networks_keep_the_image_shape_and_range():
    g = resnet_generator((16, 16, 1), filters=4, num_blocks=1)
    d = patch_discriminator((16, 16, 1), filters=4, num_layers=2)
    x = np.random.default_rng(0).uniform(size=(2, 16, 16, 1)).astype(np.float32)
    y = g(x).numpy()
    assert y.shape == x.shape and y.min() >= 0.0 and y.max() <= 1.0
    assert d(x).shape == (2, 4, 4, 1)
    norms = [la for la in g.layers if isinstance(la, keras.layers.GroupNormalization)]
    # groups=-1 resolves to one group per channel when built: instance normalization.
    assert norms and all(la.groups == la.input.shape[-1] for la in norms)
    with pytest.raises(ValueError, match="divisible by 2\\*\\*num_downsampling"):
        resnet_generator((18, 18, 1), num_downsampling=2)


def _cyclegan(shape=(8, 8, 1), **kwargs):
    keras.utils.set_random_seed(0)
    nets = dict(
        generator_ab=resnet_generator(shape, filters=8, num_downsampling=1, num_blocks=1),
        generator_ba=resnet_generator(shape, filters=8, num_downsampling=1, num_blocks=1),
        discriminator_a=patch_discriminator(shape, filters=8, num_layers=2),
        discriminator_b=patch_discriminator(shape, filters=8, num_layers=2),
    )
    return CycleGAN(**nets, **kwargs)


def _domains(n=64, batch=8, size=8):
    a = digits_images(size, n=n)
    b = 1.0 - digits_images(size, n=2 * n)[n:]  # inverted digits: an unpaired second domain
    ds = tf.data.Dataset.zip(
        tf.data.Dataset.from_tensor_slices(a).shuffle(n, seed=0).repeat().batch(batch),
        tf.data.Dataset.from_tensor_slices(b).shuffle(n, seed=1).repeat().batch(batch),
    )
    return a, b, ds.map(lambda x, y: {"a": {"image": x}, "b": {"image": y}})


def test_cycle_loss_falls_and_samples_are_written(tmp_path):
    a, b, data = _domains()
    method = _cyclegan(learning_rate=3e-3, constant_steps=1000, decay_steps=1000)
    # Eager steps: for a few steps, tracing the four-network step costs more than running it.
    method.compile(jit_compile=False, run_eagerly=True)
    samples = CycleGANSamples(a[:4], b[:4], str(tmp_path), every=2)
    hist = method.fit(data, steps_per_epoch=2, epochs=6, verbose=0, callbacks=[samples]).history
    cyc = hist["cycle_loss"]
    assert np.all(np.isfinite(hist["loss"]))
    assert cyc[-1] < 0.6 * cyc[0], cyc
    assert int(method.pool_a.count.numpy()) == 50  # 12 steps x 8 images filled the pool
    assert len(samples.written) == 3
    png = tf.io.decode_png(tf.io.read_file(samples.written[-1])).numpy()
    assert png.shape == (6 * 8, 4 * 8, 1)
    assert os.listdir(tmp_path / "samples_tb")


def test_trains_under_mirrored_strategy(mirrored_strategy):
    _, _, data = _domains(32, 8)
    with mirrored_strategy.scope():
        method = _cyclegan(pool_size=4)
        # Eager steps: tracing the two-replica step costs seconds more than the step.
        method.compile(jit_compile=False, run_eagerly=True)
    hist = method.fit(data, steps_per_epoch=1, epochs=1, verbose=0).history
    assert np.isfinite(hist["loss"][0])
    assert int(method.discriminator_optimizer.iterations.numpy()) == 1
    assert int(method.optimizer.iterations.numpy()) == 1


def test_domains_of_different_shapes_are_refused():
    g = resnet_generator((16, 16, 1), filters=4, num_blocks=0)
    h = resnet_generator((16, 16, 3), filters=4, num_blocks=0)
    d = patch_discriminator((16, 16, 1), filters=4, num_layers=1)
    with pytest.raises(ValueError, match="both domains at one image shape"):
        CycleGAN(g, h, d, d)

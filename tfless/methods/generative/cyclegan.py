"""CycleGAN: unpaired translation between two image domains, with its image pools and schedule."""

from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf

from tfless.augment import rng
from tfless.losses import adversarial
from tfless.methods.base import Method, scale_for_replicas

#: Image pool size and swap probability of CycleGAN (Shrivastava et al. 2017's history buffer).
POOL_SIZE = 50
SWAP_PROBABILITY = 0.5


class ConstantThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """``lr`` for ``constant_steps`` steps, then linearly down to 0 over ``decay_steps`` steps.

    CycleGAN keeps the rate for 100 epochs and decays it linearly to zero over the next 100;
    here the two phases are counted in optimizer steps.
    """

    def __init__(self, learning_rate: float, constant_steps: int, decay_steps: int):
        if learning_rate <= 0 or constant_steps < 0 or decay_steps < 1:
            raise ValueError(
                f"ConstantThenLinearDecay needs learning_rate > 0, constant_steps >= 0 and "
                f"decay_steps >= 1; got {learning_rate!r}, {constant_steps!r}, {decay_steps!r}."
            )
        self.learning_rate = float(learning_rate)
        self.constant_steps = int(constant_steps)
        self.decay_steps = int(decay_steps)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        past = tf.maximum(step - float(self.constant_steps), 0.0)
        return self.learning_rate * tf.clip_by_value(1.0 - past / self.decay_steps, 0.0, 1.0)

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "constant_steps": self.constant_steps,
            "decay_steps": self.decay_steps,
        }


def pool_query(pool, count, images, uniforms, indices, swap_probability=SWAP_PROBABILITY):
    """CycleGAN's image-pool query, image by image in batch order.

    While the pool has room, an image is stored and returned as it is. Once it is full,
    with probability ``swap_probability`` (``uniforms[i] < swap_probability``) the image
    returns the stored image at ``indices[i]`` and takes its place; otherwise it is
    returned as it is and the pool is unchanged.

    Args:
      pool: ``[P, H, W, C]`` stored images (P > 0).
      count: int32 scalar, how many slots are filled.
      images: ``[B, H, W, C]`` new generated images.
      uniforms: ``[B]`` draws in [0, 1).
      indices: int32 ``[B]`` draws in [0, P).

    Returns:
      ``(returned [B, H, W, C], new_pool, new_count)``.
    """
    size = tf.shape(pool)[0]
    batch = tf.shape(images)[0]
    out = tf.TensorArray(images.dtype, size=batch, element_shape=images.shape[1:])

    def body(i, pool, count, out):
        image = images[i]
        has_room = count < size
        swap = tf.logical_and(tf.logical_not(has_room), uniforms[i] < swap_probability)
        slot = tf.where(has_room, tf.minimum(count, size - 1), indices[i])
        returned = tf.where(swap, pool[slot], image)
        write = tf.logical_or(has_room, swap)
        new_slot = tf.where(write, image, pool[slot])
        pool = tf.tensor_scatter_nd_update(pool, [[slot]], new_slot[None])
        count = count + tf.cast(has_room, count.dtype)
        return i + 1, pool, count, out.write(i, returned)

    _, pool, count, out = tf.while_loop(
        lambda i, *_: i < batch, body, (tf.constant(0), pool, tf.cast(count, tf.int32), out)
    )
    return out.stack(), pool, count


class ImagePool(keras.layers.Layer):
    """A pool of ``size`` generated images per replica (:func:`pool_query`).

    The discriminator sees pooled fakes, so it is trained on a history of the generator
    rather than on its latest outputs alone. The pool lives in sync-on-read variables: each
    replica keeps its own, as each GPU of the official code does; it is saved with the
    method's checkpoint (the first replica's copy).
    """

    def __init__(
        self, image_shape, size: int = POOL_SIZE, swap_probability=SWAP_PROBABILITY, **kwargs
    ):
        super().__init__(**kwargs)
        if size < 0 or not 0.0 <= swap_probability <= 1.0:
            raise ValueError(
                f"ImagePool needs size >= 0 and swap_probability in [0, 1]; got {size!r}, "
                f"{swap_probability!r}."
            )
        self.size = int(size)
        self.swap_probability = float(swap_probability)
        sync = dict(trainable=False, synchronization="on_read", aggregation="only_first_replica")
        shape = (max(self.size, 1), *tuple(image_shape))
        self.images = keras.Variable(np.zeros(shape, np.float32), name="images", **sync)
        self.count = keras.Variable(0, dtype="int32", name="count", **sync)

    def call(self, images):
        if self.size == 0:
            return images
        batch = tf.shape(images)[0]
        uniforms = rng.uniform([batch])
        indices = rng.uniform([batch], 0, self.size, dtype=tf.int32)
        out, pool, count = pool_query(
            self.images.value,
            self.count.value,
            images,
            uniforms,
            indices,
            self.swap_probability,
        )
        self.images.assign(pool)
        self.count.assign(count)
        return out


class CycleGAN(Method):
    """CycleGAN: two generators and two discriminators trained together in one ``train_step``.

    Zhu, Park, Isola, Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent
    Adversarial Networks", ICCV 2017, arXiv 1703.10593 (official code:
    junyanz/pytorch-CycleGAN-and-pix2pix). ``G: A -> B`` (``generator_ab``, the exported
    ``encoder``) and ``F: B -> A`` (``generator_ba``) minimise the least-squares GAN loss
    against ``D_B`` and ``D_A``, plus ``cycle_weight`` (10) times the L1 cycle losses
    ``|F(G(a)) - a| + |G(F(b)) - b|`` and ``identity_weight`` (5, the official code's
    ``lambda_identity`` 0.5 times the cycle weight) times ``|G(b) - b| + |F(a) - a|``. Each
    discriminator minimises ``0.5 * (mean((D(real) - 1)^2) + mean(D(fake)^2))`` on fakes
    drawn from an image pool of 50 with a 50% swap. Both groups use Adam(2e-4, beta_1 0.5)
    with a constant rate for ``constant_steps`` then a linear decay to 0 over
    ``decay_steps``; the generators step first, then the discriminators, in one step.

    Reads ``{"a": {"image"}, "b": {"image"}}``: unpaired batches of each domain, images in
    [0, 1], same shape. Trackers: ``loss`` (generator + discriminator objectives),
    ``generator_loss``, ``discriminator_loss``, ``adversarial_loss``, ``cycle_loss``,
    ``identity_loss``.

    Args:
      generator_ab, generator_ba: built networks ``[B, H, W, C] -> [B, H, W, C]``.
      discriminator_a, discriminator_b: built patch discriminators of each domain.
      cycle_weight, identity_weight: loss weights (10 and 5).
      pool_size: images kept per direction (50; 0 turns the pool off).
      learning_rate, beta_1: Adam of both groups (2e-4, 0.5).
      constant_steps, decay_steps: the learning-rate schedule, in steps.
    """

    input_keys = ("a/image", "b/image")

    def __init__(
        self,
        generator_ab: keras.Model,
        generator_ba: keras.Model,
        discriminator_a: keras.Model,
        discriminator_b: keras.Model,
        cycle_weight: float = 10.0,
        identity_weight: float = 5.0,
        pool_size: int = POOL_SIZE,
        learning_rate: float = 2e-4,
        beta_1: float = 0.5,
        constant_steps: int = 100_000,
        decay_steps: int = 100_000,
        name: str = "cyclegan",
        **kwargs,
    ):
        super().__init__(generator_ab, name=name, **kwargs)
        shape_a = tuple(generator_ab.input_shape[1:])
        shape_b = tuple(generator_ba.input_shape[1:])
        if shape_a != shape_b:
            raise ValueError(
                f"CycleGAN needs both domains at one image shape (the identity and cycle "
                f"losses compare them); got {shape_a} for A and {shape_b} for B. Resize one."
            )
        if cycle_weight < 0 or identity_weight < 0:
            raise ValueError(
                f"cycle_weight and identity_weight must be >= 0; got {cycle_weight!r}, "
                f"{identity_weight!r}."
            )
        self.generator_ab, self.generator_ba = generator_ab, generator_ba
        self.discriminator_a, self.discriminator_b = discriminator_a, discriminator_b
        self.image_shape = shape_a
        self.cycle_weight, self.identity_weight = float(cycle_weight), float(identity_weight)
        self.schedule = ConstantThenLinearDecay(learning_rate, constant_steps, decay_steps)
        self.beta_1 = float(beta_1)
        self.pool_a = ImagePool(shape_a, pool_size, name="pool_a")
        self.pool_b = ImagePool(shape_a, pool_size, name="pool_b")
        self.discriminator_optimizer = self.make_optimizer("discriminator_adam")
        self.discriminator_optimizer.build(self.discriminator_variables)
        names = (
            "generator_loss",
            "discriminator_loss",
            "adversarial_loss",
            "cycle_loss",
            "identity_loss",
        )
        self.trackers = {n: keras.metrics.Mean(name=n) for n in names}

    def make_optimizer(self, name: str = "generator_adam") -> keras.optimizers.Optimizer:
        """Adam with the paper's rate, beta_1 and schedule (one per network group)."""
        return keras.optimizers.Adam(self.schedule, beta_1=self.beta_1, name=name)

    def compile(self, optimizer=None, **kwargs):
        """Compiles with the generators' optimizer (default: :meth:`make_optimizer`)."""
        super().compile(optimizer=optimizer or self.make_optimizer(), **kwargs)

    @property
    def generator_variables(self) -> list:
        return self.generator_ab.trainable_variables + self.generator_ba.trainable_variables

    @property
    def discriminator_variables(self) -> list:
        return self.discriminator_a.trainable_variables + self.discriminator_b.trainable_variables

    def optimized_variables(self) -> list:
        return self.generator_variables

    @property
    def metrics(self):
        return [self.loss_tracker, *self.trackers.values()]

    def translate(self, images, direction: str = "a2b", training: bool = False):
        """Translates ``[B, H, W, C]`` images: ``"a2b"`` through G, ``"b2a"`` through F."""
        if direction not in ("a2b", "b2a"):
            raise ValueError(f"direction must be 'a2b' or 'b2a'; got {direction!r}.")
        net = self.generator_ab if direction == "a2b" else self.generator_ba
        return net(images, training=training)

    def call(self, inputs, training=False):
        if isinstance(inputs, dict):  # a training batch translates its domain-A images
            inputs = inputs["a"]["image"] if "a" in inputs else inputs["image"]
        return self.generator_ab(inputs, training=training)

    def generator_objective(self, real_a, real_b, training=True):
        """Generator terms of one batch: ``(total, adversarial, cycle, identity, fakes)``."""
        fake_b = self.generator_ab(real_a, training=training)
        fake_a = self.generator_ba(real_b, training=training)
        cyc = adversarial.cycle_loss(real_a, self.generator_ba(fake_b, training=training))
        cyc += adversarial.cycle_loss(real_b, self.generator_ab(fake_a, training=training))
        adv = adversarial.lsgan_generator_loss(self.discriminator_b(fake_b, training=training))
        adv += adversarial.lsgan_generator_loss(self.discriminator_a(fake_a, training=training))
        idt = tf.constant(0.0)
        if self.identity_weight:
            idt = adversarial.identity_loss(real_b, self.generator_ab(real_b, training=training))
            idt += adversarial.identity_loss(real_a, self.generator_ba(real_a, training=training))
        total = adv + self.cycle_weight * cyc + self.identity_weight * idt
        return total, adv, cyc, idt, (fake_a, fake_b)

    def discriminator_objective(self, real_a, real_b, fake_a, fake_b, training=True):
        """Both discriminators' least-squares losses on real images and (pooled) fakes."""
        d_a = adversarial.lsgan_discriminator_loss(
            self.discriminator_a(real_a, training=training),
            self.discriminator_a(fake_a, training=training),
        )
        d_b = adversarial.lsgan_discriminator_loss(
            self.discriminator_b(real_b, training=training),
            self.discriminator_b(fake_b, training=training),
        )
        return d_a + d_b

    def train_step(self, data):
        real_a, real_b = data["a"]["image"], data["b"]["image"]
        with self.seeded_step():
            g_vars = self.generator_variables
            with tf.GradientTape() as tape:
                g_loss, adv, cyc, idt, (fake_a, fake_b) = self.generator_objective(real_a, real_b)
                scaled = self.optimizer.scale_loss(scale_for_replicas(g_loss))
            self.optimizer.apply(tape.gradient(scaled, g_vars), g_vars)
            pooled_a = self.pool_a(tf.stop_gradient(fake_a))
            pooled_b = self.pool_b(tf.stop_gradient(fake_b))
            d_vars = self.discriminator_variables
            with tf.GradientTape() as tape:
                d_loss = self.discriminator_objective(real_a, real_b, pooled_a, pooled_b)
                scaled = scale_for_replicas(d_loss)
            self.discriminator_optimizer.apply(tape.gradient(scaled, d_vars), d_vars)
        values = dict(
            generator_loss=g_loss,
            discriminator_loss=d_loss,
            adversarial_loss=adv,
            cycle_loss=cyc,
            identity_loss=idt,
        )
        for key, value in values.items():
            self.trackers[key].update_state(value)
        self.loss_tracker.update_state(g_loss + d_loss)
        return self.metrics_result()

    def test_step(self, data):
        real_a, real_b = data["a"]["image"], data["b"]["image"]
        g_loss, adv, cyc, idt, (fake_a, fake_b) = self.generator_objective(real_a, real_b, False)
        d_loss = self.discriminator_objective(real_a, real_b, fake_a, fake_b, False)
        for key, value in dict(
            generator_loss=g_loss,
            discriminator_loss=d_loss,
            adversarial_loss=adv,
            cycle_loss=cyc,
            identity_loss=idt,
        ).items():
            self.trackers[key].update_state(value)
        self.loss_tracker.update_state(g_loss + d_loss)
        return self.metrics_result()

    def build_from_batch(self, batch) -> None:
        self.test_step(batch)
        for m in self.metrics:
            m.reset_state()


# ------------------------------------------------------------------------ sample grids


def sample_grid(method: CycleGAN, images_a, images_b) -> np.ndarray:
    """A uint8 ``[6 * H, N * W, C]`` grid: rows real A, G(A), F(G(A)), real B, F(B), G(F(B))."""
    a = np.asarray(images_a, np.float32)
    b = np.asarray(images_b, np.float32)
    fake_b = method.translate(a, "a2b").numpy()
    fake_a = method.translate(b, "b2a").numpy()
    rows = [
        a,
        fake_b,
        method.translate(fake_b, "b2a").numpy(),
        b,
        fake_a,
        method.translate(fake_a, "a2b").numpy(),
    ]
    grid = np.concatenate([np.concatenate(list(r), axis=1) for r in rows], axis=0)
    return (np.clip(grid, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def write_png(path: str, image_uint8: np.ndarray) -> None:
    """Writes a uint8 ``[H, W, C]`` (C = 1 or 3) array as a PNG file."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tf.io.write_file(path, tf.io.encode_png(tf.convert_to_tensor(image_uint8, tf.uint8)))


class CycleGANSamples(keras.callbacks.Callback):
    """Writes a :func:`sample_grid` of fixed images every ``every`` epochs (and at the end).

    PNGs go to ``<logdir>/samples/epoch_<n>.png`` and the grid to TensorBoard under
    ``samples`` (``<logdir>/samples_tb``).

    Args:
      images_a, images_b: ``[N, H, W, C]`` images of each domain, in [0, 1] (a few).
      logdir: directory of the PNGs and the TensorBoard events.
      every: epochs between grids.
    """

    def __init__(self, images_a, images_b, logdir: str, every: int = 1):
        super().__init__()
        if len(images_a) == 0 or len(images_b) == 0:
            raise ValueError("CycleGANSamples needs at least one image of each domain.")
        self.images_a, self.images_b = np.asarray(images_a), np.asarray(images_b)
        self.logdir, self.every = logdir, max(1, int(every))
        self.writer = tf.summary.create_file_writer(os.path.join(logdir, "samples_tb"))
        self.written: list[str] = []

    def _write(self, epoch: int) -> None:
        grid = sample_grid(self.model, self.images_a, self.images_b)
        path = os.path.join(self.logdir, "samples", f"epoch_{epoch:04d}.png")
        write_png(path, grid)
        self.written.append(path)
        with self.writer.as_default():
            tf.summary.image("samples", grid[None].astype(np.float32) / 255.0, step=epoch)
        self.writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self._write(epoch + 1)

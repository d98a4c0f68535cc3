"""TANDA: learning to compose transformation functions adversarially (Ratner et al. 2017).

Ratner, Ehrenberg, Hussain, Dunnmon, Re, "Learning to Compose Domain-Specific
Transformations for Data Augmentation", NeurIPS 2017, https://arxiv.org/abs/1709.01643.
A generator -- an LSTM over sequences of ``L`` user-given transformation functions (TFs) --
is trained against a discriminator that tells augmented from real data. TFs are
non-differentiable, so the generator is updated by policy gradient with the
discriminator's verdict as reward; the trained generator then augments training data
(the ``tanda`` view, :func:`tfless.augment.views.tanda`).

Objective (the paper's GAN form): the discriminator ``D`` minimises
``-log D(x) - log(1 - D(h_tau(x')))`` over real images ``x`` and transformed images
``h_tau(x')``; the generator minimises ``log(1 - D(h_tau(x')))``, i.e. maximises the reward
``-log(1 - D(h_tau(x')))`` (= ``softplus`` of D's logit), by REINFORCE with the batch mean
as baseline. An optional diversity bonus ``diversity_weight * mean|h_tau(x) - x|`` rewards
sequences that move the image; we read the paper as adding such a term to keep the
generator from collapsing to near-null sequences, but its exact form and weight are our
choice (default 0: the plain GAN objective).

TFs and their default list are those of :mod:`tfless.augment.tanda`. Defaults: sequence
length 5 (our choice within the paper's short sequences), generator LSTM with 100 units,
Adam.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfless.augment import policy_lstm
from tfless.augment.tanda import (
    DEFAULT_TRANSFORMS,
    TF_KIND,
    TransformSequences,
    read_generator,
    write_generator,
)
from tfless.backbones import build_backbone
from tfless.methods.augment.policy_controller import PolicyController, make_reinforce_update


class TandaGenerator(TransformSequences):
    """A trainable TF-sequence generator: an LSTM emitting ``sequence_length`` TF indices.

    Args:
      transforms: ``(op_name, magnitude)`` TFs.
      sequence_length: L, TFs applied in order to each image.
      hidden: LSTM units.
    """

    def __init__(self, transforms=DEFAULT_TRANSFORMS, sequence_length: int = 5, hidden: int = 100):
        super().__init__(transforms, sequence_length)
        self.hidden = int(hidden)
        self.controller = PolicyController(self.kinds, {TF_KIND: len(self.transforms)}, self.hidden)

    def sample(self, n, seed) -> tf.Tensor:
        """``[n, L]`` TF indices from a stateless ``seed``."""
        return self.controller.sample(n, seed)

    def tf_probabilities(self) -> np.ndarray:
        """Marginal probability of each TF at the first position, ``[num_transforms]``."""
        # The first step of the unroll alone gives log pi(a_0).
        first = np.arange(len(self.transforms), dtype=np.int32)[:, None]
        log_prob = policy_lstm.log_prob(self.controller.policy_weights, (TF_KIND,), first)[0]
        return np.exp(log_prob.numpy())


def _discriminator(shape, widths=(16, 32)) -> keras.Model:
    encoder = build_backbone("convnet", shape, widths=widths)
    inputs = keras.Input(shape)
    return keras.Model(inputs, keras.layers.Dense(1)(encoder(inputs)), name="discriminator")


def _make_discriminator_step(disc, optimizer, diversity_weight: float) -> Callable:
    """``step(real, fake, source) -> (loss, D(real), D(fake), generator reward [B])``."""

    @functools.partial(tf.function, autograph=False)
    def d_step(real, fake, source):
        # Real and transformed images share one batch: with separate batches, batch norm
        # would normalise away the statistics that tell them apart.
        n = tf.shape(real)[0]
        with tf.GradientTape() as tape:
            logits = disc(tf.concat([real, fake], axis=0), training=True)[:, 0]
            real_logit, fake_logit = logits[:n], logits[n:]
            loss = tf.reduce_mean(tf.nn.softplus(-real_logit)) + tf.reduce_mean(
                tf.nn.softplus(fake_logit)
            )
        optimizer.apply(tape.gradient(loss, disc.trainable_variables), disc.trainable_variables)
        # The generator's reward -log(1 - D(h(x))) from the same (pre-update) verdict.
        reward = tf.nn.softplus(fake_logit)
        if diversity_weight:
            reward += diversity_weight * tf.reduce_mean(tf.abs(fake - source), axis=[1, 2, 3])
        d_real = tf.reduce_mean(tf.sigmoid(real_logit))
        return loss, d_real, tf.reduce_mean(tf.sigmoid(fake_logit)), reward

    return d_step


def train_tanda(
    images,
    steps: int = 1000,
    transforms=DEFAULT_TRANSFORMS,
    sequence_length: int = 5,
    batch_size: int = 32,
    generator_learning_rate: float = 0.001,
    discriminator_learning_rate: float = 0.001,
    diversity_weight: float = 0.0,
    hidden: int = 100,
    discriminator_widths=(16, 32),
    seed: int = 0,
    log: Callable[[str], None] | None = None,
    log_every: int = 50,
) -> tuple[TandaGenerator, list[dict]]:
    """Trains a TANDA generator against a discriminator on ``images``.

    Args:
      images: ``[N, H, W, C]`` float32 in [0, 1] (unlabeled: TANDA needs no labels).
      steps: alternating discriminator / generator steps.
      transforms, sequence_length, hidden: see :class:`TandaGenerator`.
      batch_size: real and transformed images per step.
      diversity_weight: weight of the ``mean |h(x) - x|`` bonus in the generator reward.
      seed: generator sampling, initialisation and batch-order seed.

    Returns:
      ``(generator, history)``; history rows ``{"step", "d_loss", "g_reward", "d_real",
      "d_fake"}`` averaged over ``log_every`` steps.
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or len(images) < 2:
        raise ValueError(f"images must be [N >= 2, H, W, C], got shape {images.shape}")
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1, got {steps!r}, {batch_size!r}")
    if diversity_weight < 0:
        raise ValueError(f"diversity_weight must be >= 0, got {diversity_weight!r}")
    keras.utils.set_random_seed(seed)
    generator = TandaGenerator(transforms, sequence_length, hidden)
    disc = _discriminator(images.shape[1:], discriminator_widths)
    d_opt = keras.optimizers.Adam(discriminator_learning_rate)
    d_opt.build(disc.trainable_variables)
    # Compiled: a search runs hundreds of updates of a short (L-step) unroll.
    update_generator = make_reinforce_update(
        generator.controller, keras.optimizers.Adam(generator_learning_rate), 0.0, compile=True
    )
    sample = tf.function(lambda seed: generator.sample(batch_size, seed), autograph=False)
    d_step = _make_discriminator_step(disc, d_opt, diversity_weight)
    augment = tf.function(generator.apply, autograph=False)
    rng = np.random.RandomState(seed)
    history, window = [], []
    for step in range(int(steps)):
        real = tf.constant(images[rng.randint(0, len(images), batch_size)])
        source = tf.constant(images[rng.randint(0, len(images), batch_size)])
        sequences = sample(tf.constant([seed, step], tf.int64))
        fake = augment(source, sequences)
        d_loss, d_real, d_fake, reward = d_step(real, fake, source)
        update_generator(sequences, reward - tf.reduce_mean(reward))
        window.append([float(d_loss), float(tf.reduce_mean(reward)), float(d_real), float(d_fake)])
        if (step + 1) % log_every == 0 or step + 1 == steps:
            history.append(_history_row(step + 1, window, log))
            window = []
    return generator, history


def _history_row(step: int, window: list, log: Callable[[str], None] | None) -> dict:
    """Means of the window's ``[d_loss, g_reward, d_real, d_fake]`` rows, logged."""
    mean = np.mean(window, axis=0)
    row = dict(step=step, d_loss=mean[0], g_reward=mean[1], d_real=mean[2], d_fake=mean[3])
    if log:
        log(
            f"step {step}: D loss {mean[0]:.3f} G reward {mean[1]:.3f} "
            f"D(real) {mean[2]:.3f} D(fake) {mean[3]:.3f}"
        )
    return {k: float(v) for k, v in row.items()}


def save_generator(path: str, generator: TandaGenerator, **metadata) -> None:
    """Writes the generator (TFs, length, LSTM weights) and ``metadata`` as JSON."""
    write_generator(
        path,
        generator.transforms,
        generator.sequence_length,
        generator.hidden,
        {v.path: np.asarray(v) for v in generator.controller.variables},
        **metadata,
    )


def load_generator(path: str) -> TandaGenerator:
    """Reads a generator written by :func:`save_generator` as a trainable generator."""
    record = read_generator(path)
    generator = TandaGenerator(record["transforms"], record["sequence_length"], record["hidden"])
    weights = record["weights"]
    for name, v in generator.controller.policy_weights.items():
        if name not in weights:
            raise ValueError(f"{path!r} lacks the weight {v.path!r}")
        v.assign(weights[name])
    return generator


def transform_names(generator: TransformSequences) -> Sequence[str]:
    """Readable TF names ``"Rotate@6"`` in generator order."""
    return [f"{n}@{m:g}" for n, m in generator.transforms]

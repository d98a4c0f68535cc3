"""TANDA: learning to compose transformation functions adversarially (Ratner et al. 2017).

Ratner, Ehrenberg, Hussain, Dunnmon, Re, "Learning to Compose Domain-Specific
Transformations for Data Augmentation", NeurIPS 2017, https://arxiv.org/abs/1709.01643.
A generator -- an LSTM over sequences of ``L`` user-given transformation functions (TFs) --
is trained against a discriminator that tells augmented from real data. TFs are
non-differentiable, so the generator is updated by policy gradient with the
discriminator's verdict as reward; the trained generator then augments training data.

Objective (the paper's GAN form): the discriminator ``D`` minimises
``-log D(x) - log(1 - D(h_tau(x')))`` over real images ``x`` and transformed images
``h_tau(x')``; the generator minimises ``log(1 - D(h_tau(x')))``, i.e. maximises the reward
``-log(1 - D(h_tau(x')))`` (= ``softplus`` of D's logit), by REINFORCE with the batch mean
as baseline. An optional diversity bonus ``diversity_weight * mean|h_tau(x) - x|`` rewards
sequences that move the image; we read the paper as adding such a term to keep the
generator from collapsing to near-null sequences, but its exact form and weight are our
choice (default 0: the plain GAN objective).

TFs here are ops of :mod:`tfless.augment.ops` at fixed magnitudes (TANDA's TFs are
"rotate by a small angle", "shear", "zoom" with fixed parameters); the default list is
the RandAugment paper's 14 ops at magnitudes 3, 6 and 9. Defaults: sequence length 5
(our choice within the paper's short sequences), generator LSTM with 100 units, Adam.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfless.augment import ops
from tfless.augment.policies import RANDAUGMENT_PAPER_OPS
from tfless.augment.search import PolicyController, make_reinforce_update

#: TANDA's default TF list: the RandAugment paper ops at three fixed magnitudes.
DEFAULT_TRANSFORMS = tuple((name, float(m)) for name in RANDAUGMENT_PAPER_OPS for m in (3, 6, 9))


def check_transforms(transforms) -> tuple[tuple[str, float], ...]:
    """Validates a TF list of ``(op_name, magnitude)`` pairs.

    Raises:
      ValueError: empty list, malformed entries, unknown ops, magnitudes outside [0, 10].
    """
    if isinstance(transforms, str) or not transforms:
        raise ValueError(
            f"transforms must be a non-empty list of (op_name, magnitude), got {transforms!r}"
        )
    checked = []
    for i, entry in enumerate(transforms):
        if isinstance(entry, str) or len(entry) != 2:
            raise ValueError(f"transform {i} must be (op_name, magnitude), got {entry!r}")
        name, magnitude = entry
        ops.check_op_name(name)
        ops.check_magnitude(float(magnitude))
        checked.append((str(name), float(magnitude)))
    return tuple(checked)


class TandaGenerator:
    """A TF-sequence generator: an LSTM emitting ``sequence_length`` TF indices per image.

    Args:
      transforms: ``(op_name, magnitude)`` TFs.
      sequence_length: L, TFs applied in order to each image.
      hidden: LSTM units.
    """

    def __init__(self, transforms=DEFAULT_TRANSFORMS, sequence_length: int = 5, hidden: int = 100):
        self.transforms = check_transforms(transforms)
        if int(sequence_length) != sequence_length or sequence_length < 1:
            raise ValueError(f"sequence_length must be a positive integer, got {sequence_length!r}")
        self.sequence_length = int(sequence_length)
        self.hidden = int(hidden)
        self.controller = PolicyController(
            ("tf",) * self.sequence_length, {"tf": len(self.transforms)}, self.hidden
        )
        self._names = ["Identity"] + sorted({n for n, _ in self.transforms} - {"Identity"})
        self._op_index = tf.constant([self._names.index(n) for n, _ in self.transforms], tf.int32)
        self._magnitude = tf.constant([m for _, m in self.transforms], tf.float32)

    def sample(self, n, seed) -> tf.Tensor:
        """``[n, L]`` TF indices from a stateless ``seed``."""
        return self.controller.sample(n, seed)

    def apply(self, images, sequences) -> tf.Tensor:
        """Applies TF sequence ``sequences[b]`` ``[B, L]`` to image ``b`` of ``images``."""
        images = ops.check_images(images)
        x = ops.to_float255(images)
        for step in range(self.sequence_length):
            tf_index = sequences[:, step]
            x = ops.apply_per_image(
                x,
                tf.gather(self._op_index, tf_index),
                tf.gather(self._magnitude, tf_index),
                self._names,
                images.dtype == tf.uint8,
            )
        return ops.from_float255(x, images.dtype)

    def __call__(self, images) -> tf.Tensor:
        """Augments ``images [B, H, W, C]`` with freshly sampled sequences."""
        seed = tf.random.uniform([2], 0, 2**31 - 1, dtype=tf.int64)
        return self.apply(images, self.sample(tf.shape(images)[0], seed))

    def tf_probabilities(self) -> np.ndarray:
        """Marginal probability of each TF at the first position, ``[num_transforms]``."""
        # A one-step controller with the same weights gives log pi(a_0) alone.
        one_step = PolicyController(("tf",), {"tf": len(self.transforms)}, self.hidden)
        for dst, src in zip(one_step.variables, self.controller.variables, strict=True):
            dst.assign(src)
        first = np.arange(len(self.transforms), dtype=np.int32)[:, None]
        return np.exp(one_step.log_prob(first)[0].numpy())


def _discriminator(shape, widths=(16, 32)) -> keras.Model:
    from tfless.backbones import build_backbone

    encoder = build_backbone("convnet", shape, widths=widths)
    inputs = keras.Input(shape)
    return keras.Model(inputs, keras.layers.Dense(1)(encoder(inputs)), name="discriminator")


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
        d_opt.apply(tape.gradient(loss, disc.trainable_variables), disc.trainable_variables)
        # The generator's reward -log(1 - D(h(x))) from the same (pre-update) verdict.
        reward = tf.nn.softplus(fake_logit)
        if diversity_weight:
            reward += diversity_weight * tf.reduce_mean(tf.abs(fake - source), axis=[1, 2, 3])
        d_real = tf.reduce_mean(tf.sigmoid(real_logit))
        return loss, d_real, tf.reduce_mean(tf.sigmoid(fake_logit)), reward

    @functools.partial(tf.function, autograph=False)
    def augment(x, sequences):
        return generator.apply(x, sequences)

    rng = np.random.RandomState(seed)
    history, window = [], []
    for step in range(int(steps)):
        real = tf.constant(images[rng.randint(0, len(images), batch_size)])
        source = tf.constant(images[rng.randint(0, len(images), batch_size)])
        sequences = sample(tf.constant([seed, step], tf.int64))
        fake = augment(source, sequences)
        d_loss, d_real, d_fake, reward = d_step(real, fake, source)
        advantage = reward - tf.reduce_mean(reward)
        update_generator(sequences, advantage)
        window.append([float(d_loss), float(tf.reduce_mean(reward)), float(d_real), float(d_fake)])
        if (step + 1) % log_every == 0 or step + 1 == steps:
            mean = np.mean(window, axis=0)
            row = dict(
                step=step + 1, d_loss=mean[0], g_reward=mean[1], d_real=mean[2], d_fake=mean[3]
            )
            history.append({k: float(v) for k, v in row.items()})
            window = []
            if log:
                log(
                    f"step {step + 1}: D loss {mean[0]:.3f} G reward {mean[1]:.3f} "
                    f"D(real) {mean[2]:.3f} D(fake) {mean[3]:.3f}"
                )
    return generator, history


def save_generator(path: str, generator: TandaGenerator, **metadata) -> None:
    """Writes the generator (TFs, length, LSTM weights) and ``metadata`` as JSON."""
    record = {
        "transforms": [list(t) for t in generator.transforms],
        "sequence_length": generator.sequence_length,
        "hidden": generator.hidden,
        "weights": {v.path: np.asarray(v).tolist() for v in generator.controller.variables},
        **metadata,
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(record, f)
    os.replace(tmp, path)


def load_generator(path: str) -> TandaGenerator:
    """Reads a generator written by :func:`save_generator`."""
    if not os.path.exists(path):
        raise ValueError(f"TANDA generator file {path!r} does not exist")
    with open(path) as f:
        record = json.load(f)
    for key in ("transforms", "sequence_length", "hidden", "weights"):
        if key not in record:
            raise ValueError(f"{path!r} is not a TANDA generator file: no {key!r} entry")
    generator = TandaGenerator(
        [tuple(t) for t in record["transforms"]], record["sequence_length"], record["hidden"]
    )
    weights = record["weights"]
    for v in generator.controller.variables:
        if v.path not in weights:
            raise ValueError(f"{path!r} lacks the weight {v.path!r}")
        v.assign(np.asarray(weights[v.path], np.float32))
    return generator


def tanda(path: str, pad_fraction: float = 0.0, prob: float = 1.0) -> Callable:
    """View factory: augment with a trained TANDA generator.

    Args:
      path: generator JSON written by :func:`save_generator` (or the launcher's ``tanda``
        mode).
      pad_fraction: reflect pad-and-crop before the TF sequence (0 disables).
      prob: probability that an image is transformed at all (TANDA trained end models on
        a mix of original and augmented data).

    Returns:
      ``fn(images [B, H, W, C]) -> {"image": [B, H, W, C]}``.
    """
    generator = load_generator(path)
    ops.check_probability(prob, "prob")
    if not 0.0 <= pad_fraction < 1.0:
        raise ValueError(f"pad_fraction must be in [0, 1), got {pad_fraction!r}")

    def fn(images):
        images = ops.check_images(images)
        if pad_fraction > 0:
            images = ops.random_pad_crop(images, pad_fraction=pad_fraction)
        out = generator(images)
        if prob < 1.0:
            keep = tf.random.uniform([tf.shape(images)[0], 1, 1, 1]) < prob
            out = tf.where(keep, out, images)
        return {"image": out}

    return fn


def transform_names(generator: TandaGenerator) -> Sequence[str]:
    """Readable TF names ``"Rotate@6"`` in generator order."""
    return [f"{n}@{m:g}" for n, m in generator.transforms]

"""MR-GAN's progressive stages: classifiers on real plus raw, refined, then mutually refined data.

Mixed-Reality GANs (Nguyen, Chen, Lipton, Dirac, Soatto, Anandkumar) were presented in a talk
("MR-GAN: Progressive CycleGAN"; stage 0 real + synthetic, stage 1 real + CycleGAN-refined
synthetic, stage 2 "pushes both real and synthetic images closer to one another") with no
paper or code. What follows is **tfless's reading of the talk**, stated exactly:

* **Stage 0** trains a classifier on the real labeled images plus the raw synthetic images
  (all labeled). Nothing is translated.
* **Stage 1** trains a CycleGAN with domain A = synthetic and domain B = real (every real
  training image, labels unused), ``cyclegan_steps`` steps from scratch. The synthetic images
  are refined by ``G1: synthetic -> real``. The classifier starts from stage 0's weights and
  trains on the real labeled images plus the refined synthetic images. Test images are used
  as they are.
* **Stage 2** trains a second CycleGAN, started from stage 1's four networks, between domain
  A' = the stage-1 refined synthetic images and domain B = the real images, another
  ``cyclegan_steps`` steps. Its two generators move each domain toward the other: refined
  synthetic ``G2(G1(s))`` goes further toward real, and real images go through
  ``F2: real -> refined synthetic``, a translation toward images that are already nearly
  real, i.e. toward a shared middle. The classifier starts from stage 1's weights and trains
  on ``F2(real labeled)`` plus ``G2(G1(synthetic))``; test images go through the same
  real-side refiner ``F2`` before classification.

Why: stage 1 alone closes part of the gap from the synthetic side only; stage 2 lets the
real side meet it, and because the classifier sees real images only through ``F2`` at
training and test time, the two domains it learns from are closer than in stage 1. Each
stage's classifier batch is half real labeled images and half (refined) synthetic ones
(tfless's choice: a uniform mixture of 10 labels per class with 20,000 synthetic images
would show the classifier almost no real image).

Each stage resumes from the previous stage's files under ``workdir/stage_<n-1>`` and refuses
to start, with a :class:`StageError` naming the missing files, when they are absent. Each
stage writes ``workdir/stage_<n>/metrics.json`` (its test accuracy on real test digits)
and its networks' weights.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from tfless.backbones import build_backbone
from tfless.backbones.cyclegan_nets import patch_discriminator, resnet_generator
from tfless.data.synthetic_digits import DigitsPair, check_same_classes
from tfless.methods.generative.cyclegan import CycleGAN
from tfless.methods.supervised import Supervised

STAGES = (0, 1, 2)
_NETS = ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b")


class StageError(ValueError):
    """A stage started without the previous stage's files, or with unusable domains."""


@dataclasses.dataclass
class StageSettings:
    """Sizes of one MR-GAN run (scalars only).

    Attributes:
      classifier_steps: optimizer steps of each stage's classifier.
      cyclegan_steps: CycleGAN steps of stages 1 and 2 (each).
      batch_size: classifier batch (half real, half synthetic) and CycleGAN batch per domain.
      classifier_widths: channels of the ``convnet`` classifier.
      learning_rate: Adam rate of the classifier.
      generator_filters, generator_blocks: size of the CycleGAN generators.
      discriminator_filters, discriminator_layers: size of the PatchGAN discriminators.
      seed: seed of the networks and the data order.
      cyclegan_eagerly: run the CycleGAN steps eagerly (no graph tracing: for a handful of
        steps, as in tests, tracing costs more than the steps).
    """

    classifier_steps: int = 600
    cyclegan_steps: int = 1000
    batch_size: int = 32
    classifier_widths: tuple = (32, 64, 128)
    learning_rate: float = 2e-3
    generator_filters: int = 16
    generator_blocks: int = 2
    discriminator_filters: int = 16
    discriminator_layers: int = 2
    seed: int = 0
    cyclegan_eagerly: bool = False


def stage_dir(workdir: str, stage: int) -> str:
    return os.path.join(workdir, f"stage_{stage}")


def _required_files(stage: int) -> list[str]:
    """Files stage ``stage`` writes, which the next stage reads."""
    files = ["metrics.json", "classifier.weights.h5"]
    if stage >= 1:
        files += [f"{n}.weights.h5" for n in _NETS]
    return files


def check_previous_stage(workdir: str, stage: int) -> None:
    """Raises :class:`StageError` unless the files of stage ``stage - 1`` are in ``workdir``."""
    if stage not in STAGES:
        raise StageError(f"MR-GAN stage must be one of {STAGES}; got {stage!r}.")
    if stage == 0:
        return
    prev = stage_dir(workdir, stage - 1)
    missing = [f for f in _required_files(stage - 1) if not os.path.isfile(os.path.join(prev, f))]
    if missing:
        raise StageError(
            f"MR-GAN stage {stage} resumes from stage {stage - 1}'s checkpoints, but {prev} "
            f"lacks {missing}. Run stage {stage - 1} with the same workdir first."
        )


# ----------------------------------------------------------------------------- networks


def build_classifier(image_shape, num_classes: int, settings: StageSettings) -> Supervised:
    """The stages' classifier: a ``convnet`` encoder and a linear head (:class:`Supervised`)."""
    encoder = build_backbone(
        "convnet", tuple(image_shape), widths=tuple(settings.classifier_widths), bn_momentum=0.9
    )
    method = Supervised(encoder, num_classes=num_classes)
    method.compile(optimizer=keras.optimizers.Adam(settings.learning_rate), jit_compile=False)
    method(np.zeros((1, *image_shape), np.float32))
    return method


def build_cyclegan(image_shape, settings: StageSettings) -> CycleGAN:
    """CycleGAN of the stages: A = synthetic side, B = real side; constant rate then decay."""
    gen = dict(
        filters=settings.generator_filters,
        num_blocks=settings.generator_blocks,
        num_downsampling=2 if image_shape[0] % 4 == 0 else 1,
    )
    dis = dict(filters=settings.discriminator_filters, num_layers=settings.discriminator_layers)
    half = max(1, settings.cyclegan_steps // 2)
    method = CycleGAN(
        resnet_generator(image_shape, name="generator_ab", **gen),
        resnet_generator(image_shape, name="generator_ba", **gen),
        patch_discriminator(image_shape, name="discriminator_a", **dis),
        patch_discriminator(image_shape, name="discriminator_b", **dis),
        constant_steps=half,
        decay_steps=max(1, settings.cyclegan_steps - half),
    )
    method.compile(jit_compile=False, run_eagerly=settings.cyclegan_eagerly)
    return method


def _save_cyclegan(method: CycleGAN, directory: str) -> None:
    for n in _NETS:
        getattr(method, n).save_weights(os.path.join(directory, f"{n}.weights.h5"))


def _load_cyclegan(method: CycleGAN, directory: str) -> None:
    for n in _NETS:
        getattr(method, n).load_weights(os.path.join(directory, f"{n}.weights.h5"))


# --------------------------------------------------------------------------- training


def _mixed_batches(real_x, real_y, other_x, other_y, batch_size: int, seed: int):
    """Endless ``{"image", "label"}`` batches, half real labeled and half ``other`` images."""

    def stream(x, y, s):
        ds = tf.data.Dataset.from_tensor_slices({"image": x, "label": y})
        return ds.shuffle(len(x), seed=s).repeat()

    half = max(1, batch_size // 2)
    real = stream(real_x, real_y, seed).batch(half)
    other = stream(other_x, other_y, seed + 1).batch(batch_size - half)
    joined = tf.data.Dataset.zip(real, other).map(
        lambda a, b: {k: tf.concat([a[k], b[k]], 0) for k in ("image", "label")}
    )
    return joined.prefetch(2)


def train_classifier(method, images, labels, extra_images, extra_labels, steps, settings):
    """Trains ``method`` ``steps`` steps on half ``images`` + half ``extra_images`` batches.

    With ``extra_images`` of length 0 every batch holds real labeled images only (the
    real-only baseline).
    """
    if len(extra_images):
        data = _mixed_batches(
            images, labels, extra_images, extra_labels, settings.batch_size, settings.seed
        )
    else:
        ds = tf.data.Dataset.from_tensor_slices({"image": images, "label": labels})
        data = ds.shuffle(len(images), seed=settings.seed).repeat().batch(settings.batch_size)
    method.fit(data, steps_per_epoch=int(steps), epochs=1, verbose=0)
    return method


def accuracy(method, images, labels, transform: Callable | None = None) -> float:
    """Top-1 accuracy of ``method`` on ``images`` (after ``transform``, e.g. a refiner)."""
    x = images if transform is None else transform(images)
    logits = _batched_call(method, x)
    return float(np.mean(np.argmax(logits, -1) == np.asarray(labels)))


def _batched_call(model, images, batch_size: int = 256) -> np.ndarray:
    """``model(images)`` in inference mode, batch by batch (no ``predict`` tracing)."""
    images = np.asarray(images, np.float32)
    outs = [
        np.asarray(model(images[i : i + batch_size], training=False))
        for i in range(0, len(images), batch_size)
    ]
    return np.concatenate(outs, 0)


def refine(generator: keras.Model, images, batch_size: int = 256) -> np.ndarray:
    """``generator`` applied to ``images`` in batches, as float32 NumPy in [0, 1]."""
    return _batched_call(generator, images, batch_size).astype(np.float32)


def train_cyclegan(method: CycleGAN, domain_a, domain_b, steps: int, settings: StageSettings):
    """``steps`` CycleGAN steps on unpaired batches of ``domain_a`` and ``domain_b``."""
    if len(domain_a) == 0 or len(domain_b) == 0:
        raise StageError(
            f"CycleGAN needs images in both domains; got {len(domain_a)} in A (synthetic) and "
            f"{len(domain_b)} in B (real)."
        )
    b = settings.batch_size

    def stream(x, s):
        return tf.data.Dataset.from_tensor_slices(x).shuffle(len(x), seed=s).repeat().batch(b)

    data = tf.data.Dataset.zip(stream(domain_a, settings.seed), stream(domain_b, settings.seed + 1))
    data = data.map(lambda x, y: {"a": {"image": x}, "b": {"image": y}}).prefetch(2)
    return method.fit(data, steps_per_epoch=int(steps), epochs=1, verbose=0).history


def check_domains(pair: DigitsPair) -> None:
    """Raises :class:`StageError` for empty domains, mismatched shapes or classes."""
    named = dict(
        synthetic=pair.synthetic_images,
        real=pair.real_images,
        real_labeled=pair.real_labeled_images,
        test=pair.test_images,
    )
    empty = [k for k, v in named.items() if len(v) == 0]
    if empty:
        raise StageError(f"MR-GAN needs non-empty domains; {empty} have no images.")
    shapes = {k: tuple(v.shape[1:]) for k, v in named.items()}
    if len(set(shapes.values())) != 1:
        raise StageError(
            f"MR-GAN needs one image shape (channels and size) in every domain; got {shapes}. "
            "Resize or convert one domain first."
        )
    try:
        check_same_classes(pair.synthetic_labels, pair.real_labeled_labels)
    except ValueError as e:
        raise StageError(str(e)) from e


# ----------------------------------------------------------------------------- stages


def _write_metrics(directory: str, metrics: dict) -> None:
    with open(os.path.join(directory, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2, sort_keys=True)


def _stage0(pair, out, settings):
    shape = pair.real_labeled_images.shape[1:]
    clf = build_classifier(shape, pair.num_classes, settings)
    train_classifier(
        clf,
        pair.real_labeled_images,
        pair.real_labeled_labels,
        pair.synthetic_images,
        pair.synthetic_labels,
        settings.classifier_steps,
        settings,
    )
    clf.save_weights(os.path.join(out, "classifier.weights.h5"))
    return accuracy(clf, pair.test_images, pair.test_labels), {}


def _stage1(pair, workdir, out, settings):
    shape = pair.real_labeled_images.shape[1:]
    gan = build_cyclegan(shape, settings)
    hist = train_cyclegan(
        gan, pair.synthetic_images, pair.real_images, settings.cyclegan_steps, settings
    )
    _save_cyclegan(gan, out)
    refined = refine(gan.generator_ab, pair.synthetic_images)
    clf = build_classifier(shape, pair.num_classes, settings)
    clf.load_weights(os.path.join(stage_dir(workdir, 0), "classifier.weights.h5"))
    train_classifier(
        clf,
        pair.real_labeled_images,
        pair.real_labeled_labels,
        refined,
        pair.synthetic_labels,
        settings.classifier_steps,
        settings,
    )
    clf.save_weights(os.path.join(out, "classifier.weights.h5"))
    extra = {"cycle_loss": float(hist["cycle_loss"][-1])}
    return accuracy(clf, pair.test_images, pair.test_labels), extra


def _stage2(pair, workdir, out, settings):
    shape = pair.real_labeled_images.shape[1:]
    prev = stage_dir(workdir, 1)
    first = build_cyclegan(shape, settings)
    _load_cyclegan(first, prev)
    refined_once = refine(first.generator_ab, pair.synthetic_images)
    gan = build_cyclegan(shape, settings)
    _load_cyclegan(gan, prev)  # stage 2 starts from stage 1's four networks
    hist = train_cyclegan(gan, refined_once, pair.real_images, settings.cyclegan_steps, settings)
    _save_cyclegan(gan, out)
    refined_synthetic = refine(gan.generator_ab, refined_once)
    refined_real = refine(gan.generator_ba, pair.real_labeled_images)
    clf = build_classifier(shape, pair.num_classes, settings)
    clf.load_weights(os.path.join(prev, "classifier.weights.h5"))
    train_classifier(
        clf,
        refined_real,
        pair.real_labeled_labels,
        refined_synthetic,
        pair.synthetic_labels,
        settings.classifier_steps,
        settings,
    )
    clf.save_weights(os.path.join(out, "classifier.weights.h5"))
    acc = accuracy(
        clf, pair.test_images, pair.test_labels, transform=lambda x: refine(gan.generator_ba, x)
    )
    return acc, {"cycle_loss": float(hist["cycle_loss"][-1])}


def run_stage(
    stage: int, workdir: str, pair: DigitsPair, settings: StageSettings | None = None
) -> dict:
    """Runs MR-GAN stage ``stage`` (0, 1 or 2) in ``workdir``; returns and writes its metrics.

    Stage ``n > 0`` reads stage ``n - 1``'s weights from ``workdir/stage_<n-1>`` (see the
    module docstring for what each stage trains) and writes its own to ``workdir/stage_<n>``,
    with ``metrics.json`` holding ``test_accuracy`` on ``pair.test_images``.

    Raises:
      StageError: the previous stage's files are missing (nothing is trained), or the
        domains are empty, of different shapes, or of different classes.
    """
    settings = settings or StageSettings()
    check_previous_stage(workdir, stage)
    check_domains(pair)
    out = stage_dir(workdir, stage)
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(settings.seed + stage)
    if stage == 0:
        acc, extra = _stage0(pair, out, settings)
    elif stage == 1:
        acc, extra = _stage1(pair, workdir, out, settings)
    else:
        acc, extra = _stage2(pair, workdir, out, settings)
    metrics = {
        "stage": stage,
        "test_accuracy": acc,
        **extra,
        "settings": dataclasses.asdict(settings),
    }
    _write_metrics(out, metrics)
    return metrics


def real_only_accuracy(pair: DigitsPair, settings: StageSettings | None = None) -> float:
    """Test accuracy of the classifier trained on the real labeled images alone (the baseline)."""
    settings = settings or StageSettings()
    keras.utils.set_random_seed(settings.seed)
    clf = build_classifier(pair.real_labeled_images.shape[1:], pair.num_classes, settings)
    empty = np.zeros((0, *pair.real_labeled_images.shape[1:]), np.float32)
    train_classifier(
        clf,
        pair.real_labeled_images,
        pair.real_labeled_labels,
        empty,
        np.zeros((0,), np.int32),
        settings.classifier_steps,
        settings,
    )
    return accuracy(clf, pair.test_images, pair.test_labels)

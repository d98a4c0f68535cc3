"""View builders: batch-level augmentation pipelines that return the batch-contract dicts.

``VIEWS[name](**kwargs)`` returns ``fn(images) -> dict`` where ``images`` is a batch
``[B, H, W, C]`` float32 in [0, 1] (uint8 also works and is returned as uint8). Every
image gets its own random draws. The trainer batches first and then calls these builders
on the batch, inside ``tf.data``.

=============  ==================================  =========================================
name           returns                             reference
=============  ==================================  =========================================
identity       ``{"image"}``                       no augmentation
flip_crop      ``{"image"}``                       standard CIFAR: reflect pad-and-crop by
                                                   12.5% + horizontal flip (He et al. 2016;
                                                   FixMatch's weak augmentation)
weak_strong    ``{"image_weak", "image_strong"}``  FixMatch (Sohn et al. 2020,
                                                   https://arxiv.org/abs/2001.07685), RA
                                                   variant
simclr         ``{"views": (v1, v2)}``             SimCLR (Chen et al. 2020,
                                                   https://arxiv.org/abs/2002.05709)
multi_weak     ``{"views": (v1, ..., vK)}``        MixMatch's K weak augmentations
                                                   (Berthelot et al. 2019,
                                                   https://arxiv.org/abs/1905.02249)
autoaugment    ``{"image"}``                       an AutoAugment policy: published or
                                                   searched (Cubuk et al. 2019,
                                                   https://arxiv.org/abs/1805.09501)
randaugment    ``{"image"}``                       RandAugment(N, M) (Cubuk et al. 2020,
                                                   https://arxiv.org/abs/1909.13719)
tanda          ``{"image"}``                       a trained TANDA generator (Ratner et al.
                                                   2017, https://arxiv.org/abs/1709.01643)
=============  ==================================  =========================================

Factories take only the keyword arguments they document; anything else raises a
``ValueError`` naming the unknown key and the accepted ones.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

import tensorflow as tf

from tfless.augment import ops, rng
from tfless.augment.policies import (
    FIXMATCH_OPS,
    POLICIES,
    RANDAUGMENT_OPS,
    RandAugment,
    check_policy,
    load_policy,
    policy_translate_fraction,
)
from tfless.augment.search_space import apply_policy_tables, pick_subpolicies
from tfless.augment.tanda import FrozenGenerator, read_generator

# Pure graph code: skip AutoGraph conversion when tf.data traces the view functions.
_no_autograph = ops._no_autograph


def _weak(images, flip: bool, pad_fraction: float):
    if pad_fraction > 0:
        images = ops.random_pad_crop(images, pad_fraction=pad_fraction)
    if flip:
        images = ops.random_flip_left_right(images)
    return images


def identity() -> Callable:
    """No augmentation: ``images -> {"image": images}``."""

    @_no_autograph
    def fn(images):
        return {"image": ops.check_images(images)}

    return fn


def flip_crop(flip: bool = True, pad_fraction: float = 0.125) -> Callable:
    """Standard CIFAR augmentation: random reflect pad-and-crop, then random horizontal flip.

    Args:
      flip: flip horizontally with probability 0.5 (set False for digits, where a flip
        changes the class).
      pad_fraction: padding (and maximum shift) as a fraction of the image side; 0.125 is
        4 px on 32 px images.

    Returns:
      ``fn(images [B, H, W, C]) -> {"image": [B, H, W, C]}``.
    """
    _check_fraction(pad_fraction)

    @_no_autograph
    def fn(images):
        return {"image": _weak(ops.check_images(images), flip, pad_fraction)}

    return fn


def bit_crop(flip: bool = True, crop_fraction: float = 0.8) -> Callable:
    """BiT-HyperRule's training crop: a random square of ``crop_fraction`` of the side,
    resized back to the image size, then a random horizontal flip.

    "Big Transfer (BiT)" (Kolesnikov et al. 2020, arXiv:1912.11370) resizes small images to
    160x160 and takes a random 128x128 crop (the official code, google-research/big_transfer
    ``bit_hyperrule.py``: 512 -> 480 for larger ones); test images are resized to 128. With
    the pipeline's images already at the test size, a crop of 128/160 = 0.8 of the side
    resized to 128 shows the same content at the same scale (bilinear both ways).

    Returns:
      ``fn(images [B, H, W, C]) -> {"image": [B, H, W, C]}``.
    """
    if not 0.0 < crop_fraction <= 1.0:
        raise ValueError(f"crop_fraction must be in (0, 1]; got {crop_fraction!r}.")

    @_no_autograph
    def fn(images):
        images = ops.check_images(images)
        batch = tf.shape(images)[0]
        corner = rng.uniform([batch, 2], 0.0, 1.0 - crop_fraction)
        boxes = tf.concat([corner, corner + crop_fraction], axis=1)
        size = tf.shape(images)[1:3]
        crops = tf.image.crop_and_resize(images, boxes, tf.range(batch), size)
        crops = tf.ensure_shape(crops, images.shape)
        return {"image": ops.random_flip_left_right(crops) if flip else crops}

    return fn


def weak_strong(
    flip: bool = True,
    pad_fraction: float = 0.125,
    num_layers: int = 2,
    magnitude: tuple[float, float] = (1.0, 10.0),
    prob: float = 0.5,
    cutout: float = 0.5,
    ops_list=FIXMATCH_OPS,
    translate_fraction: float = ops.FIXMATCH_TRANSLATE_FRACTION,
) -> Callable:
    """FixMatch weak and strong views of the same images (RandAugment variant).

    Weak: ``flip_crop``. Strong: the weak augmentation, then RandAugment with ``num_layers``
    ops from FixMatch's 14-op list, each applied with probability ``prob`` at a magnitude
    drawn uniformly per image and op from ``magnitude``, then Cutout of side
    ``cutout`` x the image side with a grey fill. This follows FixMatch's official RA code
    (google-research/fixmatch ``libml/augment.py``, ``AugmentPoolRAMC``: 2 ops, probability
    0.5, magnitude ``randint(1, 10)``, then ``cutout_numpy`` of half the image side). Our ops
    use the TF reference's magnitude mapping (see ``tfless.augment.ops``), except that
    translations reach 0.3 of the side, FixMatch's range (arXiv:2001.07685, Table 12), not
    the reference's ImageNet 100 px of 224.

    Args:
      flip, pad_fraction: as ``flip_crop``.
      num_layers: ops per strong image.
      magnitude: ``(low, high)`` range of per-image magnitudes in [0, 10].
      prob: probability of applying each chosen op.
      cutout: cutout side as a fraction of the smaller image side (0 disables).
      ops_list: op names RandAugment chooses from.
      translate_fraction: largest translation as a fraction of the image side.

    Returns:
      ``fn(images) -> {"image_weak", "image_strong"}``, each ``[B, H, W, C]``.
    """
    _check_fraction(pad_fraction)
    ops.check_probability(cutout, "cutout")
    rand_augment = RandAugment(
        num_layers,
        tuple(magnitude),
        ops=ops_list,
        prob=prob,
        translate_fraction=translate_fraction,
    )

    @_no_autograph
    def fn(images):
        images = ops.check_images(images)
        weak = _weak(images, flip, pad_fraction)
        strong = rand_augment(_weak(images, flip, pad_fraction))
        if cutout > 0:
            strong = ops.cutout(strong, size=cutout)
        return {"image_weak": weak, "image_strong": strong}

    return fn


def simclr(
    size: tuple[int, int] | None = None,
    strength: float = 1.0,
    crop_scale: tuple[float, float] = (0.08, 1.0),
    flip: bool = True,
    jitter_p: float = 0.8,
    grayscale_p: float = 0.2,
    blur: bool = False,
    blur_p: float = 0.5,
    num_views: int = 2,
) -> Callable:
    """SimCLR's augmentation applied independently twice (or ``num_views`` times).

    Random resized crop (scale ``crop_scale``, aspect 3/4..4/3) to ``size``, horizontal
    flip, colour jitter of strength ``strength`` (0.8 brightness/contrast/saturation and 0.2
    hue, times the strength) with probability ``jitter_p``, grayscale with probability
    ``grayscale_p``, and optionally Gaussian blur (sigma 0.1..2.0, kernel 10% of the side)
    with probability ``blur_p`` (Chen et al. 2020, Appendix A: blur for ImageNet, not for
    CIFAR-10, where the colour strength is 0.5).

    Returns:
      ``fn(images [B, H, W, C]) -> {"views": (v1, v2)}``, each view ``[B, *size, C]``.
    """
    if num_views < 1:
        raise ValueError(f"num_views must be >= 1, got {num_views!r}")
    if strength < 0:
        raise ValueError(f"strength must be >= 0, got {strength!r}")
    for name, p in (("jitter_p", jitter_p), ("grayscale_p", grayscale_p), ("blur_p", blur_p)):
        ops.check_probability(p, name)

    def one_view(images):
        view = ops.random_resized_crop(images, size=size, scale=crop_scale)
        if flip:
            view = ops.random_flip_left_right(view)
        view = ops.color_jitter(view, strength=strength, p=jitter_p)
        view = ops.random_grayscale(view, p=grayscale_p)
        if blur:
            view = ops.gaussian_blur(view, p=blur_p)
        return view

    @_no_autograph
    def fn(images):
        images = ops.check_images(images)
        # A tuple, not a list: tf.data stacks a list into one [V, B, ...] tensor, which
        # tf.distribute then splits along the view axis.
        return {"views": tuple(one_view(images) for _ in range(num_views))}

    return fn


def multi_weak(k: int = 2, flip: bool = True, pad_fraction: float = 0.125) -> Callable:
    """K independent weak (``flip_crop``) augmentations, as MixMatch's label guessing uses.

    Args:
      k: number of views (MixMatch: K = 2).
      flip, pad_fraction: as ``flip_crop``.

    Returns:
      ``fn(images) -> {"views": (v1, ..., vK)}``, each ``[B, H, W, C]``.
    """
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    _check_fraction(pad_fraction)

    @_no_autograph
    def fn(images):
        images = ops.check_images(images)
        return {"views": tuple(_weak(images, flip, pad_fraction) for _ in range(int(k)))}

    return fn


def autoaugment(
    policy="cifar10",
    pad_fraction: float = 0.0,
    flip: bool = False,
    translate_fraction: float | None = None,
) -> Callable:
    """View factory: an AutoAugment policy, optionally after pad-crop and flip.

    Args:
      policy: a name in ``POLICIES``, a path to a JSON file written by
        :func:`tfless.augment.policies.save_policy`, or a policy list.
      pad_fraction: reflect pad-and-crop before the policy (0 disables).
      flip: random horizontal flip before the policy.
      translate_fraction: largest translation as a fraction of the side; default the
        policy's own (:func:`tfless.augment.policies.policy_translate_fraction`: 10 px of
        32 for the CIFAR-10 and SVHN policies, 100 px of 224 otherwise).

    Returns:
      ``fn(images [B, H, W, C]) -> {"image": [B, H, W, C]}``.
    """
    if translate_fraction is None:
        translate_fraction = policy_translate_fraction(policy)
    ops.check_probability(translate_fraction, "translate_fraction")
    if isinstance(policy, str) and policy not in POLICIES:
        policy = load_policy(policy)
    checked = check_policy(policy)
    names = ["Identity"] + sorted({n for sub in checked for n, _, _ in sub} - {"Identity"})
    length = max(len(sub) for sub in checked)
    padded = [sub + [("Identity", 0.0, 0.0)] * (length - len(sub)) for sub in checked]
    tables = (
        tf.constant([[[names.index(n) for n, _, _ in sub] for sub in padded]], tf.int32),
        tf.constant([[[p for _, p, _ in sub] for sub in padded]], tf.float32),
        tf.constant([[[m for _, _, m in sub] for sub in padded]], tf.float32),
    )
    _check_fraction(pad_fraction)

    def fn(images):
        images = _weak(ops.check_images(images), flip, pad_fraction)
        rows = pick_subpolicies(tables, tf.zeros([tf.shape(images)[0]], tf.int32))
        return {
            "image": apply_policy_tables(
                images, *rows, names, translate_fraction=translate_fraction
            )
        }

    return fn


def randaugment(
    num_layers: int = 2, magnitude: float = 9.0, pad_fraction: float = 0.0, ops_list=None
) -> Callable:
    """View factory: RandAugment(N, M) over ``ops_list`` (default the reference's 17 ops).

    Returns:
      ``fn(images) -> {"image"}``.
    """
    rand_augment = RandAugment(num_layers, magnitude, ops=tuple(ops_list or RANDAUGMENT_OPS))
    _check_fraction(pad_fraction)

    def fn(images):
        return {"image": rand_augment(_weak(ops.check_images(images), False, pad_fraction))}

    return fn


def tanda(path: str, pad_fraction: float = 0.0, prob: float = 1.0) -> Callable:
    """View factory: augment with a trained TANDA generator.

    Args:
      path: generator JSON written by :func:`tfless.methods.augment.tanda.save_generator`
        (or the ``tanda`` mode of ``python -m tfless.cli.augment_search``).
      pad_fraction: reflect pad-and-crop before the TF sequence (0 disables).
      prob: probability that an image is transformed at all (TANDA trained end models on
        a mix of original and augmented data).

    Returns:
      ``fn(images [B, H, W, C]) -> {"image": [B, H, W, C]}``.
    """
    record = read_generator(path)
    generator = FrozenGenerator(record["transforms"], record["sequence_length"], record["weights"])
    ops.check_probability(prob, "prob")
    _check_fraction(pad_fraction)

    def fn(images):
        images = _weak(ops.check_images(images), False, pad_fraction)
        out = generator(images)
        if prob < 1.0:
            keep = rng.uniform([tf.shape(images)[0], 1, 1, 1]) < prob
            out = tf.where(keep, out, images)
        return {"image": out}

    return fn


def _check_fraction(pad_fraction):
    if not 0.0 <= pad_fraction < 1.0:
        raise ValueError(f"pad_fraction must be in [0, 1), got {pad_fraction!r}")


def _strict(factory: Callable) -> Callable:
    """Wraps a factory so unknown keyword arguments raise a ValueError listing valid ones."""
    accepted = list(inspect.signature(factory).parameters)

    @functools.wraps(factory)
    def build(**kwargs):
        unknown = sorted(set(kwargs) - set(accepted))
        if unknown:
            raise ValueError(
                f"view {factory.__name__!r} got unknown argument(s) {unknown}; accepted: {accepted}"
            )
        return factory(**kwargs)

    return build


#: View-builder registry: ``VIEWS[name](**kwargs) -> fn(images) -> dict``.
VIEWS: dict[str, Callable] = {
    f.__name__: _strict(f)
    for f in (
        identity,
        flip_crop,
        bit_crop,
        weak_strong,
        simclr,
        multi_weak,
        autoaugment,
        randaugment,
        tanda,
    )
}


def build_view(name: str, **kwargs) -> Callable:
    """``VIEWS[name](**kwargs)`` with a clear error for an unknown name."""
    if name not in VIEWS:
        raise ValueError(f"unknown view {name!r}; expected one of {sorted(VIEWS)}")
    return VIEWS[name](**kwargs)

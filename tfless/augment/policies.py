"""Published AutoAugment policies as data, ``apply_policy``, policy files and ``RandAugment``.

A policy is a list of sub-policies; a sub-policy is a list of ``(op_name, probability,
magnitude)`` tuples with op names from ``tfless.augment.ops.OPS``, probabilities in [0, 1]
and magnitudes on the 0..10 scale of ``tfless.augment.ops``. Applying a policy draws one
sub-policy per image and applies each of its ops with its probability, in order.
``save_policy`` / ``load_policy`` keep a (searched) policy in a JSON file in the same
format.

Sources:
  AutoAugment: Cubuk, Zoph, Mane, Vasudevan, Le, "AutoAugment: Learning Augmentation
  Policies from Data", CVPR 2019, https://arxiv.org/abs/1805.09501 (policies in the
  appendix). The magnitudes below are on the 0..10 level scale used by the TF reference
  implementation, tensorflow/models ``official/vision/ops/augment.py``
  (``policy_reduced_cifar10``, ``policy_svhn``, ``policy_v0``), whose level-to-argument
  mapping ``tfless.augment.ops`` follows (see its caveat on Posterize and Solarize, whose
  direction differs from the AutoAugment authors' original code). Translations use each
  policy's own range (:data:`POLICY_TRANSLATE_FRACTION`): 10 px of 32 for the CIFAR-10 and
  SVHN policies, as the authors' CIFAR code, and 100 px of 224 for ImageNet.

  RandAugment: Cubuk, Zoph, Shlens, Le, "RandAugment: Practical automated data
  augmentation with a reduced search space", NeurIPS 2020, https://arxiv.org/abs/1909.13719.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import tensorflow as tf

from tfless.augment import ops, rng

#: AutoAugment policy found on reduced CIFAR-10 (4,000 images), 25 sub-policies.
CIFAR10_POLICY = [
    [("Invert", 0.1, 7), ("Contrast", 0.2, 6)],
    [("Rotate", 0.7, 2), ("TranslateX", 0.3, 9)],
    [("Sharpness", 0.8, 1), ("Sharpness", 0.9, 3)],
    [("ShearY", 0.5, 8), ("TranslateY", 0.7, 9)],
    [("AutoContrast", 0.5, 8), ("Equalize", 0.9, 2)],
    [("ShearY", 0.2, 7), ("Posterize", 0.3, 7)],
    [("Color", 0.4, 3), ("Brightness", 0.6, 7)],
    [("Sharpness", 0.3, 9), ("Brightness", 0.7, 9)],
    [("Equalize", 0.6, 5), ("Equalize", 0.5, 1)],
    [("Contrast", 0.6, 7), ("Sharpness", 0.6, 5)],
    [("Color", 0.7, 7), ("TranslateX", 0.5, 8)],
    [("Equalize", 0.3, 7), ("AutoContrast", 0.4, 8)],
    [("TranslateY", 0.4, 3), ("Sharpness", 0.2, 6)],
    [("Brightness", 0.9, 6), ("Color", 0.2, 8)],
    [("Solarize", 0.5, 2), ("Invert", 0.0, 3)],
    [("Equalize", 0.2, 0), ("AutoContrast", 0.6, 0)],
    [("Equalize", 0.2, 8), ("Equalize", 0.6, 4)],
    [("Color", 0.9, 9), ("Equalize", 0.6, 6)],
    [("AutoContrast", 0.8, 4), ("Solarize", 0.2, 8)],
    [("Brightness", 0.1, 3), ("Color", 0.7, 0)],
    [("Solarize", 0.4, 5), ("AutoContrast", 0.9, 3)],
    [("TranslateY", 0.9, 9), ("TranslateY", 0.7, 9)],
    [("AutoContrast", 0.9, 2), ("Solarize", 0.8, 3)],
    [("Equalize", 0.8, 8), ("Invert", 0.1, 3)],
    [("TranslateY", 0.7, 9), ("AutoContrast", 0.9, 1)],
]

#: AutoAugment policy found on reduced SVHN (1,000 images), 25 sub-policies.
SVHN_POLICY = [
    [("ShearX", 0.9, 4), ("Invert", 0.2, 3)],
    [("ShearY", 0.9, 8), ("Invert", 0.7, 5)],
    [("Equalize", 0.6, 5), ("Solarize", 0.6, 6)],
    [("Invert", 0.9, 3), ("Equalize", 0.6, 3)],
    [("Equalize", 0.6, 1), ("Rotate", 0.9, 3)],
    [("ShearX", 0.9, 4), ("AutoContrast", 0.8, 3)],
    [("ShearY", 0.9, 8), ("Invert", 0.4, 5)],
    [("ShearY", 0.9, 5), ("Solarize", 0.2, 6)],
    [("Invert", 0.9, 6), ("AutoContrast", 0.8, 1)],
    [("Equalize", 0.6, 3), ("Rotate", 0.9, 3)],
    [("ShearX", 0.9, 4), ("Solarize", 0.3, 3)],
    [("ShearY", 0.8, 8), ("Invert", 0.7, 4)],
    [("Equalize", 0.9, 5), ("TranslateY", 0.6, 6)],
    [("Invert", 0.9, 4), ("Equalize", 0.6, 7)],
    [("Contrast", 0.3, 3), ("Rotate", 0.8, 4)],
    [("Invert", 0.8, 5), ("TranslateY", 0.0, 2)],
    [("ShearY", 0.7, 6), ("Solarize", 0.4, 8)],
    [("Invert", 0.6, 4), ("Rotate", 0.8, 4)],
    [("ShearY", 0.3, 7), ("TranslateX", 0.9, 3)],
    [("ShearX", 0.1, 6), ("Invert", 0.6, 5)],
    [("Solarize", 0.7, 2), ("TranslateY", 0.6, 7)],
    [("ShearY", 0.8, 4), ("Invert", 0.8, 8)],
    [("ShearX", 0.7, 9), ("TranslateY", 0.8, 3)],
    [("ShearY", 0.8, 5), ("AutoContrast", 0.7, 3)],
    [("ShearX", 0.7, 2), ("Invert", 0.1, 5)],
]

#: AutoAugment ImageNet policy as used in the TF reference (``policy_v0``, the policy of
#: the EfficientNet/AutoAugment TPU code), 25 sub-policies.
IMAGENET_POLICY = [
    [("Equalize", 0.8, 1), ("ShearY", 0.8, 4)],
    [("Color", 0.4, 9), ("Equalize", 0.6, 3)],
    [("Color", 0.4, 1), ("Rotate", 0.6, 8)],
    [("Solarize", 0.8, 3), ("Equalize", 0.4, 7)],
    [("Solarize", 0.4, 2), ("Solarize", 0.6, 2)],
    [("Color", 0.2, 0), ("Equalize", 0.8, 8)],
    [("Equalize", 0.4, 8), ("SolarizeAdd", 0.8, 3)],
    [("ShearX", 0.2, 9), ("Rotate", 0.6, 8)],
    [("Color", 0.6, 1), ("Equalize", 1.0, 2)],
    [("Invert", 0.4, 9), ("Rotate", 0.6, 0)],
    [("Equalize", 1.0, 9), ("ShearY", 0.6, 3)],
    [("Color", 0.4, 7), ("Equalize", 0.6, 0)],
    [("Posterize", 0.4, 6), ("AutoContrast", 0.4, 7)],
    [("Solarize", 0.6, 8), ("Color", 0.6, 9)],
    [("Solarize", 0.2, 4), ("Rotate", 0.8, 9)],
    [("Rotate", 1.0, 7), ("TranslateY", 0.8, 9)],
    [("ShearX", 0.0, 0), ("Solarize", 0.8, 4)],
    [("ShearY", 0.8, 0), ("Color", 0.6, 4)],
    [("Color", 1.0, 0), ("Rotate", 0.6, 2)],
    [("Equalize", 0.8, 4), ("Equalize", 0.0, 8)],
    [("Equalize", 1.0, 4), ("AutoContrast", 0.6, 2)],
    [("ShearY", 0.4, 7), ("SolarizeAdd", 0.6, 7)],
    [("Posterize", 0.8, 2), ("Solarize", 0.6, 10)],
    [("Solarize", 0.6, 8), ("Equalize", 0.6, 1)],
    [("Color", 0.8, 6), ("Rotate", 0.4, 5)],
]

POLICIES = {"cifar10": CIFAR10_POLICY, "svhn": SVHN_POLICY, "imagenet": IMAGENET_POLICY}

#: Maximum translation (fraction of the image side) each published policy was searched and
#: trained with: the AutoAugment authors' CIFAR-10 and SVHN code shifts at most 10 px of 32
#: (``ops.CIFAR_TRANSLATE_FRACTION``); the ImageNet policy keeps the TF reference's 100 px
#: of 224 (``ops.TRANSLATE_FRACTION``). :func:`apply_policy` and the ``autoaugment`` view use
#: these for a policy given by name.
POLICY_TRANSLATE_FRACTION = {
    "cifar10": ops.CIFAR_TRANSLATE_FRACTION,
    "svhn": ops.CIFAR_TRANSLATE_FRACTION,
    "imagenet": ops.TRANSLATE_FRACTION,
}


def policy_translate_fraction(policy) -> float:
    """The translation range of ``policy``: its entry in :data:`POLICY_TRANSLATE_FRACTION`
    for a published policy's name, else ``ops.TRANSLATE_FRACTION`` (a policy list or file)."""
    if isinstance(policy, str) and policy in POLICY_TRANSLATE_FRACTION:
        return POLICY_TRANSLATE_FRACTION[policy]
    return ops.TRANSLATE_FRACTION


#: RandAugment's op list in the TF reference: the 16 ops plus Identity (17 choices).
RANDAUGMENT_OPS = ops.OP_NAMES

#: The 14 ops of the RandAugment paper (Section 3): no Invert, SolarizeAdd or Cutout.
RANDAUGMENT_PAPER_OPS = tuple(
    n for n in ops.OP_NAMES if n not in ("Invert", "SolarizeAdd", "Cutout")
)

#: FixMatch's RandAugment op list (google-research/fixmatch ``libml/augment.py``
#: ``RANDOM_POLICY_OPS``): the paper's 14 ops.
FIXMATCH_OPS = RANDAUGMENT_PAPER_OPS

#: RandAugment (N, M) per dataset from the RandAugment paper (Table 2 and Section 4), for
#: the largest network of each setting: CIFAR-10 WRN-28-10 (3, 5), CIFAR-100 WRN-28-10
#: (2, 14), SVHN WRN-28-10 (3, 7; from our reading of the paper, unverified), ImageNet
#: ResNet-50 (2, 9). Magnitudes above 10 use the paper's linear extrapolation (its
#: magnitude axis runs to 30).
RANDAUGMENT_PRESETS = {
    "cifar10": (3, 5),
    "cifar100": (2, 14),
    "svhn": (3, 7),
    "imagenet": (2, 9),
}


def check_policy(policy) -> list[list[tuple[str, float, float]]]:
    """Validates a policy and returns it as lists of ``(name, prob, magnitude)`` tuples.

    Raises:
      ValueError: empty policy, malformed entries, unknown op names, probabilities outside
        [0, 1] or magnitudes outside [0, 10]; the message names the offending entry.
    """
    if isinstance(policy, str):
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r}; expected one of {sorted(POLICIES)}")
        policy = POLICIES[policy]
    if not policy:
        raise ValueError("policy must contain at least one sub-policy, got an empty policy")
    checked = []
    for i, sub in enumerate(policy):
        if not sub:
            raise ValueError(f"sub-policy {i} is empty")
        entries = []
        for j, entry in enumerate(sub):
            if len(entry) != 3:
                raise ValueError(
                    f"sub-policy {i} entry {j} must be (op_name, probability, magnitude), "
                    f"got {entry!r}"
                )
            name, prob, magnitude = entry
            if name not in ops.OP_NAMES:
                raise ValueError(
                    f"sub-policy {i} entry {j}: unknown op {name!r}; "
                    f"expected one of {sorted(ops.OP_NAMES)}"
                )
            ops.check_probability(prob, f"sub-policy {i} entry {j} probability")
            try:
                ops.check_magnitude(float(magnitude))
            except (TypeError, ValueError) as err:
                raise ValueError(f"sub-policy {i} entry {j} ({name}): {err}") from None
            entries.append((name, float(prob), float(magnitude)))
        checked.append(entries)
    return checked


@tf.autograph.experimental.do_not_convert
def apply_policy(images, policy, **kwargs) -> tf.Tensor:
    """Applies an AutoAugment policy: one random sub-policy per image.

    Each op of the chosen sub-policy is applied with its probability and magnitude. Sub-
    policies of different lengths are padded with Identity. The whole batch goes through
    ``ops.apply_per_image`` once per op position, so the cost does not grow with the
    number of sub-policies.

    Args:
      images: ``[B, H, W, C]`` float32 [0, 1] or uint8.
      policy: a policy name in ``POLICIES`` or a list of sub-policies.
      **kwargs: ``translate_fraction`` / ``cutout_fraction`` for ``ops.apply_per_image``;
        ``translate_fraction`` defaults to the policy's own range
        (:func:`policy_translate_fraction`).

    Returns:
      the augmented batch, same shape and dtype.
    """
    unknown = set(kwargs) - {"translate_fraction", "cutout_fraction"}
    if unknown:
        raise ValueError(f"unknown argument(s) {sorted(unknown)} for apply_policy")
    kwargs.setdefault("translate_fraction", policy_translate_fraction(policy))
    policy = check_policy(policy)
    images = ops.check_images(images)
    names = ["Identity"] + sorted({n for sub in policy for n, _, _ in sub} - {"Identity"})
    length = max(len(sub) for sub in policy)
    # Tables [num_subpolicies, length] of op index, probability and magnitude.
    padded = [sub + [("Identity", 0.0, 0.0)] * (length - len(sub)) for sub in policy]
    op_table = tf.constant([[names.index(n) for n, _, _ in sub] for sub in padded], tf.int32)
    prob_table = tf.constant([[p for _, p, _ in sub] for sub in padded], tf.float32)
    mag_table = tf.constant([[m for _, _, m in sub] for sub in padded], tf.float32)

    batch = tf.shape(images)[0]
    choice = rng.uniform([batch], 0, len(policy), dtype=tf.int32)
    quantized = images.dtype == tf.uint8
    x = ops.to_float255(images)
    for step in range(length):
        op_index = tf.gather(op_table[:, step], choice)
        apply = rng.uniform([batch]) < tf.gather(prob_table[:, step], choice)
        op_index = tf.where(apply, op_index, 0)
        magnitude = tf.gather(mag_table[:, step], choice)
        x = ops.apply_per_image(x, op_index, magnitude, names, quantized, **kwargs)
    return ops.from_float255(x, images.dtype)


def save_policy(path: str, policy, **metadata) -> None:
    """Writes ``{"policy": [[[op, prob, magnitude], ...], ...], ...metadata}`` as JSON."""
    checked = check_policy(policy)
    record = {"policy": [[list(op) for op in sub] for sub in checked], **metadata}
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(record, f, indent=1)
    os.replace(tmp, path)


def load_policy(path: str) -> list[list[tuple[str, float, float]]]:
    """Reads a policy JSON written by :func:`save_policy` and validates it."""
    if not os.path.exists(path):
        raise ValueError(
            f"policy {path!r} is neither a known policy {sorted(POLICIES)} nor an existing file"
        )
    with open(path) as f:
        record = json.load(f)
    if not isinstance(record, dict) or "policy" not in record:
        raise ValueError(f"{path!r} holds no 'policy' entry")
    return check_policy([[tuple(op) for op in sub] for sub in record["policy"]])


class RandAugment:
    """RandAugment: ``num_layers`` ops chosen uniformly per image, at a shared magnitude.

    Each image independently draws, for each of the ``num_layers`` layers, one op from
    ``ops`` (uniformly, Identity included) and applies it with magnitude ``magnitude``
    (Cubuk et al. 2020, https://arxiv.org/abs/1909.13719). Options of the TF reference and
    of FixMatch: ``magnitude`` may be a ``(low, high)`` range sampled uniformly per image
    and layer (FixMatch's RA samples a magnitude per image), ``magnitude_std`` adds
    Gaussian noise to the magnitude (timm's ``mstd``), and ``prob`` applies each chosen op
    only with that probability (FixMatch's RA uses 0.5).

    Args:
      num_layers: N, number of ops per image (>= 0).
      magnitude: M, a number or ``(low, high)`` on the 0..``max_magnitude`` scale.
      ops: op names to choose from; default the reference's 16 ops plus Identity.
      magnitude_std: standard deviation of per-image magnitude noise.
      prob: probability of applying each chosen op.
      max_magnitude: upper bound for magnitudes; 10 unless a preset extrapolates (the
        paper's magnitude axis runs to 30).
      translate_fraction: largest translation as a fraction of the image side, in [0, 1];
        default the TF reference's ImageNet 100 px of 224 (``ops.TRANSLATE_FRACTION``);
        FixMatch's strong view uses ``ops.FIXMATCH_TRANSLATE_FRACTION`` (0.3).
      cutout_fraction: largest Cutout half-side as a fraction of the smaller side.

    Call with ``images`` ``[B, H, W, C]`` float32 [0, 1] or uint8; returns the same.
    """

    def __init__(
        self,
        num_layers: int = 2,
        magnitude=10.0,
        ops: Sequence[str] = RANDAUGMENT_OPS,
        magnitude_std: float = 0.0,
        prob: float = 1.0,
        max_magnitude: float = ops.MAX_MAGNITUDE,
        translate_fraction: float = ops.TRANSLATE_FRACTION,
        cutout_fraction: float = ops.CUTOUT_FRACTION,
    ):
        if int(num_layers) != num_layers or num_layers < 0:
            raise ValueError(f"num_layers must be a non-negative integer, got {num_layers!r}")
        if not 10.0 <= max_magnitude <= 30.0:
            raise ValueError(f"max_magnitude must be in [10, 30], got {max_magnitude!r}")
        if isinstance(magnitude, (tuple, list)):
            if len(magnitude) != 2 or magnitude[0] > magnitude[1]:
                raise ValueError(f"magnitude range must be (low, high), got {magnitude!r}")
            for value in magnitude:
                _check_magnitude(value, max_magnitude)
        else:
            _check_magnitude(magnitude, max_magnitude)
        if magnitude_std < 0:
            raise ValueError(f"magnitude_std must be >= 0, got {magnitude_std!r}")
        ops_list = list(ops)
        if not ops_list:
            raise ValueError("ops must name at least one op, got an empty list")
        for name in ops_list:
            _check_op(name)
        _check_prob(prob)
        _check_fraction(translate_fraction, "translate_fraction")
        _check_fraction(cutout_fraction, "cutout_fraction")
        self.num_layers = int(num_layers)
        self.magnitude = magnitude
        self.ops = ops_list
        self.magnitude_std = float(magnitude_std)
        self.prob = float(prob)
        self.max_magnitude = float(max_magnitude)
        self.translate_fraction = translate_fraction
        self.cutout_fraction = cutout_fraction
        # Identity first so that "not applied" (prob) can select index 0.
        self._names = ["Identity"] + [n for n in dict.fromkeys(ops_list) if n != "Identity"]
        self._choices = tf.constant([self._names.index(n) for n in ops_list], tf.int32)

    @classmethod
    def preset(cls, dataset: str, **kwargs) -> RandAugment:
        """RandAugment with the paper's (N, M) for ``dataset`` in ``RANDAUGMENT_PRESETS``."""
        if dataset not in RANDAUGMENT_PRESETS:
            raise ValueError(
                f"unknown RandAugment preset {dataset!r}; expected one of "
                f"{sorted(RANDAUGMENT_PRESETS)}"
            )
        num_layers, magnitude = RANDAUGMENT_PRESETS[dataset]
        kwargs.setdefault("max_magnitude", max(ops.MAX_MAGNITUDE, float(magnitude)))
        return cls(num_layers, magnitude, **kwargs)

    def _sample_magnitude(self, batch):
        if isinstance(self.magnitude, (tuple, list)):
            low, high = float(self.magnitude[0]), float(self.magnitude[1])
            magnitude = rng.uniform([batch], low, high)
        else:
            magnitude = tf.fill([batch], float(self.magnitude))
        if self.magnitude_std > 0:
            magnitude += rng.normal([batch], stddev=self.magnitude_std)
        return tf.clip_by_value(magnitude, 0.0, self.max_magnitude)

    @tf.autograph.experimental.do_not_convert
    def __call__(self, images) -> tf.Tensor:
        images = ops.check_images(images)
        batch = tf.shape(images)[0]
        quantized = images.dtype == tf.uint8
        x = ops.to_float255(images)
        for _ in range(self.num_layers):
            pick = rng.uniform([batch], 0, len(self.ops), dtype=tf.int32)
            op_index = tf.gather(self._choices, pick)
            if self.prob < 1.0:
                op_index = tf.where(rng.uniform([batch]) < self.prob, op_index, 0)
            x = ops.apply_per_image(
                x,
                op_index,
                self._sample_magnitude(batch),
                self._names,
                quantized,
                translate_fraction=self.translate_fraction,
                cutout_fraction=self.cutout_fraction,
            )
        return ops.from_float255(x, images.dtype)

    def __repr__(self):
        return (
            f"RandAugment(num_layers={self.num_layers}, magnitude={self.magnitude!r}, "
            f"ops={len(self.ops)} ops, prob={self.prob}, magnitude_std={self.magnitude_std})"
        )


def _check_magnitude(value, max_magnitude):
    try:
        ops.check_magnitude(float(value), max_magnitude)
    except TypeError:
        raise ValueError(f"magnitude must be a number, got {value!r}") from None


def _check_op(name):
    ops.check_op_name(name)


def _check_prob(prob):
    ops.check_probability(prob, "prob")


def _check_fraction(value, label):
    ops.check_probability(value, label)

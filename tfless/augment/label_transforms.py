"""Transformation sets of self-supervised label augmentation (SLA).

Lee, Hwang & Shin, "Self-supervised Label Augmentation via Input Transformations" (ICML 2020,
arXiv 1910.05872) expand every image into its ``M`` copies under a fixed set of
transformations ``t_0 .. t_{M-1}`` (``t_0`` the identity) and label copy ``j`` of an image of
class ``y`` with the joint label ``y * M + j``. The sets of the paper (and of the authors'
code, github.com/hankook/SLA):

==================  ===  =========================================================
name                M    transformations, in label order
==================  ===  =========================================================
``rotation``        4    rotation by 0, 90, 180, 270 degrees (counter-clockwise)
``rotation2``       2    rotation by 0, 180 degrees
``color_perm``      6    the 6 orderings of the RGB channels
``color_perm3``     3    the 3 cyclic orderings (RGB, GBR, BRG)
``rot_color_perm6``   6  ``rotation2 x color_perm3``
``rot_color_perm12`` 12  ``rotation x color_perm3``
``rot_color_perm24`` 24  ``rotation x color_perm``
==================  ===  =========================================================

A product ``a x b`` (:func:`compose`) applies ``a``'s transformation, then ``b``'s, with
``b`` varying fastest (index ``ja * len(b) + jb``), as the authors' products do.

A transformation is a pair ``(quarter turns k, channel order)``; a set is a validated tuple
of them (:class:`TransformSet`): at least two, no duplicates, the identity first (single
inference and self-distillation read the identity copy at ``j = 0``).
"""

from __future__ import annotations

import dataclasses
import itertools

import tensorflow as tf

#: Channel orders of ``color_perm`` in the authors' label order (lexicographic).
COLOR_PERMUTATIONS = tuple(itertools.permutations(range(3)))
#: The cyclic channel orders of ``color_perm3``: identity, then the two cyclic shifts.
CYCLIC_COLOR_PERMUTATIONS = ((0, 1, 2), (1, 2, 0), (2, 0, 1))


@dataclasses.dataclass(frozen=True)
class Transform:
    """One input transformation: ``quarter_turns`` rotations by 90 degrees counter-clockwise,
    then the channels reordered to ``channels`` (``None``: channels left as they are).

    ``channels=(1, 2, 0)`` makes output channel ``c`` the input channel ``channels[c]``.
    """

    quarter_turns: int = 0
    channels: tuple[int, ...] | None = None

    @property
    def is_identity(self) -> bool:
        """True for the transformation that leaves every image as it is."""
        return self.quarter_turns % 4 == 0 and (
            self.channels is None or tuple(self.channels) == tuple(range(len(self.channels)))
        )

    def key(self) -> tuple:
        """A canonical form: two transformations with equal keys act identically."""
        channels = None if self.channels is None else tuple(self.channels)
        if channels is not None and channels == tuple(range(len(channels))):
            channels = None
        return (self.quarter_turns % 4, channels)

    def then(self, other: Transform) -> Transform:
        """This transformation followed by ``other``.

        A channel reordering commutes with a rotation, so the product is the summed
        rotation with the two reorderings chained.
        """
        if self.channels is None:
            channels = other.channels
        elif other.channels is None:
            channels = self.channels
        else:
            channels = tuple(self.channels[c] for c in other.channels)
        return Transform(self.quarter_turns + other.quarter_turns, channels)

    def __call__(self, images: tf.Tensor) -> tf.Tensor:
        """Applies the transformation to images ``[B, H, W, C]``."""
        x = images
        if self.quarter_turns % 4:
            x = tf.image.rot90(x, self.quarter_turns % 4)
        if self.channels is not None and not self.is_identity:
            x = tf.gather(x, list(self.channels), axis=-1)
        return x


@dataclasses.dataclass(frozen=True)
class TransformSet:
    """An ordered, validated set of ``M >= 2`` distinct transformations, identity first.

    Args:
      name: what the set is called in errors and reports.
      transforms: the transformations; transformation ``j`` gives joint label ``y * M + j``.

    Raises:
      ValueError: fewer than two transformations, two that act identically, or a first
        transformation other than the identity.
    """

    name: str
    transforms: tuple[Transform, ...]

    def __post_init__(self):
        transforms = tuple(self.transforms)
        object.__setattr__(self, "transforms", transforms)
        if len(transforms) < 2:
            raise ValueError(
                f"Transformation set {self.name!r} has M = {len(transforms)}; SLA needs M >= 2 "
                "transformations (with M = 1 the joint label is the class label: use the "
                "supervised baseline)."
            )
        keys = [t.key() for t in transforms]
        dup = sorted({i for i, k in enumerate(keys) if keys.index(k) != i})
        if dup:
            shown = [(keys.index(keys[i]), i) for i in dup]
            raise ValueError(
                f"Transformation set {self.name!r} has duplicate transformations at positions "
                f"{shown} (first, repeat): {[transforms[i] for i in dup]}. Every copy must be "
                "distinguishable for its joint label to be learnable."
            )
        if not transforms[0].is_identity:
            raise ValueError(
                f"Transformation set {self.name!r} starts with {transforms[0]}; the first "
                "transformation must be the identity (j = 0 is the untransformed image)."
            )

    @property
    def size(self) -> int:
        """``M``, the number of transformations."""
        return len(self.transforms)

    def __len__(self) -> int:
        return len(self.transforms)

    @property
    def permutes_channels(self) -> bool:
        """True when some transformation reorders colour channels."""
        return any(t.channels is not None for t in self.transforms)

    @property
    def rotates_quarter(self) -> bool:
        """True when some transformation turns by an odd number of quarter turns."""
        return any(t.quarter_turns % 2 for t in self.transforms)

    def check_image_shape(self, shape) -> None:
        """Raises ``ValueError`` when images of ``shape`` ``(H, W, C)`` cannot take the set:
        a colour permutation on other than 3 channels, a 90-degree turn of a non-square image.
        """
        h, w, c = (None if d is None else int(d) for d in tuple(shape)[-3:])
        if self.permutes_channels and c != 3:
            raise ValueError(
                f"Transformation set {self.name!r} permutes colour channels, which needs RGB "
                f"images (3 channels); got images with {c} channel(s). Use a rotation set "
                f"({', '.join(repr(n) for n in ROTATION_SETS)}) on gray images."
            )
        if self.rotates_quarter and h is not None and w is not None and h != w:
            raise ValueError(
                f"Transformation set {self.name!r} rotates by 90 degrees, which needs square "
                f"images to keep their shape; got {h}x{w}. Use 'rotation2' or crop to square."
            )

    def expand(self, images: tf.Tensor) -> tf.Tensor:
        """All ``M`` copies of every image, interleaved: row ``b * M + j`` is image ``b``
        under transformation ``j``.

        Args:
          images: ``[B, H, W, C]``.

        Returns:
          ``[B * M, H, W, C]``.
        """
        copies = tf.stack([t(images) for t in self.transforms], axis=1)
        shape = tf.shape(images)
        return tf.reshape(copies, tf.concat([[-1], shape[1:]], 0))

    def __mul__(self, other: TransformSet) -> TransformSet:
        return compose(self, other)


def _rotations(quarter_turns) -> tuple[Transform, ...]:
    return tuple(Transform(k) for k in quarter_turns)


def _colors(orders) -> tuple[Transform, ...]:
    return tuple(Transform(0, tuple(o)) for o in orders)


def compose(*sets: TransformSet | str, name: str | None = None) -> TransformSet:
    """The product of transformation sets: every combination, the last set varying fastest.

    ``compose("rotation", "color_perm3")`` is ``rot_color_perm12``: index ``k * 3 + c`` is
    rotation ``k`` followed by cyclic colour order ``c``.

    Raises:
      ValueError: no sets, an unknown name, or a product with duplicates.
    """
    if not sets:
        raise ValueError(
            f"compose() needs at least one transformation set; expected names of "
            f"{sorted(TRANSFORM_SETS)} or TransformSet objects."
        )
    resolved = [get_transform_set(s) for s in sets]
    transforms = resolved[0].transforms
    for other in resolved[1:]:
        transforms = tuple(a.then(b) for a in transforms for b in other.transforms)
    return TransformSet(name or " x ".join(s.name for s in resolved), transforms)


def _base_sets() -> dict[str, TransformSet]:
    rotation = TransformSet("rotation", _rotations(range(4)))
    rotation2 = TransformSet("rotation2", _rotations((0, 2)))
    color_perm = TransformSet("color_perm", _colors(COLOR_PERMUTATIONS))
    color_perm3 = TransformSet("color_perm3", _colors(CYCLIC_COLOR_PERMUTATIONS))
    return {
        "rotation": rotation,
        "rotation2": rotation2,
        "color_perm": color_perm,
        "color_perm3": color_perm3,
        "rot_color_perm6": compose(rotation2, color_perm3, name="rot_color_perm6"),
        "rot_color_perm12": compose(rotation, color_perm3, name="rot_color_perm12"),
        "rot_color_perm24": compose(rotation, color_perm, name="rot_color_perm24"),
    }


#: The named sets of the paper, filled in below once :func:`get_transform_set` exists.
TRANSFORM_SETS: dict[str, TransformSet] = {}
#: The sets that only rotate (valid on gray images).
ROTATION_SETS = ("rotation", "rotation2")


def get_transform_set(spec: TransformSet | str) -> TransformSet:
    """A :class:`TransformSet` from itself or a name.

    A name is one of :data:`TRANSFORM_SETS`, or a product of them joined by ``x`` or
    ``*`` (``"rotation x color_perm3"``, see :func:`compose`).

    Raises:
      ValueError: an unknown name (naming it and the accepted ones) or another type.
    """
    if isinstance(spec, TransformSet):
        return spec
    if not isinstance(spec, str):
        raise ValueError(
            f"A transformation set must be a name or a TransformSet; got {spec!r}. Expected "
            f"one of {sorted(TRANSFORM_SETS)}."
        )
    parts = [p.strip() for p in spec.replace("*", " x ").split(" x ")]
    if len(parts) > 1:
        return compose(*parts, name=spec)
    if spec not in TRANSFORM_SETS:
        raise ValueError(
            f"Unknown transformation set {spec!r}. Expected one of {sorted(TRANSFORM_SETS)}, "
            "or a product of them such as 'rotation x color_perm3'."
        )
    return TRANSFORM_SETS[spec]


TRANSFORM_SETS.update(_base_sets())

__all__ = [
    "COLOR_PERMUTATIONS",
    "CYCLIC_COLOR_PERMUTATIONS",
    "ROTATION_SETS",
    "TRANSFORM_SETS",
    "Transform",
    "TransformSet",
    "compose",
    "get_transform_set",
]

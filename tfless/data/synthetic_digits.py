"""A synthetic-to-real digits pair: font-rendered digits 0-9 against real handwritten MNIST.

The synthetic domain is as large as wanted and fully labeled: each image is one digit drawn
by :func:`tfless.data.fonts.render_text` in a random style of the fonts matplotlib ships,
with random size, stroke thickness, affine jitter and pixel noise. The real domain is the
built-in ``mnist5k`` (4,000 training and 1,000 test handwritten digits) of which only a few
labels per class are kept. It mirrors MR-GAN's CIFAR-DA4 setting (many rendered images,
0.25% of the real labels, here 1 per class; 1% is 4 per class) at a size that trains on a
CPU. :func:`folder_pair` builds the same kind of pair from two user folders of class
sub-folders (rendered and real images, e.g. CIFAR-DA4).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tfless.data import fonts
from tfless.data.datasets import mnist5k_arrays
from tfless.data.splits import labeled_unlabeled_split

#: Classes of the pair: the digits 0-9, labeled as MNIST labels them.
NUM_CLASSES = 10


def render_digits(
    num: int,
    *,
    size: int = 28,
    seed: int = 0,
    font_styles: tuple[str, ...] | None = None,
    rotation: float = 12.0,
    shear: float = 0.25,
    scale: tuple[float, float] = (0.7, 1.05),
    thickness: tuple[int, int] = (0, 3),
    noise: float = 0.03,
) -> tuple[np.ndarray, np.ndarray]:
    """``num`` font-rendered digits, classes balanced (``i % 10``) in a seeded random order.

    Args:
      num: how many images (>= 1).
      size: side in pixels (28 matches MNIST).
      seed: seed of the labels, the styles and every distortion.
      font_styles: styles to draw from (default every style of
        :data:`tfless.data.fonts.FONT_STYLES`).
      rotation, shear, scale, thickness, noise: the random distortion of
        :func:`tfless.data.fonts.render_text`.

    Returns:
      ``(images, labels)``: float32 ``[num, size, size, 1]`` in [0, 1], white ink on black
      like MNIST, and int32 ``[num]``.
    """
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 1:
        raise ValueError(f"num must be a positive integer; got {num!r}.")
    styles = tuple(font_styles or fonts.FONT_STYLES)
    unknown = [s for s in styles if s not in fonts.FONT_STYLES]
    if unknown:
        raise ValueError(f"Unknown font styles {unknown}; expected some of {fonts.FONT_STYLES}.")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(num) % NUM_CLASSES).astype(np.int32)
    images = np.empty((num, size, size, 1), np.float32)
    for i, label in enumerate(labels):
        style = styles[int(rng.integers(len(styles)))]
        images[i, ..., 0] = fonts.render_text(
            str(int(label)),
            size=size,
            font=style,
            rng=rng,
            rotation=rotation,
            shear=shear,
            scale=scale,
            thickness=thickness,
            noise=noise,
        )
    return images, labels


@dataclasses.dataclass
class DigitsPair:
    """Synthetic and real digits for synthetic-to-real training.

    Attributes:
      synthetic_images, synthetic_labels: the rendered domain, every image labeled.
      real_labeled_images, real_labeled_labels: the few labeled real training digits.
      real_images: every real training digit (labeled ones included), for unpaired
        translation and semi-supervised learning; their labels are not used.
      test_images, test_labels: the real test digits.
      classes: number of classes (labels are ``0 .. classes - 1``); 10 for digits.
    """

    synthetic_images: np.ndarray
    synthetic_labels: np.ndarray
    real_labeled_images: np.ndarray
    real_labeled_labels: np.ndarray
    real_images: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: int = NUM_CLASSES

    @property
    def num_classes(self) -> int:
        return int(self.classes)


def digits_pair(
    num_synthetic: int = 20_000,
    labels_per_class: int = 10,
    *,
    seed: int = 0,
    size: int = 28,
    num_test: int | None = None,
) -> DigitsPair:
    """Rendered digits against ``mnist5k`` with ``labels_per_class`` real labels per class.

    One label per class is 0.25% of the 4,000 real training digits (the share of real labels
    of MR-GAN's CIFAR-DA4 setting), 4 per class 1%, 10 per class 2.5%. Images other than
    28 px are resized (real and rendered alike).

    Args:
      num_synthetic: rendered images.
      labels_per_class: labeled real training digits per class (seeded choice).
      seed: seed of the rendering and of the label choice.
      size: image side.
      num_test: keep the first ``num_test`` real test digits (all 1,000 when None).
    """
    synthetic_x, synthetic_y = render_digits(num_synthetic, size=size, seed=seed)
    real_x, real_y = mnist5k_arrays("train")
    test_x, test_y = mnist5k_arrays("test")
    if size != 28:
        import tensorflow as tf

        def resize(x):
            return np.clip(tf.image.resize(x, (size, size), antialias=True).numpy(), 0, 1)

        real_x, test_x = resize(real_x), resize(test_x)
    labeled, _, _ = labeled_unlabeled_split(real_y, labels_per_class, seed=seed)
    if num_test is not None:
        test_x, test_y = test_x[:num_test], test_y[:num_test]
    pair = DigitsPair(
        synthetic_x, synthetic_y, real_x[labeled], real_y[labeled], real_x, test_x, test_y
    )
    check_same_classes(pair.synthetic_labels, pair.real_labeled_labels)
    return pair


def check_same_classes(synthetic_labels, real_labels) -> None:
    """Raises ``ValueError`` unless both domains have the same set of classes."""
    synthetic = sorted(set(np.asarray(synthetic_labels).tolist()))
    real = sorted(set(np.asarray(real_labels).tolist()))
    if synthetic != real:
        raise ValueError(
            f"The synthetic domain's classes {synthetic} are not the real domain's {real}: "
            f"missing from the synthetic domain {sorted(set(real) - set(synthetic))}, "
            f"not in the real domain {sorted(set(synthetic) - set(real))}."
        )


def _folder_arrays(source, split: str, image_size: int, channels: int, keep=None):
    """Images and labels of ``split`` of a scanned folder (only the indices ``keep``)."""
    from tfless.data import folder

    paths, labels = source.files[split]
    if keep is not None:
        paths, labels = [paths[i] for i in keep], np.asarray(labels)[keep]
    subset = dataclasses.replace(source, files={split: (list(paths), np.asarray(labels))})
    info = folder.dataset_info(folder.PREFIX + source.root, source)
    ds = folder.load_split(subset, info, split, image_size=image_size, channels=channels)
    xs, ys = [], []
    for batch in ds.batch(1024).as_numpy_iterator():
        xs.append(batch["image"])
        ys.append(batch["label"])
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int32)


def folder_pair(
    synthetic_dir: str,
    real_dir: str,
    labels_per_class: int,
    *,
    image_size: int = 32,
    channels: int = 3,
    seed: int = 0,
    max_synthetic: int | None = None,
) -> DigitsPair:
    """A synthetic-to-real pair from two user folders of class sub-folders (CIFAR-DA4 style).

    Args:
      synthetic_dir: rendered images, ``<class>/*`` (or ``train/<class>``, ``test/<class>``:
        every split is used, all labeled).
      real_dir: real images as a ``folder:`` dataset (:mod:`tfless.data.folder`): its
        ``train`` split is the real domain, its ``test`` split the test images.
      labels_per_class: real training images kept labeled per class (seeded choice).
      image_size, channels: every image is resized and converted to this shape.
      seed: seed of the label choice and of the synthetic subset.
      max_synthetic: keep a seeded random subset of this many synthetic images (all when
        None): 1M rendered 32x32 RGB images take 12 GB as float32.

    Raises:
      ValueError: the two folders do not have the same class folder names (the message
        names the classes each lacks), or a folder is missing or empty
        (:func:`tfless.data.folder.scan`).
    """
    from tfless.data import folder

    syn_src, real_src = folder.scan(synthetic_dir), folder.scan(real_dir)
    if list(syn_src.class_names) != list(real_src.class_names):
        syn, real = set(syn_src.class_names), set(real_src.class_names)
        raise ValueError(
            f"The synthetic folder {synthetic_dir!r} and the real folder {real_dir!r} must have "
            f"the same class folders; missing from the synthetic one {sorted(real - syn)}, "
            f"not in the real one {sorted(syn - real)}."
        )
    syn_parts = []
    for split in [s for s in syn_src.files if s != folder.UNLABELED]:
        count = len(syn_src.files[split][0])
        keep = None
        if max_synthetic is not None and count > max_synthetic:
            keep = np.sort(np.random.default_rng(seed).permutation(count)[:max_synthetic])
        syn_parts.append(_folder_arrays(syn_src, split, image_size, channels, keep))
    syn_x = np.concatenate([p[0] for p in syn_parts])[:max_synthetic]
    syn_y = np.concatenate([p[1] for p in syn_parts])[:max_synthetic]
    real_x, real_y = _folder_arrays(real_src, "train", image_size, channels)
    test_x, test_y = _folder_arrays(real_src, "test", image_size, channels)
    labeled, _, _ = labeled_unlabeled_split(real_y, labels_per_class, seed=seed)
    return DigitsPair(
        syn_x,
        syn_y,
        real_x[labeled],
        real_y[labeled],
        real_x,
        test_x,
        test_y,
        classes=len(real_src.class_names),
    )

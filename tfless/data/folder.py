"""A folder of images as a dataset: ``folder:/path/to/root``.

Two layouts are read (``<class>`` folders may nest further folders of images):

* split: ``root/train/<class>/*``, ``root/test/<class>/*`` and optionally
  ``root/validation/<class>/*``. The classes are the folders of ``train/``; ``test/`` and
  ``validation/`` may only use those names.
* flat: ``root/<class>/*``. Without ``train/`` the images are split into ``train`` and
  ``test`` by tfless: a seeded stratified split (seed :data:`SPLIT_SEED`) that puts
  ``round(n * TEST_FRACTION)`` images of each class of ``n`` (at least one, and at least
  one left for training) into ``test``. The split depends only on the sorted file
  names, so it is the same on every run and machine.

Either layout may hold ``root/unlabeled/``, images without labels (in any sub-folders),
and a second folder of unlabeled images can be given (``data.unlabeled_dir``); both make
up the ``unlabeled`` split, whose examples have label -1.

Labels number the class folders in sorted order (``class_names``). Images are read in a
fixed order (by class, then path), so ``index`` and the label-split hash are stable.
Every image format Keras' ``image_dataset_from_directory`` reads is accepted
(:data:`IMAGE_EXTENSIONS`, any case); images are decoded with ``tf.io.decode_image``,
converted to float32 in [0, 1], to the requested channels, and resized (antialiased)
to the requested size: to the size of the first training image when none is given, so
folders of mixed image sizes always batch.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow as tf

from tfless.data.datasets import DatasetInfo

PREFIX = "folder:"
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
TEST_FRACTION = 0.2
SPLIT_SEED = 0
UNLABELED = "unlabeled"
SPLIT_FOLDERS = ("train", "test", "validation")
# Decoded splits up to this size (float32) are cached in memory after their first pass,
# so epochs after the first do not decode the files again.
CACHE_BYTES = 1 << 29


@dataclasses.dataclass(frozen=True)
class FolderSource:
    """The files of a folder dataset.

    Attributes:
      root: the dataset's root folder.
      layout: ``"split"`` (``train/`` and ``test/`` sub-folders) or ``"flat"``.
      class_names: the class folder names; label ``i`` is ``class_names[i]``.
      files: split name -> ``(paths, labels int32)`` in reading order.
    """

    root: str
    layout: str
    class_names: tuple[str, ...]
    files: dict


def _images_under(folder: str) -> list[str]:
    """Image files below ``folder`` (recursively, hidden entries skipped), sorted."""
    found = []
    for parent, dirs, names in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [
            os.path.join(parent, n)
            for n in names
            if not n.startswith(".") and n.lower().endswith(IMAGE_EXTENSIONS)
        ]
    return sorted(found)


def _subfolders(folder: str) -> list[str]:
    return sorted(
        d
        for d in os.listdir(folder)
        if not d.startswith(".") and os.path.isdir(os.path.join(folder, d))
    )


def _class_files(folder: str, classes: list[str] | None = None):
    """``(class names, paths, labels)`` of ``folder/<class>/...``.

    ``classes`` fixes the class list (a split folder read after ``train/``); its folders
    that are missing in ``folder`` simply have no images there.
    """
    found = [d for d in _subfolders(folder) if d != UNLABELED]
    if classes is None:
        if not found:
            loose = _images_under(folder)
            hint = f" (it holds {len(loose)} images but no class folders)" if loose else ""
            raise ValueError(
                f"Folder dataset {folder!r} has no class sub-folders{hint}; expected one "
                "folder of images per class, e.g. root/cat/1.png, root/dog/2.jpg."
            )
        classes = found
    unknown = sorted(set(found) - set(classes))
    if unknown:
        raise ValueError(
            f"Folder dataset {folder!r} has class folder(s) {unknown} that train/ lacks; "
            f"expected some of {classes}."
        )
    paths, labels = [], []
    for label, name in enumerate(classes):
        if name not in found:
            continue
        images = _images_under(os.path.join(folder, name))
        if not images:
            raise ValueError(
                f"Class folder {os.path.join(folder, name)!r} holds no images; expected "
                f"files ending in {list(IMAGE_EXTENSIONS)}."
            )
        paths += images
        labels += [label] * len(images)
    return list(classes), paths, np.asarray(labels, np.int32)


def stratified_split(labels, test_fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED):
    """``(train positions, test positions)``: a seeded split of every class.

    Each class of ``n`` images gives ``round(n * test_fraction)`` of them to test, at
    least one and at most ``n - 1``; both position arrays are sorted.

    Raises:
      ValueError: a class has fewer than 2 images (it cannot be in both splits).
    """
    labels = np.asarray(labels)
    rng = np.random.RandomState(seed)
    test = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) < 2:
            raise ValueError(
                f"class {int(c)} has {len(idx)} image; the automatic train/test split needs "
                "at least 2 per class (or give the folder train/ and test/ sub-folders)."
            )
        n_test = int(min(max(round(len(idx) * test_fraction), 1), len(idx) - 1))
        test.append(rng.choice(idx, n_test, replace=False))
    test = np.sort(np.concatenate(test))
    return np.setdiff1d(np.arange(len(labels)), test), test


def _check_dir(path: str, what: str) -> str:
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(path):
        state = "is not a folder" if os.path.exists(path) else "does not exist"
        raise FileNotFoundError(f"{what} {path!r} {state}; expected a folder of images.")
    return path


def scan(root: str, unlabeled_dir: str | None = None) -> FolderSource:
    """Lists the files of the folder dataset at ``root`` (see the module doc).

    Args:
      root: the dataset folder.
      unlabeled_dir: optional second folder of unlabeled images, added to the
        ``unlabeled`` split.

    Raises:
      FileNotFoundError: ``root`` or ``unlabeled_dir`` is not a folder, or ``train/``
        comes without ``test/``.
      ValueError: no class folders, a class folder without images, a class of one image
        in the flat layout, or ``test/`` / ``validation/`` naming a class ``train/`` lacks.
    """
    root = _check_dir(root, "Folder dataset root")
    files = {}
    if os.path.isdir(os.path.join(root, "train")):
        _check_dir(os.path.join(root, "test"), "Test folder (root has train/, so it needs test/)")
        classes, paths, labels = _class_files(os.path.join(root, "train"))
        files["train"] = (paths, labels)
        for split in SPLIT_FOLDERS[1:]:
            if os.path.isdir(os.path.join(root, split)):
                files[split] = _class_files(os.path.join(root, split), classes)[1:]
        layout = "split"
    else:
        classes, paths, labels = _class_files(root)
        try:
            train, test = stratified_split(labels)
        except ValueError as e:
            raise ValueError(f"Folder dataset {root!r}: {e}") from None
        files["train"] = ([paths[i] for i in train], labels[train])
        files["test"] = ([paths[i] for i in test], labels[test])
        layout = "flat"
    unlabeled = []
    if os.path.isdir(os.path.join(root, UNLABELED)):
        unlabeled += _images_under(os.path.join(root, UNLABELED))
    if unlabeled_dir:
        unlabeled += _images_under(_check_dir(unlabeled_dir, "Unlabeled folder"))
    if unlabeled:
        files[UNLABELED] = (unlabeled, np.full([len(unlabeled)], -1, np.int32))
    return FolderSource(root, layout, tuple(classes), files)


def _native_shape(path: str) -> tuple[int, int, int]:
    """``(H, W, C)`` of an image file, C folded to 1 (gray) or 3 (colour)."""
    try:
        image = tf.io.decode_image(tf.io.read_file(path), expand_animations=False)
    except tf.errors.OpError as e:
        raise ValueError(f"Cannot decode image {path!r}: {e.message}") from None
    h, w, c = image.shape
    return int(h), int(w), 1 if c in (1, 2) else 3


def dataset_info(name: str, source: FolderSource) -> DatasetInfo:
    """The :class:`DatasetInfo` of a scanned folder: the first training image's shape."""
    return DatasetInfo(
        name,
        _native_shape(source.files["train"][0][0]),
        len(source.class_names),
        tuple(source.files),
        False,
        class_names=source.class_names,
        unlabeled_splits=(UNLABELED,) if UNLABELED in source.files else (),
    )


def load_split(
    source: FolderSource,
    info: DatasetInfo,
    split: str,
    image_size: int | tuple[int, int] | None = None,
    channels: int | None = None,
) -> tf.data.Dataset:
    """The unbatched ``{"image", "label"}`` examples of one split of a folder dataset.

    Images are ``float32 [H, W, C]`` in [0, 1]: ``image_size`` (default: ``info``'s) and
    ``channels`` (default: ``info``'s).
    """
    if split not in source.files:
        raise ValueError(
            f"Unknown split {split!r} for dataset {info.name!r}. Expected one of "
            f"{list(source.files)}."
        )
    h, w, c = info.image_shape
    if image_size:
        h, w = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    c = int(channels or c)
    paths, labels = source.files[split]

    def read(path, label):
        image = tf.io.decode_image(
            tf.io.read_file(path), channels=3, dtype=tf.float32, expand_animations=False
        )
        if c == 1:
            image = tf.image.rgb_to_grayscale(image)
        image = tf.image.resize(image, (h, w), antialias=True)
        image = tf.ensure_shape(tf.clip_by_value(image, 0.0, 1.0), (h, w, c))
        return {"image": image, "label": label}

    ds = tf.data.Dataset.from_tensor_slices((list(paths), labels))
    ds = ds.map(read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if len(paths) * h * w * c * 4 <= CACHE_BYTES:
        ds = ds.cache()
    return ds

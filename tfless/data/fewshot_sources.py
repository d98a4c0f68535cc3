"""Class splits for few-shot learning: images and global class ids of disjoint class sets.

:func:`class_split_arrays` is what the ``episodes`` pipeline reads. It serves

* ``glyphs``: the built-in dataset's fixed alphabet-level splits (:mod:`tfless.data.glyphs`);
* ``omniglot`` (TFDS): the split of Matching Networks (Vinyals et al. 2016, arXiv
  1606.04080): the 1,623 characters numbered as the Omniglot release numbers them (TFDS's
  ``label``: the 964 background characters, then the evaluation alphabets); the first
  1,200 are for training and the last 423 (from the 42nd Gurmukhi character on) for
  test. Of the 1,200, the last 172 form ``validation`` and the first 1,028 ``train``,
  the sizes Prototypical Networks use (4,112 / 688 / 1,692 classes with the x4
  rotations); which 172 characters are held out is tfless's choice. Images are
  converted to grey, resized to 28x28 with antialiasing and inverted (white strokes on
  black), as Prototypical Networks do;
* ``folder:/path``: a folder of ``class/image`` files (e.g. miniImageNet) with the class
  split given by ``split_dir``: one file per split, ``train.csv`` / ``val.csv`` /
  ``test.csv`` in the format of Ravi & Larochelle's miniImageNet split (a header and
  ``filename,label`` rows; the classes are the labels) or ``train.txt`` / ``val.txt`` /
  ``test.txt`` listing one class folder per line;
* any other dataset: its split of the same name, read whole (the caller checks that the
  splits' classes are disjoint).
"""

from __future__ import annotations

import csv
import os

import numpy as np

from tfless.data import glyphs

# Characters of the Vinyals split's train+validation part and of its validation part.
OMNIGLOT_TRAINVAL = 1200
OMNIGLOT_VAL = 172
_SPLIT_ALIASES = {"val": "validation", "valid": "validation"}
_SPLIT_FILES = {"train": "train", "validation": "val", "test": "test"}


def _split_name(split: str) -> str:
    name = _SPLIT_ALIASES.get(split, split)
    if name not in ("train", "validation", "test"):
        raise ValueError(
            f"Unknown class split {split!r}; expected 'train', 'validation' (or 'val') or 'test'."
        )
    return name


def _vinyals_part(order: np.ndarray, split: str) -> np.ndarray:
    """Boolean mask of the images whose class (the release's number) is in ``split``."""
    train_end = OMNIGLOT_TRAINVAL - OMNIGLOT_VAL
    if split == "train":
        return order < train_end
    if split == "validation":
        return (order >= train_end) & (order < OMNIGLOT_TRAINVAL)
    return order >= OMNIGLOT_TRAINVAL


def omniglot_arrays(
    split: str, *, size: int = 28, data_dir: str | None = None, download: bool = False
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """A Vinyals class split of TFDS ``omniglot``: uint8 ``[M, size, size, 1]``, int ``[M]``
    class ids (the release's character numbers, 0-based) and the names of all 1,623
    classes (``"<alphabet>_<character index>"``, empty when TFDS has none)."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    split = _split_name(split)
    try:
        builder = tfds.builder("omniglot", data_dir=data_dir)
        if download:
            builder.download_and_prepare()
        parts = {s: builder.as_dataset(split=s, shuffle_files=False) for s in ("train", "test")}
    except (AssertionError, FileNotFoundError, tfds.core.registered.DatasetNotFoundError) as e:
        raise FileNotFoundError(
            f"TFDS 'omniglot' is not prepared in data_dir={data_dir!r}. Prepare it with "
            f"`tfds build omniglot` or pass download=True (needs network). ({e})"
        ) from e
    names = tuple(builder.info.features["label"].names or ())

    def prep(ex):
        image = tf.image.rgb_to_grayscale(tf.cast(ex["image"], tf.float32) / 255.0)
        image = 1.0 - tf.image.resize(image, (size, size), antialias=True)
        image = tf.cast(tf.round(tf.clip_by_value(image, 0.0, 1.0) * 255.0), tf.uint8)
        return image, ex["label"]

    images, labels = [], []
    for part in parts.values():
        for image, label in part.map(prep).batch(2048).as_numpy_iterator():
            images.append(image)
            labels.append(label)
    images, labels = np.concatenate(images), np.concatenate(labels).astype(np.int64)
    keep = _vinyals_part(labels, split)
    return images[keep], labels[keep], names


def read_class_list(split_dir: str, split: str) -> list[str]:
    """The class folder names of ``split`` from ``split_dir`` (see the module docstring)."""
    stem = _SPLIT_FILES[_split_name(split)]
    csv_path = os.path.join(split_dir, stem + ".csv")
    txt_path = os.path.join(split_dir, stem + ".txt")
    if os.path.isfile(csv_path):
        with open(csv_path, newline="") as f:
            rows = [r for r in csv.reader(f) if r]
        if rows and rows[0][-1].strip().lower() == "label":
            rows = rows[1:]
        classes = [r[-1].strip() for r in rows]
    elif os.path.isfile(txt_path):
        with open(txt_path) as f:
            classes = [line.strip() for line in f if line.strip()]
    else:
        raise FileNotFoundError(
            f"No class list for split {split!r} in {split_dir!r}: expected {stem}.csv "
            f"(filename,label rows, as the miniImageNet split of Ravi & Larochelle) or "
            f"{stem}.txt (one class folder per line)."
        )
    if not classes:
        raise ValueError(f"The class list of split {split!r} in {split_dir!r} is empty.")
    return list(dict.fromkeys(classes))


_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def folder_class_arrays(
    root: str, split_dir: str, split: str, *, size: int = 84, channels: int = 3
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """A class split of a ``class/image`` folder: uint8 ``[M, size, size, channels]``, int
    ``[M]`` global class ids and the names of all classes of every split (id = position).

    Global ids number the classes of ``train``, then ``validation``, then ``test`` (each in
    its list's order), so ids never collide across splits.

    Raises:
      ValueError: the split lists overlap, or a listed class has no folder or no images.
    """
    from PIL import Image

    from tfless.data.episodes import check_disjoint

    lists = {
        s: read_class_list(split_dir, s)
        for s in ("train", "validation", "test")
        if s == _split_name(split) or _has_list(split_dir, s)
    }
    check_disjoint(lists)
    everything = [c for s in ("train", "validation", "test") for c in lists.get(s, [])]
    mode = "RGB" if channels == 3 else "L"
    images, labels = [], []
    for name in lists[_split_name(split)]:
        folder = os.path.join(root, name)
        if not os.path.isdir(folder):
            raise ValueError(
                f"Class {name!r} of split {split!r} has no folder {folder!r} under {root!r}."
            )
        files = sorted(f for f in os.listdir(folder) if f.lower().endswith(_IMAGE_EXTENSIONS))
        if not files:
            raise ValueError(f"Class folder {folder!r} holds no images ({_IMAGE_EXTENSIONS}).")
        for fname in files:
            with Image.open(os.path.join(folder, fname)) as im:
                im = im.convert(mode).resize((size, size), Image.BILINEAR)
                images.append(np.asarray(im, np.uint8).reshape(size, size, channels))
            labels.append(everything.index(name))
    return np.stack(images), np.array(labels, np.int64), tuple(everything)


def _has_list(split_dir: str, split: str) -> bool:
    stem = _SPLIT_FILES[split]
    return any(os.path.isfile(os.path.join(split_dir, stem + e)) for e in (".csv", ".txt"))


def class_split_arrays(
    dataset: str,
    split: str,
    *,
    image_size: int | None = None,
    channels: int | None = None,
    data_dir: str | None = None,
    split_dir: str | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...] | None]:
    """Images (uint8 or float in [0, 1]), global class ids and class names of a class split.

    Args:
      dataset: ``glyphs``, ``omniglot``, ``folder:/path`` (needs ``split_dir``) or any
        dataset of :func:`tfless.data.load` with a split named ``split``.
      split: ``train``, ``validation`` or ``test``.
      image_size: side of the images (glyphs: 28 or 84; omniglot default 28; folders
        default 84).
      channels: 1 or 3 (folders default 3).
      data_dir: TFDS data directory.
      split_dir: the class lists of a folder dataset.
    """
    split = _split_name(split)
    if dataset == "glyphs":
        images, labels = glyphs.glyph_arrays(split, size=int(image_size or 28))
        return _channels(images, channels), labels, glyphs.class_names()
    if dataset == "omniglot":
        images, labels, names = omniglot_arrays(
            split, size=int(image_size or 28), data_dir=data_dir
        )
        return _channels(images, channels), labels, names
    if dataset.startswith("folder:") and split_dir:
        return folder_class_arrays(
            dataset[len("folder:") :],
            split_dir,
            split,
            size=int(image_size or 84),
            channels=int(channels or 3),
        )
    from tfless.data import datasets
    from tfless.data.arrays import to_arrays

    info = datasets.get_info(dataset, data_dir=data_dir)
    ds = datasets.load(dataset, split, image_size=image_size, channels=channels, data_dir=data_dir)
    images, labels = to_arrays(ds)
    return images, labels, info.class_names or None


def _channels(images: np.ndarray, channels: int | None) -> np.ndarray:
    if channels in (None, images.shape[-1]):
        return images
    if channels == 3 and images.shape[-1] == 1:
        return np.repeat(images, 3, axis=-1)
    raise ValueError(f"channels must be 1 or 3 for images of {images.shape[-1]}; got {channels}.")

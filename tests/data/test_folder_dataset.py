"""A folder of images as a dataset (``folder:/path``) and ``tfds:<name>`` with its own splits."""

import os

import ml_collections
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from tfless import data
from tfless.data import folder, splits
from tfless.data.pipelines import build_data

CLASSES = ("circle", "cross", "square", "stripes")


def draw(kind: int, rng, size: int = 8) -> np.ndarray:
    """A uint8 RGB image of class ``kind``: a shape whose class is visible at a glance."""
    img = np.zeros([size, size], np.float32)
    if kind == 0:
        yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
        img[(yy**2 + xx**2) <= (size / 3) ** 2] = 1
    elif kind == 1:
        img[size // 2 - 1 : size // 2 + 1, :] = img[:, size // 2 - 1 : size // 2 + 1] = 1
    elif kind == 2:
        img[1:-1, 1:-1] = 1
    else:
        img[::2] = 1
    img = img + rng.uniform(0, 0.2, img.shape)
    colour = rng.uniform(0.5, 1.0, 3)
    return (np.clip(img[..., None] * colour, 0, 1) * 255).astype(np.uint8)


def write_folder(root, per_class: int = 10, classes=CLASSES, seed: int = 0, mixed: bool = True):
    """Writes ``root/<class>/<i>.png`` (some 12x10, one JPEG, one BMP, one gray when mixed)."""
    rng = np.random.RandomState(seed)
    for k, name in enumerate(classes):
        os.makedirs(os.path.join(root, name), exist_ok=True)
        for i in range(per_class):
            pixels = draw(k, rng, 8)
            ext, mode = ".png", "RGB"
            if mixed and i == 1:
                pixels = np.asarray(Image.fromarray(pixels).resize((10, 12)))
            if mixed and i == 2:
                ext = ".JPG" if k % 2 else ".bmp"
            if mixed and i == 3:
                pixels, mode = pixels.mean(-1).astype(np.uint8), "L"
            Image.fromarray(pixels, mode).save(os.path.join(root, name, f"{i:02d}{ext}"))
    return str(root)


def _cfg(dataset, **overrides):
    cfg = dict(
        dataset=dataset,
        pipeline="supervised",
        image_size=8,
        channels=3,
        batch_size=8,
        eval_batch_size=16,
        labels_per_class=None,
        split_seed=0,
        mu=2,
        augment=None,
        unlabeled_views=None,
        with_index=False,
        shuffle_buffer=100,
    )
    cfg.update(overrides)
    return ml_collections.ConfigDict(cfg)


@pytest.fixture(scope="module")
def flat(tmp_path_factory):
    return write_folder(tmp_path_factory.mktemp("flat"))


def test_flat_folder_is_a_dataset_with_a_fixed_stratified_split(flat):
    name = f"folder:{flat}"
    info = data.get_info(name)
    assert info.num_classes == 4 and info.class_names == CLASSES
    assert info.splits == ("train", "test") and info.image_shape == (8, 8, 3)
    train = list(data.load(name, "train", image_size=6, channels=1, with_index=True))
    test = list(data.load(name, "test", image_size=6, channels=1))
    # 10 images per class: 2 of each in test (20%), mixed sizes and formats all resized.
    assert len(train) == 32 and len(test) == 8
    assert np.bincount([int(ex["label"]) for ex in test]).tolist() == [2] * 4
    for ex in train + test:
        assert ex["image"].shape == (6, 6, 1) and ex["image"].dtype == tf.float32
        assert 0.0 <= float(tf.reduce_min(ex["image"])) and float(tf.reduce_max(ex["image"])) <= 1
    assert [int(ex["index"]) for ex in train] == list(range(32))
    # The split depends on the file names only: the same on every call.
    again = [int(ex["label"]) for ex in data.load(name, "train")]
    assert again == [int(ex["label"]) for ex in train]
    src = folder.scan(flat)
    assert not set(src.files["train"][0]) & set(src.files["test"][0])


def test_split_layout_unlabeled_folders_and_manifest_facts(tmp_path):
    root = tmp_path / "photos"
    write_folder(root / "train", per_class=4, classes=("a", "b"), mixed=False)
    write_folder(root / "test", per_class=2, classes=("a", "b"), seed=1, mixed=False)
    write_folder(root / "validation", per_class=1, classes=("b",), seed=2, mixed=False)
    write_folder(root / "unlabeled", per_class=3, classes=("x",), seed=3, mixed=False)
    extra = write_folder(tmp_path / "more", per_class=2, classes=("y",), seed=4, mixed=False)
    name = f"folder:{root}"
    info = data.get_info(name, unlabeled_dir=extra)
    assert info.splits == ("train", "test", "validation", "unlabeled")
    assert info.class_names == ("a", "b") and info.unlabeled_splits == ("unlabeled",)
    assert [int(ex["label"]) for ex in data.load(name, "validation")] == [1]
    unl = list(data.load(name, "unlabeled", unlabeled_dir=extra))
    assert len(unl) == 5 and {int(ex["label"]) for ex in unl} == {-1}
    # Through the pipeline: the label split and its hash as for built-in datasets, and the
    # unlabeled images join the semi-supervised stream by themselves.
    cfg = _cfg(name, pipeline="semi", labels_per_class=2, unlabeled_dir=extra, batch_size=4)
    d = build_data(cfg)
    labels = data.labels_of(data.load(name, "train"))
    assert d.split_hash == splits.labeled_unlabeled_split(labels, 2, seed=0)[2]
    assert (d.num_labeled, d.num_train, d.info.num_classes) == (4, 8, 2)
    true = np.concatenate([b["unlabeled"]["true_label"] for b in d.train.take(8)])
    assert (true == -1).any() and (true >= 0).any()
    batch = next(iter(d.train))
    assert batch["labeled"]["image"].shape == (4, 8, 8, 3)


def test_folder_mistakes_are_clear_errors(tmp_path, flat):
    with pytest.raises(FileNotFoundError, match="Folder dataset root .*nope.* does not exist"):
        data.get_info(f"folder:{tmp_path / 'nope'}")
    with pytest.raises(ValueError, match="names no folder"):
        data.get_info("folder:")
    loose = tmp_path / "loose"
    loose.mkdir()
    Image.fromarray(np.zeros([4, 4], np.uint8)).save(loose / "a.png")
    with pytest.raises(ValueError, match="no class sub-folders .*holds 1 images"):
        data.get_info(f"folder:{loose}")
    empty = tmp_path / "empty"
    write_folder(empty, per_class=2, classes=("a",), mixed=False)
    (empty / "b").mkdir()
    (empty / "b" / "notes.txt").write_text("no images here")
    with pytest.raises(ValueError, match=r"Class folder .*b' holds no images.*\.png"):
        data.get_info(f"folder:{empty}")
    single = tmp_path / "single"
    write_folder(single, per_class=1, classes=("a", "b"), mixed=False)
    with pytest.raises(ValueError, match="class 0 has 1 image; .*at least 2 per class"):
        data.get_info(f"folder:{single}")
    half = tmp_path / "half"
    write_folder(half / "train", per_class=2, classes=("a",), mixed=False)
    with pytest.raises(FileNotFoundError, match="needs test/"):
        data.get_info(f"folder:{half}")
    write_folder(half / "test", per_class=2, classes=("a", "zebra"), mixed=False)
    with pytest.raises(ValueError, match=r"class folder\(s\) \['zebra'\] that train/ lacks"):
        data.get_info(f"folder:{half}")
    with pytest.raises(ValueError, match="Unknown split 'validation'"):
        data.load(f"folder:{flat}", "validation")
    with pytest.raises(ValueError, match="unlabeled_dir=.* 'digits' is not one"):
        data.get_info("digits", unlabeled_dir=str(tmp_path))


def test_tfds_prefix_reads_the_builders_splits_and_data_dir(tmp_path, monkeypatch):
    # The builder is asked in data.data_dir, where a prepared dataset lists its splits.
    asked = []
    builder = tfds.builder
    monkeypatch.setattr(tfds, "builder", lambda *a, **kw: asked.append(kw) or builder(*a, **kw))
    # Without prepared metadata TFDS knows no split names before reading: any split the
    # builder serves must load (it said "Expected one of []" for every split).
    with tfds.testing.mock_data(num_examples=6):
        info = data.get_info("tfds:fashion_mnist", data_dir=str(tmp_path))
        assert info.image_shape == (28, 28, 1) and info.num_classes == 10
        for split in ("train", "test"):
            ds = data.load("tfds:fashion_mnist", split, data_dir=str(tmp_path))
            assert len(list(ds)) == 6
    assert asked and asked[0]["data_dir"] == str(tmp_path)
    with pytest.raises(ValueError, match="Unknown TFDS dataset 'no_such_set'"):
        data.get_info("tfds:no_such_set")

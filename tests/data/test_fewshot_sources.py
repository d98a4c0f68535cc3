"""Few-shot class splits (Omniglot's Vinyals split, miniImageNet-style folders, glyphs) and
the ``episodes`` pipeline of ``build_data``."""

import ml_collections
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from tfless.data import episodes, fewshot_sources, glyphs
from tfless.data.pipelines import build_data

# TFDS omniglot numbers characters as the release does: 0-963 background ("train"),
# 964-1622 evaluation ("test"). These labels sit on both sides of every Vinyals boundary.
OMNIGLOT_LABELS = {"train": [0, 500, 963], "test": [964, 1027, 1028, 1199, 1200, 1622]}


def _fake_omniglot(self, split, decoders=None, read_config=None, **kwargs):
    labels = np.repeat(OMNIGLOT_LABELS[str(split)], 2)
    images = np.full((len(labels), 105, 105, 3), 255, np.uint8)  # white paper
    images[:, 40:60, 40:60] = 0  # a black stroke
    return tf.data.Dataset.from_tensor_slices(
        {
            "image": images,
            "label": labels.astype(np.int64),
            "alphabet": np.zeros(len(labels), np.int64),
            "alphabet_char_id": np.zeros(len(labels), np.int64),
        }
    )


def test_omniglot_vinyals_split_and_inversion():
    with tfds.testing.mock_data(as_dataset_fn=_fake_omniglot):
        parts = {s: fewshot_sources.omniglot_arrays(s) for s in ("train", "validation", "test")}
    assert sorted(set(parts["train"][1])) == [0, 500, 963, 964, 1027]
    assert sorted(set(parts["validation"][1])) == [1028, 1199]
    assert sorted(set(parts["test"][1])) == [1200, 1622]
    images = parts["test"][0]
    assert images.shape == (4, 28, 28, 1) and images.dtype == np.uint8
    # Strokes become white on black, as in Prototypical Networks.
    assert images[0, 14, 14, 0] == 255 and images[0, 1, 1, 0] == 0


def _write_folder(root, classes, per_class=3):
    for i, name in enumerate(classes):
        folder = root / "images" / name
        folder.mkdir(parents=True)
        for j in range(per_class):
            Image.new("RGB", (10, 12), (10 * i, j, 200)).save(folder / f"{name}_{j}.jpg")
    return str(root / "images")


def test_miniimagenet_folder_with_ravi_csv_split(tmp_path):
    root = _write_folder(tmp_path, ["n01", "n02", "n03", "n04", "n05"])
    splits = tmp_path / "splits"
    splits.mkdir()
    (splits / "train.csv").write_text(
        "filename,label\nn0100000001.jpg,n01\nn0100000002.jpg,n01\nn0200000001.jpg,n02\n"
    )
    (splits / "val.txt").write_text("n03\n")
    (splits / "test.csv").write_text("filename,label\nn0400000001.jpg,n04\nx.jpg,n05\n")
    images, labels, names = fewshot_sources.folder_class_arrays(root, str(splits), "test", size=8)
    assert images.shape == (6, 8, 8, 3) and images.dtype == np.uint8
    assert names == ("n01", "n02", "n03", "n04", "n05")
    np.testing.assert_array_equal(labels, [3, 3, 3, 4, 4, 4])  # global ids, after train/val
    train = fewshot_sources.class_split_arrays(
        "folder:" + root, "train", image_size=8, split_dir=str(splits)
    )
    assert sorted(set(train[1])) == [0, 1]
    # A split with fewer classes than ways is refused, naming the counts.
    with pytest.raises(ValueError, match="ways=5 but the .* class split has only 2 classes"):
        episodes.EpisodeSampler(train[0], train[1], ways=5, shots=1, queries=1)
    with pytest.raises(ValueError, match="class 0 \\('n01'\\) has 3"):
        episodes.EpisodeSampler(train[0], train[1], ways=2, shots=1, queries=5, class_names=names)


def test_folder_split_errors(tmp_path):
    root = _write_folder(tmp_path, ["a", "b"])
    splits = tmp_path / "splits"
    splits.mkdir()
    (splits / "train.txt").write_text("a\nb\n")
    (splits / "test.txt").write_text("b\nzz\n")
    overlap = "'train' and 'test' overlap: they share 1 classes \\(b\\)"
    with pytest.raises(ValueError, match=overlap):
        fewshot_sources.folder_class_arrays(root, str(splits), "train")
    (splits / "test.txt").write_text("zz\n")
    with pytest.raises(ValueError, match="Class 'zz' of split 'test' has no folder"):
        fewshot_sources.folder_class_arrays(root, str(splits), "test")
    with pytest.raises(FileNotFoundError, match="val.csv"):
        fewshot_sources.folder_class_arrays(root, str(splits), "validation")


def _episode_cfg(**overrides):
    cfg = ml_collections.ConfigDict(
        dict(
            dataset="glyphs",
            pipeline="episodes",
            image_size=28,
            channels=1,
            batch_size=2,
            eval_batch_size=64,
            ways=5,
            shots=1,
            queries=15,
            rotations=False,
            val_size=0,
        )
    )
    cfg.update(overrides)
    return cfg


def test_episodes_pipeline_on_glyphs_stays_in_the_background_classes():
    data = build_data(_episode_cfg(val_size=1), seed=4)
    batch = next(iter(data.train))
    assert batch["support_image"].shape == (2, 5, 28, 28, 1)
    assert batch["query_image"].shape == (2, 75, 28, 28, 1)
    assert batch["query_label"].dtype == tf.int32
    assert data.image_shape == (28, 28, 1) and data.num_train == 389 * 20
    assert data.info.num_classes == glyphs.NUM_CLASSES and data.val_source == "validation"
    test_labels = np.concatenate([b["label"] for b in data.test.as_numpy_iterator()])
    assert set(glyphs.class_splits()[test_labels]) == {"test"}
    # Every episode of the stream draws training (background) classes only.
    images, labels = glyphs.glyph_arrays("train")
    sampler = episodes.EpisodeSampler(images, labels, ways=5, shots=1, queries=15, seed=4)
    for i in range(50):
        classes = sampler.episode_indices(i)[0]
        assert set(glyphs.class_splits()[classes]) == {"train"}
    np.testing.assert_array_equal(batch["support_image"][1], sampler.episode(1)["support_image"])
    # A resumed run continues the stream exactly.
    later = list(data.train.take(4).as_numpy_iterator())[3]
    resumed = next(iter(build_data(_episode_cfg(), seed=4, skip_batches=3).train))
    for key in episodes.KEYS:
        np.testing.assert_array_equal(resumed[key].numpy(), later[key])


def test_episodes_pipeline_errors_before_training():
    with pytest.raises(ValueError, match="shots \\+ queries = 5 \\+ 16 = 21 .* has 20 images"):
        build_data(_episode_cfg(shots=5, queries=16))
    too_many = "ways=400 but the 'glyphs' train class split has only 389 classes"
    with pytest.raises(ValueError, match=too_many):
        build_data(_episode_cfg(ways=400))

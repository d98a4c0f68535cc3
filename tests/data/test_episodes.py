"""N-way K-shot episodes: class-major local labels, disjoint support / query, determinism,
rotations, the meta-batch stream and the errors raised before training."""

import numpy as np
import pytest

from tfless.data import episodes


def _indexed(num_classes=12, per_class=6, side=4):
    """Images whose first pixel is their row (so an image names itself), labels 100 + c."""
    m = num_classes * per_class
    images = np.zeros([m, side, side, 1], np.float32)
    images[:, 0, 0, 0] = np.arange(m) / 1000.0
    images[:, 1, 2, 0] = 0.5  # an asymmetric mark, so rotations are visible
    labels = 100 + np.repeat(np.arange(num_classes), per_class)
    return images, labels


def _rows(images):
    return np.round(images[..., 0, 0, 0] * 1000).astype(int)


def test_episode_is_class_major_with_local_labels_and_disjoint_query():
    images, labels = _indexed()
    sampler = episodes.EpisodeSampler(images, labels, ways=5, shots=2, queries=3, seed=1)
    for i in range(20):
        ep = sampler.episode(i)
        classes, turns, support, query = sampler.episode_indices(i)
        assert ep["support_image"].shape == (10, 4, 4, 1)
        assert ep["query_image"].shape == (15, 4, 4, 1)
        assert ep["support_image"].dtype == np.float32
        np.testing.assert_array_equal(ep["support_label"], np.repeat(np.arange(5), 2))
        np.testing.assert_array_equal(ep["query_label"], np.repeat(np.arange(5), 3))
        assert ep["support_label"].dtype == ep["query_label"].dtype == np.int32
        assert len(set(classes.tolist())) == 5 and not turns.any()
        s_rows, q_rows = _rows(ep["support_image"]), _rows(ep["query_image"])
        np.testing.assert_array_equal(s_rows, support.reshape(-1))
        np.testing.assert_array_equal(q_rows, query.reshape(-1))
        # Row c*K .. c*K+K-1 of the support set (and c*Q .. of the queries) is class c.
        np.testing.assert_array_equal(
            labels[s_rows].reshape(5, 2), np.repeat(classes[:, None], 2, 1)
        )
        np.testing.assert_array_equal(
            labels[q_rows].reshape(5, 3), np.repeat(classes[:, None], 3, 1)
        )
        assert not set(s_rows) & set(q_rows)  # no query image is also a support image
        assert len(set(q_rows)) == 15 and len(set(s_rows)) == 10


def test_classes_are_shuffled_per_episode():
    images, labels = _indexed()
    sampler = episodes.EpisodeSampler(images, labels, ways=5, shots=1, queries=1, seed=0)
    firsts = {int(sampler.episode_indices(i)[0][0]) for i in range(30)}
    assert len(firsts) > 3  # label 0 is not always the smallest class id


def test_episodes_are_a_function_of_seed_and_index():
    images, labels = _indexed()
    kw = dict(ways=3, shots=1, queries=2)
    a = episodes.EpisodeSampler(images, labels, seed=7, **kw)
    b = episodes.EpisodeSampler(images, labels, seed=7, **kw)
    c = episodes.EpisodeSampler(images, labels, seed=8, **kw)
    later = a.episode(5)
    a.episode(0)  # drawing other episodes first changes nothing
    for key in episodes.KEYS:
        np.testing.assert_array_equal(a.episode(5)[key], later[key])
        np.testing.assert_array_equal(b.episode(5)[key], later[key])
    differ = [
        not np.array_equal(a.episode(i)["support_image"], c.episode(i)["support_image"])
        for i in range(5)
    ]
    assert any(differ)


def test_rotations_add_rotated_classes():
    images, labels = _indexed(num_classes=2, per_class=4)
    sampler = episodes.EpisodeSampler(
        images, labels, ways=8, shots=1, queries=1, seed=0, rotations=True
    )
    assert sampler.num_classes == 8
    ep = sampler.episode(0)
    classes, turns, support, _ = sampler.episode_indices(0)
    assert sorted(zip(classes.tolist(), turns.tolist())) == [
        (c, k) for c in (100, 101) for k in range(4)
    ]
    for row, (pos, k) in enumerate(zip(support[:, 0], turns)):
        np.testing.assert_array_equal(ep["support_image"][row], np.rot90(images[pos], k))


def test_meta_batch_stream_is_deterministic_and_resumable():
    images, labels = _indexed()
    sampler = episodes.EpisodeSampler(images, labels, ways=4, shots=1, queries=2, seed=3)
    stream = sampler.dataset(2)
    spec = stream.element_spec
    assert spec["support_image"].shape.as_list() == [2, 4, 4, 4, 1]
    assert spec["query_label"].shape.as_list() == [2, 8]
    batches = list(stream.take(3).as_numpy_iterator())
    resumed = next(iter(sampler.dataset(2, start=2).as_numpy_iterator()))
    for key in episodes.KEYS:
        np.testing.assert_array_equal(batches[1][key][0], sampler.episode(2)[key])
        np.testing.assert_array_equal(resumed[key], batches[2][key])
    one = episodes.episode_batch(images, labels, ways=4, shots=1, queries=2, episodes=2, seed=3)
    for key in episodes.KEYS:
        np.testing.assert_array_equal(one[key], batches[0][key])


def test_uint8_images_are_scaled_to_unit_range():
    images = np.full([6, 3, 3], 255, np.uint8)
    ep = episodes.episode_batch(images, np.repeat([0, 1], 3), ways=2, shots=1, queries=1)
    assert ep["support_image"].shape == (1, 2, 3, 3, 1)
    assert ep["support_image"].dtype == np.float32 and ep["support_image"].max() == 1.0


def test_too_few_images_per_class_names_the_class_and_counts():
    images, labels = _indexed(num_classes=6, per_class=5)
    labels = labels.copy()
    labels[:3] = 999  # class 100 keeps 2 images, class 999 has 3
    counts = r"1 \+ 3 = 4 .* 2 classes .*: class 100 has 2 images, class 999 has 3 images\."
    with pytest.raises(ValueError, match=counts):
        episodes.EpisodeSampler(images, labels, ways=2, shots=1, queries=3)
    names = [f"n{i:03d}" for i in range(1000)]
    with pytest.raises(ValueError, match="class 100 \\('n100'\\) has 2"):
        episodes.EpisodeSampler(images, labels, ways=2, shots=1, queries=3, class_names=names)


def test_more_ways_than_classes_is_refused():
    images, labels = _indexed(num_classes=3)
    with pytest.raises(ValueError, match="ways=5 but the novel class split has only 3 classes"):
        episodes.EpisodeSampler(images, labels, ways=5, shots=1, queries=1, name="novel")
    # With rotations the same split offers 12 classes.
    episodes.EpisodeSampler(images, labels, ways=5, shots=1, queries=1, rotations=True)
    with pytest.raises(ValueError, match="only 12 classes \\(with x4 rotations\\)"):
        episodes.EpisodeSampler(images, labels, ways=13, shots=1, queries=1, rotations=True)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(ways=0), "ways must be an integer >= 1"),
        (dict(shots=1.5), "shots must be an integer >= 1"),
        (dict(seed=-1), "seed must be an integer >= 0"),
    ],
)
def test_bad_arguments(kwargs, match):
    images, labels = _indexed()
    full = {**dict(ways=2, shots=1, queries=1), **kwargs}
    with pytest.raises(ValueError, match=match):
        episodes.EpisodeSampler(images, labels, **full)


def test_bad_arrays():
    images, labels = _indexed()
    with pytest.raises(ValueError, match="labels must be \\[M\\]"):
        episodes.EpisodeSampler(images, labels[:-1], ways=2, shots=1, queries=1)
    with pytest.raises(ValueError, match="square images"):
        episodes.EpisodeSampler(images[:, :3], labels, ways=2, shots=1, queries=1, rotations=True)
    sampler = episodes.EpisodeSampler(images, labels, ways=2, shots=1, queries=1)
    with pytest.raises(ValueError, match="episodes_per_batch must be an integer >= 1"):
        sampler.dataset(0)


def test_overlapping_class_splits_are_refused():
    episodes.check_disjoint({"train": [0, 1, 1, 2], "test": [3, 4]})
    with pytest.raises(
        ValueError, match="'train' and 'test' overlap: they share 2 classes \\(1, 2\\)"
    ):
        episodes.check_disjoint({"train": [0, 1, 2], "validation": [5], "test": [2, 1, 9]})


def test_replica_divisibility():
    batch = {"support_image": np.zeros([6, 2, 1, 1, 1])}
    episodes.check_episode_stream(batch, 3)
    with pytest.raises(ValueError, match="episodes_per_batch=6 is not divisible by the 4"):
        episodes.check_episode_stream(batch, 4)

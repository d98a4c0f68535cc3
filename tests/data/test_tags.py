"""Tag vocabulary, synonyms, multi-hot encoding and re-sampling by tag frequency."""

import numpy as np
import pytest

from tfless.data import tags as T


def _vocab():
    return T.TagVocabulary(["cat", "dog"], {"kitty": "cat", "puppy": "dog"}, ["love", "sunset"])


def test_vocabulary_numbers_classes_first_and_merges_synonyms():
    v = _vocab()
    assert (v.num_classes, v.num_targets) == (2, 4)
    np.testing.assert_array_equal(v.non_visual_ids, [2, 3])
    got = v.encode([["kitty", "cat"], ["puppy", "love"], ["sunset"]])
    np.testing.assert_array_equal(got, [[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]])
    assert v.class_of(1) == 1 and v.class_of(3) is None


def test_vocabulary_errors_name_the_tag():
    with pytest.raises(KeyError, match="'#bird' is not in the vocabulary"):
        _vocab().encode([["cat"], ["#bird"]])
    with pytest.raises(ValueError, match="'horse' is not a class"):
        T.TagVocabulary(["cat"], {"pony": "horse"})
    with pytest.raises(ValueError, match="'love' is not a class"):
        T.TagVocabulary(["cat"], {"heart": "love"}, ["love"])
    with pytest.raises(ValueError, match="listed twice.*'cat'"):
        T.TagVocabulary(["cat"], non_visual=["cat"])
    with pytest.raises(ValueError, match="image 1: tag id 5 is outside the vocabulary of 4"):
        T.multi_hot([[0], [5]], 4)
    with pytest.raises(ValueError, match="tag id -1"):
        T.multi_hot([[-1]], 4)


def test_sampling_weights_give_each_tag_its_share():
    counts = np.array([100, 25, 1])
    tags = T.labels_to_tags(np.repeat(np.arange(3), counts), 3)
    for scheme, share in [("natural", counts), ("sqrt", np.sqrt(counts)), ("uniform", [1, 1, 1])]:
        w = T.tag_sampling_weights(tags, scheme)
        np.testing.assert_allclose(w.sum(), 1.0)
        per_tag = tags.T @ w
        np.testing.assert_allclose(per_tag, np.asarray(share) / np.sum(share), rtol=1e-12)
    drawn = T.resample(tags, 20000, "sqrt", seed=0)
    freq = np.bincount(np.repeat(np.arange(3), counts)[drawn], minlength=3) / 20000
    np.testing.assert_allclose(freq, np.sqrt(counts) / np.sqrt(counts).sum(), atol=0.015)
    np.testing.assert_array_equal(drawn, T.resample(tags, 20000, "sqrt", seed=0))


def test_multi_tag_weight_is_the_mean_over_its_tags():
    tags = np.array([[1, 1], [1, 0], [1, 0], [1, 0]], np.float32)
    w = T.tag_sampling_weights(tags, "uniform")
    # shares 1, 1 over counts 4, 1: image 0 has mean(1/4, 1) = 0.625, others 0.25.
    np.testing.assert_allclose(w, np.array([0.625, 0.25, 0.25, 0.25]) / 1.375)


def test_sampling_refuses_untagged_images_and_unknown_schemes():
    with pytest.raises(ValueError, match="images \\[1\\] carry no tag"):
        T.tag_sampling_weights([[1, 0], [0, 0]])
    with pytest.raises(ValueError, match="'log'"):
        T.tag_sampling_weights([[1, 0]], "log")

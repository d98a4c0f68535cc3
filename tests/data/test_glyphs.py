"""The font renderer and the built-in ``glyphs`` few-shot dataset."""

import os

import matplotlib
import numpy as np
import pytest

from tfless.data import datasets, fonts, glyphs

CLEAN = dict(rotation=0, shear=0, translate=0, noise=0, scale=(1, 1), thickness=(0, 0))


def test_fonts_come_from_matplotlib_only():
    root = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
    assert len(fonts.FONT_STYLES) == 16
    for style in fonts.FONT_STYLES:
        assert os.path.dirname(fonts.font_path(style)) == root
    with pytest.raises(ValueError, match="Unknown font 'Arial'"):
        fonts.font_path("Arial")


def test_render_text_is_seeded_white_on_black_and_sized():
    a = fonts.render_text("A", size=28, font="DejaVu Serif", rng=3)
    b = fonts.render_text("A", size=28, font="DejaVu Serif", rng=np.random.default_rng(3))
    c = fonts.render_text("A", size=28, font="DejaVu Serif", rng=4)
    assert a.shape == (28, 28) and a.dtype == np.float32
    assert 0.0 <= a.min() and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    big = fonts.render_text("A", size=84, font="STIX", **CLEAN)
    assert big.shape == (84, 84)
    # Ink is white, the background black, and the glyph is centred.
    assert big[:5].max() == 0.0 and big.mean() > 0.05
    ys, xs = np.nonzero(big > 0.5)
    assert abs(ys.mean() - 42) < 8 and abs(xs.mean() - 42) < 8


def test_lower_case_stays_smaller_than_upper_case():
    small = fonts.render_text("o", font="DejaVu Sans", **CLEAN)
    large = fonts.render_text("O", font="DejaVu Sans", **CLEAN)
    assert (small > 0.5).sum() < 0.8 * (large > 0.5).sum()


def test_missing_glyphs_are_refused_not_drawn_as_boxes():
    hebrew_alef = "\u05d0"
    assert fonts.has_glyph(hebrew_alef, "DejaVu Sans")
    assert not fonts.has_glyph(hebrew_alef, "STIX")
    assert "STIX" not in fonts.fonts_with(hebrew_alef)
    with pytest.raises(ValueError, match="Font 'STIX' has no glyph for '\u05d0' \\(U\\+05D0\\)"):
        fonts.render_text(hebrew_alef, font="STIX")
    with pytest.raises(ValueError, match="size must be an integer >= 4"):
        fonts.render_text("A", size=2)


def test_alphabets_are_fixed_distinct_and_drawable():
    chars = glyphs.characters()
    assert len(chars) == len(set(chars)) == glyphs.NUM_CLASSES == 608
    splits = glyphs.class_splits()
    assert [int((splits == s).sum()) for s in glyphs.SPLITS] == [389, 67, 152]
    assert len(glyphs.ALPHABETS) == 17
    # Alphabets never straddle splits; every character is drawn in at least two styles.
    assert all(split in glyphs.SPLITS for _, split, _ in glyphs.ALPHABETS)
    assert min(len(fonts.fonts_with(c)) for c in chars) >= 2
    assert datasets.BUILTIN_DATASETS["glyphs"].num_classes == glyphs.NUM_CLASSES


def test_render_class_draws_every_style():
    label = glyphs.characters().index("\u0416")  # Cyrillic Zhe, in all 16 styles
    images = glyphs.render_class(label)
    assert images.shape == (20, 28, 28, 1) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, glyphs.render_class(label))
    assert len({im.tobytes() for im in images}) == 20


def test_glyph_splits_are_disjoint_with_twenty_images_per_class():
    seen = {}
    for split in glyphs.SPLITS:
        images, labels = glyphs.glyph_arrays(split)
        assert images.dtype == np.uint8 and images.shape[1:] == (28, 28, 1)
        counts = np.bincount(labels)
        assert set(counts[counts > 0]) == {20}
        seen[split] = set(labels.tolist())
        assert set(glyphs.class_splits()[labels]) == {split}
    assert not seen["train"] & seen["test"] and not seen["validation"] & seen["test"]
    assert sum(len(s) for s in seen.values()) == glyphs.NUM_CLASSES
    # The background / evaluation names of Omniglot are aliases.
    np.testing.assert_array_equal(glyphs.glyph_arrays("evaluation")[1], labels)
    ds = datasets.load("glyphs", "validation")
    ex = next(iter(ds))
    assert ex["image"].dtype.name == "float32" and ex["image"].shape == (28, 28, 1)
    with pytest.raises(ValueError, match="Unknown glyphs split 'novel'"):
        glyphs.glyph_arrays("novel")
    with pytest.raises(ValueError, match="glyphs size must be one of \\(28, 84\\); got 32"):
        glyphs.glyph_arrays("train", size=32)


def test_cache_is_written_once_and_read_back(tmp_path, monkeypatch):
    calls = []

    def fake_generate(size):
        calls.append(size)
        return np.full([2, size, size, 1], 7, np.uint8), np.array([0, 400], np.int32)

    monkeypatch.setenv("TFLESS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(glyphs, "generate", fake_generate)
    glyphs._all.cache_clear()
    try:
        images, labels = glyphs.glyph_arrays("validation", size=84)
        assert labels.tolist() == [400] and images.shape == (1, 84, 84, 1)
        path = glyphs.cache_path(84)
        assert os.path.dirname(path) == str(tmp_path) and os.path.isfile(path)
        assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
        glyphs._all.cache_clear()
        assert glyphs.glyph_arrays("train", size=84)[1].tolist() == [0]
        assert calls == [84]  # the second process-level load read the file
    finally:
        glyphs._all.cache_clear()

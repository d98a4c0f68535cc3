"""``glyphs``: a built-in many-class dataset of rendered characters for few-shot learning.

Characters of 17 scripts ("alphabets", as in Omniglot) are drawn from the fonts matplotlib
ships (:mod:`tfless.data.fonts`: DejaVu Sans / Sans Mono / Serif and STIX General in four
styles each), white on black, with random rotation, shear, scale, shift, stroke thickness
and pixel noise. No download, no system font: the data is the same on every machine with
the same matplotlib and Pillow.

* **608 classes** (one per character), **20 images per class** (as Omniglot), 12,160
  images of 28x28x1 (``size=84`` on request). Example ``i`` of a class is drawn in the
  ``i mod n``-th of the ``n`` font styles that have the character, so every class
  appears in every style that can draw it (2 to 16 styles; glyphs a font lacks are
  skipped, never drawn as a "missing glyph" box).
* **Fixed alphabet-level splits**, disjoint in classes, with global class ids (0-388
  train, 389-455 validation, 456-607 test):

  - ``train`` (background, 10 alphabets, 389 classes): Latin, Latin Extended, IPA,
    Phonetic Extensions, Greek, Cyrillic, Cyrillic Supplement, Armenian, Arabic,
    Canadian Syllabics I;
  - ``validation`` (3 alphabets, 67 classes): Hebrew, Ogham, N'Ko;
  - ``test`` (evaluation, 4 alphabets, 152 classes): Georgian, Lao, Tifinagh,
    Canadian Syllabics II.

  ``background`` and ``evaluation`` are accepted for ``train`` and ``test``.
* A Conv-4 Prototypical Network trained on 2,000 5-way 1-shot episodes of ``train`` (15
  queries, Adam 1e-3) reaches 95.2 +- 0.4% 5-way 1-shot accuracy on ``test`` (600
  episodes, 95% confidence interval; measured, 147 s on 2 CPU cores).
* The characters are listed below. They are the letters of each Unicode block without a
  canonical decomposition (no accented copies) that at least two styles draw, with
  look-alikes removed across all alphabets (a glyph whose clean 28x28 rendering is within
  L2 distance 3 of an earlier one, e.g. Cyrillic "a" and Greek "A" against Latin), and at
  most 40 per alphabet (evenly spaced in code-point order; Latin keeps all 50).

The first call renders the dataset (4-6 s at 28x28 on one busy core, 84x84 about 3x
longer) and caches it as ``glyphs-<size>-<hash>.npz`` (9.6 MB at 28x28) in
``$TFLESS_CACHE_DIR`` (default ``~/.cache/tfless``); the hash covers every generation setting
and the matplotlib and Pillow versions. One process renders while concurrent ones wait for
its file, which is written atomically, so no process reads a partial one.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile

import numpy as np

from tfless.data import fonts

# (alphabet, split, characters). Class ids follow this order.
ALPHABETS: tuple[tuple[str, str, str], ...] = (
    ("Latin", "train", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghjkmnopqrstuvwxyz"),
    (
        "Latin Extended",
        "train",
        "\u00c6\u00de\u00f0\u00fe\u0127\u014a\u0153\u0182\u0186\u018a\u018e\u0191\u0194\u0198"
        "\u019d\u01a3\u01a6\u01a9\u01ab\u01b2\u01b7\u01ba\u01bc\u01bf\u01e4\u01f7\u0221\u0223"
        "\u0234\u0237\u023a\u023d\u023f\u0242\u0246\u0249\u024c\u024e\u1e9e\u1efb",
    ),
    (
        "IPA",
        "train",
        "\u0250\u0255\u0257\u025a\u025c\u025e\u0262\u0264\u0267\u026a\u026d\u026f\u0271\u0273"
        "\u0276\u0278\u027a\u027c\u027f\u0281\u0285\u0287\u0289\u028b\u028d\u028f\u0291\u0294"
        "\u0296\u0299\u029b\u029d\u029f\u02a3\u02a5\u02a7\u02a9\u02ab\u02ad\u02af",
    ),
    (
        "Phonetic Extensions",
        "train",
        "\u1d01\u1d02\u1d03\u1d05\u1d06\u1d0c\u1d0d\u1d0e\u1d11\u1d12\u1d13\u1d14\u1d15\u1d16"
        "\u1d17\u1d18\u1d19\u1d1a\u1d1b\u1d1d\u1d1e\u1d1f\u1d23\u1d24\u1d25\u1d2a\u1d2b\u1d6b"
        "\u1d77\u1d7c\u1d7d\u1d7e",
    ),
    (
        "Greek",
        "train",
        "\u0370\u0371\u0373\u0376\u0393\u039e\u03a0\u03a6\u03a9\u03b1\u03b2\u03b6\u03b8\u03ba"
        "\u03bd\u03be\u03c0\u03c3\u03c6\u03c7\u03c9\u03cf\u03d7\u03d9\u03da\u03db\u03de\u03df"
        "\u03e0\u03e2\u03e3\u03e4\u03e7\u03e8\u03e9\u03eb\u03ec\u03ee\u03fb\u03fc",
    ),
    (
        "Cyrillic",
        "train",
        "\u0402\u040a\u0416\u041b\u0427\u042b\u042e\u0434\u0446\u044a\u044e\u045a\u0462\u0465"
        "\u0468\u046c\u046f\u0474\u047a\u047d\u0480\u048d\u0492\u0495\u0498\u049e\u04a1\u04a4"
        "\u04a8\u04ac\u04b2\u04b6\u04ba\u04be\u04c4\u04c8\u04cb\u04ce\u04fb\u04fe",
    ),
    (
        "Cyrillic Supplement",
        "train",
        "\u0500\u0501\u0502\u0503\u0504\u0505\u0506\u0507\u0508\u0509\u050b\u050e\u050f\u0512"
        "\u0513\u0514\u0515\u0516\u0517\u0518\u0519\u0520\u0521\u0522\u0523\u0524\u0525",
    ),
    (
        "Armenian",
        "train",
        "\u0531\u0532\u0534\u0535\u0537\u0538\u053a\u053b\u053e\u053f\u0541\u0542\u0544\u0545"
        "\u0546\u0548\u0549\u054b\u054c\u054f\u0550\u0554\u0556\u0565\u0567\u0569\u056a\u056b"
        "\u056d\u056e\u0571\u0573\u0576\u0577\u057a\u057b\u057e\u057f\u0583\u0586",
    ),
    (
        "Arabic",
        "train",
        "\u0621\u0629\u062b\u062e\u062f\u0631\u0633\u0635\u0637\u063a\u0641\u0643\u0645\u0647"
        "\u0649\u066e\u0674\u0679\u067c\u0681\u0689\u068e\u0692\u0693\u0698\u069e\u06a1\u06a4"
        "\u06a8\u06aa\u06ad\u06af\u06b3\u06b5\u06b8\u06bb\u06bd\u06c6\u06c8\u06d0",
    ),
    (
        "Canadian Syllabics I",
        "train",
        "\u1401\u1407\u140f\u1414\u141a\u142c\u1434\u143b\u1440\u1446\u144f\u1458\u145d\u1463"
        "\u1468\u146e\u1476\u147b\u1480\u1485\u148b\u1490\u1495\u149a\u14a0\u14a8\u14ae\u14b4"
        "\u14b9\u14c3\u14c9\u14d2\u14d7\u14dd\u14e3\u14e8\u14ef\u14f4\u14fa\u14ff",
    ),
    (
        "Hebrew",
        "validation",
        "\u05d0\u05d1\u05d3\u05dc\u05dd\u05de\u05e0\u05e2\u05e3\u05e4\u05e5\u05e6\u05e7\u05e8"
        "\u05e9\u05ea\u05f0\u05f1",
    ),
    (
        "Ogham",
        "validation",
        "\u1681\u1682\u1683\u1684\u1685\u1686\u1687\u1688\u1689\u168a\u168b\u168c\u168d\u168e"
        "\u168f\u1690\u1691\u1692\u1693\u1694\u1695\u1696\u1697\u1698\u1699\u169a",
    ),
    (
        "N'Ko",
        "validation",
        "\u07cb\u07cc\u07ce\u07cf\u07d0\u07d1\u07d2\u07d3\u07d4\u07d5\u07d6\u07d7\u07d8\u07da"
        "\u07dc\u07dd\u07de\u07df\u07e1\u07e2\u07e3\u07e4\u07e5",
    ),
    (
        "Georgian",
        "test",
        "\u10a0\u10a2\u10a4\u10a6\u10a8\u10aa\u10ac\u10ae\u10b0\u10b2\u10b5\u10b7\u10b9\u10bb"
        "\u10bd\u10bf\u10c1\u10c3\u10c5\u10d1\u10d2\u10d4\u10d6\u10d8\u10da\u10dc\u10de\u10e0"
        "\u10e2\u10e4\u10e6\u10e8\u10ea\u10ec\u10ef\u10f1\u10f4\u10f6\u10f8\u10fa",
    ),
    (
        "Lao",
        "test",
        "\u0e81\u0e82\u0e84\u0e87\u0e88\u0e8a\u0e8d\u0e94\u0e95\u0e96\u0e97\u0e99\u0e9a\u0e9b"
        "\u0e9c\u0e9d\u0e9e\u0ea1\u0ea2\u0ea3\u0ea5\u0ea7\u0eaa\u0eab\u0ead\u0eae\u0eaf\u0eb0"
        "\u0eb2\u0ebd\u0ec0\u0ec1\u0ec2\u0ec3\u0ec4",
    ),
    (
        "Tifinagh",
        "test",
        "\u2d30\u2d31\u2d32\u2d33\u2d35\u2d3b\u2d3c\u2d3d\u2d3e\u2d3f\u2d40\u2d41\u2d42\u2d43"
        "\u2d44\u2d47\u2d48\u2d4a\u2d4b\u2d4c\u2d4e\u2d50\u2d52\u2d53\u2d54\u2d55\u2d56\u2d58"
        "\u2d5a\u2d5b\u2d5c\u2d5e\u2d61\u2d62\u2d63\u2d64\u2d65",
    ),
    (
        "Canadian Syllabics II",
        "test",
        "\u1500\u1504\u1510\u1514\u1518\u151b\u151f\u1523\u1527\u152a\u152e\u1532\u1535\u1539"
        "\u153d\u1542\u1546\u154a\u154d\u1553\u1557\u155b\u155f\u1563\u1567\u156a\u1577\u157b"
        "\u1580\u1584\u158c\u158f\u1593\u15a0\u15a5\u15a8\u15ac\u166f\u1672\u1676",
    ),
)

SPLITS = ("train", "validation", "test")
_ALIASES = {"background": "train", "evaluation": "test"}
SIZES = (28, 84)
EXAMPLES_PER_CLASS = 20
SEED = 0
# Bumped whenever the rendering changes, so old cache files are not reused.
_VERSION = 2
# Distortion of every example (keyword arguments of fonts.render_text).
_DISTORTION = dict(
    rotation=12.0, shear=0.25, scale=(0.8, 1.1), translate=0.06, thickness=(0, 1), noise=0.05
)


def characters() -> list[str]:
    """The character of every class, class id ``i`` is ``characters()[i]``."""
    return [c for _, _, chars in ALPHABETS for c in chars]


def class_alphabets() -> list[str]:
    """The alphabet of every class, in class-id order."""
    return [name for name, _, chars in ALPHABETS for _ in chars]


def class_splits() -> np.ndarray:
    """The split (``"train"``, ``"validation"`` or ``"test"``) of every class."""
    return np.array([split for _, split, chars in ALPHABETS for _ in chars])


NUM_CLASSES = sum(len(chars) for _, _, chars in ALPHABETS)


def class_names() -> tuple[str, ...]:
    """``"<alphabet> U+XXXX"`` for every class, in class-id order."""
    return tuple(f"{a} U+{ord(c):04X}" for a, c in zip(class_alphabets(), characters()))


def cache_dir() -> str:
    """``$TFLESS_CACHE_DIR``, or ``~/.cache/tfless``."""
    return os.environ.get("TFLESS_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "tfless"
    )


def _settings(size: int) -> dict:
    import matplotlib
    import PIL

    return {
        "version": _VERSION,
        "size": size,
        "examples_per_class": EXAMPLES_PER_CLASS,
        "seed": SEED,
        "distortion": _DISTORTION,
        "alphabets": ALPHABETS,
        "fonts": fonts.FONT_STYLES,
        "matplotlib": matplotlib.__version__,
        "pillow": PIL.__version__,
    }


def cache_path(size: int = 28) -> str:
    """The cache file of the dataset at ``size`` (named by a hash of its settings)."""
    key = json.dumps(_settings(size), sort_keys=True, ensure_ascii=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return os.path.join(cache_dir(), f"glyphs-{size}-{digest}.npz")


def render_class(label: int, size: int = 28) -> np.ndarray:
    """The ``EXAMPLES_PER_CLASS`` uint8 ``[n, size, size, 1]`` images of class ``label``.

    Example ``i`` uses the ``i mod n``-th style that has the character; the randomness is
    a function of ``(SEED, label)`` only.
    """
    char = characters()[label]
    styles = fonts.fonts_with(char)
    rng = np.random.default_rng([SEED, int(label)])
    images = [
        fonts.render_text(char, size=size, font=styles[i % len(styles)], rng=rng, **_DISTORTION)
        for i in range(EXAMPLES_PER_CLASS)
    ]
    return (np.stack(images)[..., None] * 255.0 + 0.5).astype(np.uint8)


def generate(size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Renders the whole dataset (no cache): uint8 ``[M, size, size, 1]``, int32 ``[M]``."""
    images = np.concatenate([render_class(c, size) for c in range(NUM_CLASSES)])
    labels = np.repeat(np.arange(NUM_CLASSES, dtype=np.int32), EXAMPLES_PER_CLASS)
    return images, labels


def _check_size(size) -> int:
    if isinstance(size, bool) or size not in SIZES:
        raise ValueError(f"glyphs size must be one of {SIZES}; got {size!r}.")
    return int(size)


def _read(path: str):
    try:
        with np.load(path) as f:
            return f["images"], f["labels"]
    except (OSError, KeyError, ValueError):
        return None  # missing or unreadable cache file: render it again


@functools.lru_cache(maxsize=2)
def _all(size: int) -> tuple[np.ndarray, np.ndarray]:
    import fcntl

    path = cache_path(size)
    cached = _read(path)
    if cached is not None:
        return cached
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # One process renders while concurrent ones (test workers) wait and then read its file.
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = _read(path)
        if cached is not None:
            return cached
        images, labels = generate(size)
        _write(path, images, labels)
    return images, labels


def _write(path: str, images, labels) -> None:
    """Writes the cache file atomically (a temporary file renamed over it)."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, images=images, labels=labels)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide a shared cache from other users
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def glyph_arrays(split: str, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """The images and global class ids of a split.

    Args:
      split: ``"train"`` (background alphabets), ``"validation"`` or ``"test"``
        (evaluation alphabets); ``"background"`` / ``"evaluation"`` are aliases.
      size: 28 or 84.

    Returns:
      ``(images, labels)``: uint8 ``[M, size, size, 1]`` (white ink on black) and int32
      ``[M]`` class ids, disjoint across splits.
    """
    name = _ALIASES.get(split, split)
    if name not in SPLITS:
        raise ValueError(
            f"Unknown glyphs split {split!r}. Expected one of {list(SPLITS)} "
            f"(or {sorted(_ALIASES)})."
        )
    images, labels = _all(_check_size(size))
    keep = class_splits()[labels] == name
    return images[keep], labels[keep]

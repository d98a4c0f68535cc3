"""Characters rendered from the fonts matplotlib ships, with random distortion.

Only the TrueType files inside matplotlib's own ``mpl-data/fonts/ttf`` folder are used
(DejaVu Sans, DejaVu Sans Mono, DejaVu Serif and STIX General, each in four styles), so the
images are the same on every machine and no system font or download is involved. Glyphs
are rasterised with Pillow's FreeType binding at twice the output size, distorted by a
random affine map (rotation, shear, scale, translation), thickened, downsampled and
noised.

``render_text`` raises for a character a font lacks instead of drawing the font's
"missing glyph" box; :func:`fonts_with` lists the styles that have a character.
"""

from __future__ import annotations

import functools
import math
import os

import numpy as np

# Style name -> file name under matplotlib's mpl-data/fonts/ttf.
_FILES = {
    "DejaVu Sans": "DejaVuSans.ttf",
    "DejaVu Sans Bold": "DejaVuSans-Bold.ttf",
    "DejaVu Sans Oblique": "DejaVuSans-Oblique.ttf",
    "DejaVu Sans Bold Oblique": "DejaVuSans-BoldOblique.ttf",
    "DejaVu Sans Mono": "DejaVuSansMono.ttf",
    "DejaVu Sans Mono Bold": "DejaVuSansMono-Bold.ttf",
    "DejaVu Sans Mono Oblique": "DejaVuSansMono-Oblique.ttf",
    "DejaVu Sans Mono Bold Oblique": "DejaVuSansMono-BoldOblique.ttf",
    "DejaVu Serif": "DejaVuSerif.ttf",
    "DejaVu Serif Bold": "DejaVuSerif-Bold.ttf",
    "DejaVu Serif Italic": "DejaVuSerif-Italic.ttf",
    "DejaVu Serif Bold Italic": "DejaVuSerif-BoldItalic.ttf",
    "STIX": "STIXGeneral.ttf",
    "STIX Bold": "STIXGeneralBol.ttf",
    "STIX Italic": "STIXGeneralItalic.ttf",
    "STIX Bold Italic": "STIXGeneralBolIta.ttf",
}

FONT_STYLES: tuple[str, ...] = tuple(_FILES)
"""The font styles :func:`render_text` accepts, in a fixed order."""

# Em size of the font as a fraction of the image side: a capital letter fills about
# 70% of the height and lower case letters stay visibly smaller than capitals.
_EM = 0.78
# Supersampling factor of the rasterisation.
_SUPER = 2


def font_path(font: str) -> str:
    """The ``.ttf`` file of a style of :data:`FONT_STYLES` inside matplotlib's data folder."""
    if font not in _FILES:
        raise ValueError(f"Unknown font {font!r}. Expected one of {list(FONT_STYLES)}.")
    import matplotlib

    path = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", _FILES[font])
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Font file {path} of style {font!r} is missing from this matplotlib install."
        )
    return path


@functools.cache
def _charmap(font: str) -> frozenset[int]:
    from matplotlib import ft2font

    return frozenset(ft2font.FT2Font(font_path(font)).get_charmap())


def has_glyph(char: str, font: str) -> bool:
    """Whether the style ``font`` draws every character of ``char`` (whitespace aside)."""
    cmap = _charmap(font)
    return all(ord(c) in cmap for c in char if not c.isspace())


def fonts_with(char: str) -> tuple[str, ...]:
    """The styles of :data:`FONT_STYLES` that have a glyph for every character of ``char``."""
    return tuple(f for f in FONT_STYLES if has_glyph(char, f))


@functools.lru_cache(maxsize=64)
def _pil_font(font: str, pixels: int):
    from PIL import ImageFont

    return ImageFont.truetype(font_path(font), pixels)


def _affine(rng, side: float, rotation, shear, scale, translate, ink_center):
    """Inverse affine coefficients (output -> input pixel) for PIL's ``Image.transform``.

    The ink centre moves to the image centre, then the glyph is scaled, sheared, rotated
    and shifted about it by random amounts.
    """
    u = rng.random(5) * 2.0 - 1.0  # one draw: this runs for every image of a dataset
    theta = math.radians(u[0] * rotation)
    sh = u[1] * shear
    s = scale[0] + (u[2] + 1.0) / 2.0 * (scale[1] - scale[0])
    cx = side / 2.0 + u[3] * translate * side
    cy = side / 2.0 + u[4] * translate * side
    c, n = math.cos(theta), math.sin(theta)
    # Inverse of s * rotation(theta) @ [[1, sh], [0, 1]], written out for speed.
    a, b, d, e = (c + sh * n) / s, (n - sh * c) / s, -n / s, c / s
    x0, y0 = ink_center
    return (a, b, x0 - a * cx - b * cy, d, e, y0 - d * cx - e * cy)


def render_text(
    text: str,
    *,
    size: int = 28,
    font: str = "DejaVu Sans",
    rng: np.random.Generator | int | None = None,
    rotation: float = 12.0,
    shear: float = 0.25,
    scale: tuple[float, float] = (0.8, 1.1),
    translate: float = 0.06,
    thickness: tuple[int, int] = (0, 2),
    noise: float = 0.05,
) -> np.ndarray:
    """Renders ``text`` (usually one character) as a float32 ``[size, size]`` image.

    White ink on black, in [0, 1]. The ink is centred, the glyph keeps its size relative to
    the font's em (an ``o`` is smaller than an ``O``) unless it would not fit, and then a
    random affine distortion, stroke thickening and Gaussian pixel noise are applied;
    pass ``rotation=shear=translate=noise=0``, ``scale=(1, 1)`` and ``thickness=(0, 0)``
    for the clean glyph.

    Args:
      text: the characters to draw.
      size: side of the square output in pixels (>= 4).
      font: a style of :data:`FONT_STYLES`.
      rng: a ``numpy.random.Generator`` or an int seed (None: seed 0).
      rotation: maximum rotation in degrees (uniform in ``[-rotation, rotation]``).
      shear: maximum horizontal shear factor.
      scale: range of the uniform scale factor.
      translate: maximum shift as a fraction of ``size``.
      thickness: inclusive range of the extra stroke width in supersampled pixels.
      noise: standard deviation of the additive Gaussian noise (clipped to [0, 1]).

    Raises:
      ValueError: ``font`` lacks a glyph of ``text`` (see :func:`fonts_with`), or a
        bad ``size`` / ``font`` / ``text``.
    """
    from PIL import Image, ImageDraw

    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text must be a non-empty string; got {text!r}.")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 4:
        raise ValueError(f"size must be an integer >= 4; got {size!r}.")
    missing = [c for c in text if not c.isspace() and not has_glyph(c, font)]
    if missing:
        raise ValueError(
            f"Font {font!r} has no glyph for {missing[0]!r} (U+{ord(missing[0]):04X}); "
            f"fonts that have it: {list(fonts_with(missing[0]))}."
        )
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng or 0)
    side = int(size) * _SUPER
    pil_font = _pil_font(font, max(int(round(side * _EM)), 1))
    stroke = int(rng.integers(thickness[0], thickness[1] + 1))
    canvas = Image.new("L", (2 * side, 2 * side))
    draw = ImageDraw.Draw(canvas)
    draw.text((side, side), text, font=pil_font, fill=255, anchor="mm", stroke_width=stroke)
    box = canvas.getbbox()
    if box is None:
        raise ValueError(f"Font {font!r} draws {text!r} without any ink.")
    ink_center = ((box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0)
    # Glyphs wider or taller than 90% of the image are shrunk to fit before distortion.
    fit = min(1.0, 0.9 * side / max(box[2] - box[0], box[3] - box[1]))
    lo, hi = scale
    coeffs = _affine(rng, side, rotation, shear, (lo * fit, hi * fit), translate, ink_center)
    warped = canvas.transform((side, side), Image.AFFINE, coeffs, resample=Image.BILINEAR)
    small = warped.resize((int(size), int(size)), Image.BOX)
    image = np.asarray(small, np.float32) / np.float32(255.0)
    if noise > 0:
        image = image + rng.normal(0.0, noise, image.shape).astype(np.float32)
    return np.clip(image, 0.0, 1.0)

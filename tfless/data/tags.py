"""Tag vocabularies for weakly labeled (hashtag-style) data, and re-sampling by tag frequency.

Mahajan et al. 2018 ("Exploring the Limits of Weakly Supervised Pretraining",
arXiv:1805.00932) train on images whose hashtags are canonicalized (WordNet synsets merge
synonyms), may be missing, or name nothing visible. :class:`TagVocabulary` maps raw tag
strings through a synonym table onto training targets, numbered with the classes first
(target ``c`` is class ``c``) followed by the tags that name no class (non-visual tags),
so a multi-tag model's first ``num_classes`` logits are the class scores. The paper
re-samples images by tag frequency; :func:`tag_sampling_weights` gives the weights of the
natural, square-root and uniform schemes and :func:`resample` draws from them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

SAMPLING = ("natural", "sqrt", "uniform")


class TagVocabulary:
    """Raw tags -> targets: classes first, then non-visual tags.

    Args:
      class_names: the ``C`` class names; target ``c`` is class ``c``. A class name is a
        tag of its class.
      synonyms: ``{raw tag: class name}``: further tags meaning a class (``"#seven"`` ->
        ``"7"``).
      non_visual: tags that name no class; targets ``C, C + 1, ...`` in this order.

    Raises:
      ValueError: a synonym names an unknown class, or a tag is listed twice.
    """

    def __init__(
        self,
        class_names: Sequence[str],
        synonyms: Mapping[str, str] | None = None,
        non_visual: Sequence[str] = (),
    ):
        self.class_names = [str(c) for c in class_names]
        self.non_visual = [str(t) for t in non_visual]
        targets = self.class_names + self.non_visual
        if len(set(targets)) != len(targets):
            dup = sorted({t for t in targets if targets.count(t) > 1})
            raise ValueError(f"tags listed twice among classes and non-visual tags: {dup}.")
        self._target = {t: i for i, t in enumerate(targets)}
        for raw, name in (synonyms or {}).items():
            if name not in self._target or self._target[name] >= len(self.class_names):
                raise ValueError(
                    f"synonym {raw!r} -> {name!r}: {name!r} is not a class; "
                    f"classes are {self.class_names}."
                )
            if raw in self._target and self._target[raw] != self._target[name]:
                raise ValueError(f"tag {raw!r} is already target {self._target[raw]}.")
            self._target[str(raw)] = self._target[name]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def num_targets(self) -> int:
        """Classes plus non-visual tags: the width of a multi-tag model's output."""
        return len(self.class_names) + len(self.non_visual)

    @property
    def non_visual_ids(self) -> np.ndarray:
        """Target ids of the non-visual tags (candidates of extra-tag noise)."""
        return np.arange(self.num_classes, self.num_targets)

    def target_of(self, tag: str) -> int:
        """The target id of a raw tag; ``KeyError`` naming a tag outside the vocabulary."""
        if tag not in self._target:
            raise KeyError(f"tag {tag!r} is not in the vocabulary ({len(self._target)} tags).")
        return self._target[tag]

    def encode(self, tag_lists: Iterable[Iterable[str]]) -> np.ndarray:
        """Multi-hot float32 ``[N, num_targets]`` of raw tag lists (synonyms merged)."""
        return multi_hot(
            [[self.target_of(t) for t in tags] for tags in tag_lists], self.num_targets
        )

    def class_of(self, target: int):
        """The class id of a target, or None for a non-visual tag."""
        return int(target) if 0 <= int(target) < self.num_classes else None


def multi_hot(tag_ids: Sequence[Sequence[int]], num_tags: int) -> np.ndarray:
    """Multi-hot float32 ``[N, num_tags]`` of per-image tag id lists (repeats count once).

    Raises:
      ValueError: a tag id outside ``[0, num_tags)``, naming it and its image.
    """
    out = np.zeros((len(tag_ids), int(num_tags)), np.float32)
    for i, ids in enumerate(tag_ids):
        for t in ids:
            if not 0 <= int(t) < num_tags:
                raise ValueError(
                    f"image {i}: tag id {t} is outside the vocabulary of {num_tags} tags "
                    f"[0, {num_tags})."
                )
            out[i, int(t)] = 1.0
    return out


def labels_to_tags(labels, num_tags: int) -> np.ndarray:
    """One tag per image: the multi-hot of its class (classes are the first targets)."""
    return multi_hot([[int(y)] for y in np.asarray(labels)], num_tags)


def tag_sampling_weights(tags, scheme: str = "sqrt") -> np.ndarray:
    """Per-image sampling weights (summing to 1) that re-balance tag frequencies.

    With ``n_t`` images carrying tag ``t``, the target share of tag ``t`` is proportional
    to ``n_t`` (``natural``), ``sqrt(n_t)`` (``sqrt``, Mahajan et al.'s square-root
    sampling) or 1 (``uniform``). An image's weight is the mean over its tags of
    ``share(t) / n_t``, so that with one tag per image each tag's total weight is its share
    exactly; the mean over several tags is our choice (the paper does not say).

    Args:
      tags: multi-hot ``[N, T]``; every image needs a tag.
      scheme: one of :data:`SAMPLING`.

    Returns:
      float64 ``[N]``.
    """
    if scheme not in SAMPLING:
        raise ValueError(f"Unknown sampling scheme {scheme!r}. Expected one of {list(SAMPLING)}.")
    tags = np.asarray(tags, np.float64)
    per_image = tags.sum(axis=1)
    empty = np.flatnonzero(per_image == 0)
    if empty.size:
        raise ValueError(
            f"images {empty[:10].tolist()} carry no tag; tag-frequency sampling needs one."
        )
    counts = tags.sum(axis=0)
    share = {"natural": counts, "sqrt": np.sqrt(counts), "uniform": (counts > 0) * 1.0}[scheme]
    per_tag = np.divide(share, counts, out=np.zeros_like(share), where=counts > 0)
    weights = (tags @ per_tag) / per_image
    return weights / weights.sum()


def resample(tags, num: int, scheme: str = "sqrt", seed: int = 0) -> np.ndarray:
    """``num`` image indices drawn with replacement by :func:`tag_sampling_weights`."""
    weights = tag_sampling_weights(tags, scheme)
    return np.random.default_rng(seed).choice(len(weights), size=int(num), p=weights)

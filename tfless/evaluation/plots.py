"""Embedding plots of encoder features."""

from __future__ import annotations

import numpy as np


def embed_2d(features, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """t-SNE (van der Maaten & Hinton 2008, sklearn) of features ``[N, D]`` -> ``[N, 2]``.

    Features are standardised first so encoders of different scales embed alike.
    """
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    features = np.asarray(features, np.float32)
    if features.ndim != 2 or len(features) < 3:
        raise ValueError(f"features must be [N >= 3, D]; got shape {features.shape}.")
    perplexity = min(perplexity, (len(features) - 1) / 3)
    features = (features - features.mean(0)) / (features.std(0) + 1e-6)
    tsne = TSNE(2, perplexity=perplexity, init="pca", random_state=seed)
    # One thread: on a busy machine OpenMP threads spin against each other (25x slower).
    with threadpool_limits(1):
        return tsne.fit_transform(features)


def embedding_title(encoder: str, dataset: str, split: str = "test") -> str:
    """The title of an embedding plot: protocol (t-SNE), encoder, dataset and split.

    ``encoder`` is whatever names the model for a reader: a method and run directory, or
    a SavedModel path.
    """
    return f"t-SNE of {encoder} features\n{dataset} {split} split"


def embedding_plot(
    features, labels, path: str, title: str = "", seed: int = 0, class_names=None
) -> str:
    """Saves a t-SNE scatter plot of features ``[N, D]`` coloured by class ``[N]`` as PNG.

    Args:
      title: what the plot shows (:func:`embedding_title` names the encoder, the dataset
        and the protocol); default "t-SNE of encoder features".
      class_names: the legend's name of label ``i``; default the label itself.

    Several encoders can be compared side by side with :func:`embedding_grid`.

    Returns:
      ``path``.
    """
    title = title or "t-SNE of encoder features"
    return embedding_grid(
        {title: (features, labels)}, path, seed=seed, columns=1, class_names=class_names
    )


def embedding_figure(panels: dict, seed: int = 0, columns: int = 3, class_names=None):
    """The matplotlib ``Figure`` of :func:`embedding_grid`: one t-SNE panel per entry
    ``{title: (features [N, D], labels [N])}``, classes in a discrete legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not panels:
        raise ValueError("panels is empty; expected at least one {title: (features, labels)}.")
    n = len(panels)
    cols = min(columns, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols + 1.4, 4.0 * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    top = max(int(np.max(labels)) for _, labels in panels.values())
    cmap = plt.get_cmap("tab10" if top < 10 else "tab20")
    legend = {}
    for ax, (title, (features, labels)) in zip(axes.ravel(), panels.items(), strict=False):
        labels = np.asarray(labels)
        xy = embed_2d(features, seed)
        for c in np.unique(labels):
            keep = labels == c
            name = _class_name(c, class_names)
            legend[int(c)] = ax.scatter(
                xy[keep, 0], xy[keep, 1], s=6, color=cmap(int(c) % cmap.N), label=name
            )
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [legend[c] for c in sorted(legend)]
    names = [_class_name(c, class_names) for c in sorted(legend)]
    fig.legend(
        handles,
        names,
        title="class",
        loc="center right",
        fontsize=7,
        markerscale=2.0,
        ncol=max(1, -(-len(names) // 25)),
    )
    fig.tight_layout(rect=(0, 0, 1 - 1.4 / (4.2 * cols + 1.4), 1))
    return fig


def _class_name(label, class_names) -> str:
    label = int(label)
    if class_names is not None and 0 <= label < len(class_names):
        return str(class_names[label])
    return str(label)


def embedding_grid(
    panels: dict, path: str, seed: int = 0, columns: int = 3, class_names=None
) -> str:
    """One t-SNE panel per entry ``{title: (features [N, D], labels [N])}``, saved as PNG
    (:func:`embedding_figure`)."""
    import matplotlib.pyplot as plt

    fig = embedding_figure(panels, seed=seed, columns=columns, class_names=class_names)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

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


def embedding_plot(features, labels, path: str, title: str = "", seed: int = 0) -> str:
    """Saves a t-SNE scatter plot of features ``[N, D]`` coloured by class ``[N]`` as PNG.

    Several encoders can be compared side by side with :func:`embedding_grid`.

    Returns:
      ``path``.
    """
    return embedding_grid({title: (features, labels)}, path, seed=seed, columns=1)


def embedding_grid(panels: dict, path: str, seed: int = 0, columns: int = 3) -> str:
    """One t-SNE panel per entry ``{title: (features [N, D], labels [N])}``, saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not panels:
        raise ValueError("panels is empty; expected at least one {title: (features, labels)}.")
    n = len(panels)
    cols = min(columns, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 4.0 * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    for ax, (title, (features, labels)) in zip(axes.ravel(), panels.items(), strict=False):
        labels = np.asarray(labels)
        xy = embed_2d(features, seed)
        scatter = ax.scatter(xy[:, 0], xy[:, 1], c=labels, cmap="tab10", s=6, vmin=0, vmax=9)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(scatter, ax=axes.ravel().tolist(), label="class", shrink=0.8)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

"""Figures: 2-D embeddings, training curves, matched confusion matrices, cluster centres beside
their members, elbow/silhouette vs k, and a bar chart of methods. Each function writes one PNG."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deepclust.metrics import NOISE, matched_confusion  # noqa: E402


def _grid(n: int, size: float = 3.2, max_columns: int = 4):
    columns = min(n, max_columns)
    rows = math.ceil(n / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    return fig, axes.flat


def _save(fig, path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def embedding_scatter(coords: np.ndarray, panels: dict, path, title: str) -> None:
    """One scatter per labelling (true labels first, then each method's clusters; noise in grey)."""
    fig, axes = _grid(len(panels))
    for ax, (name, labels) in zip(axes, panels.items()):
        labels = np.asarray(labels)
        noise = labels == NOISE
        ax.scatter(*coords[noise].T, s=2, c="lightgrey", linewidths=0)
        ax.scatter(*coords[~noise].T, s=2, c=labels[~noise], cmap="tab10" if labels.max() < 10 else "tab20",
                   linewidths=0)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=10)
    _save(fig, path)


def training_curves(histories: dict, path, title: str) -> None:
    """Loss, ACC and NMI per epoch; ``histories`` maps a method to its runs' history rows (one
    line per seed, one colour per method)."""
    rows_all = [r for runs in histories.values() for rows in runs for r in rows]
    keys = [k for k in ("loss", "acc", "nmi") if any(k in r for r in rows_all)]
    fig, axes = _grid(max(len(keys), 1), size=3.6)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, key in zip(axes, keys):
        for i, (name, runs) in enumerate(histories.items()):
            for j, rows in enumerate(runs):
                points = [(r["epoch"], r[key]) for r in rows if key in r and r[key] == r[key]]
                if points:
                    ax.plot(*zip(*points), color=colours[i % len(colours)], lw=1, alpha=0.8,
                            label=name if j == 0 else None)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key.upper() if key != "loss" else "loss")
        if key == "loss":
            ax.set_yscale("log")
    if keys:
        axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    _save(fig, path)


def confusion_grid(y_true: np.ndarray, labellings: dict, path, title: str) -> None:
    """Confusion matrix per method, columns ordered by the Hungarian match (diagonal = correct).
    Without true labels (y_true None) the figure says so instead."""
    if y_true is None:
        fig, ax = plt.subplots(figsize=(5, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, "no labels: confusion matrices need the true classes", ha="center", va="center")
        fig.suptitle(title, fontsize=10)
        _save(fig, path)
        return
    fig, axes = _grid(len(labellings), size=3.0)
    for ax, (name, labels) in zip(axes, labellings.items()):
        matrix, clusters = matched_confusion(y_true, labels)
        ax.imshow(matrix, cmap="Blues", aspect="auto")
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("class", fontsize=8)
        ax.set_xlabel("cluster (matched order)", fontsize=8)
        ax.set_xticks(range(len(clusters)), [("noise" if c == NOISE else str(c)) for c in clusters], fontsize=5,
                      rotation=90)
        ax.tick_params(axis="y", labelsize=6)
    fig.suptitle(title, fontsize=10)
    _save(fig, path)


def mosaic(images: np.ndarray, image_shape) -> np.ndarray:
    """(rows, columns, C*H*W) flat images -> one (rows*H, columns*W, C) picture."""
    channels, height, width = image_shape
    rows, columns = images.shape[:2]
    tiles = images.reshape(rows, columns, channels, height, width).transpose(0, 3, 1, 4, 2)
    return tiles.reshape(rows * height, columns * width, channels)


def samples_grid(samples: dict, image_shape, path, title: str) -> None:
    """Per method, a mosaic of generated images: one row per cluster, ``samples[method]`` being
    (n_clusters, n_per_cluster, C*H*W). Colour images are drawn as RGB, others in grey."""
    fig, axes = _grid(len(samples), size=3.2, max_columns=2)
    for ax, (name, images) in zip(axes, samples.items()):
        tiles = mosaic(np.clip(images, 0, 1), image_shape)
        ax.imshow(tiles if image_shape[0] == 3 else tiles[..., 0], cmap=None if image_shape[0] == 3 else "gray")
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    _save(fig, path)


def centres_grid(panels: dict, image_shape, value_range, path, title: str) -> None:
    """Per panel, a mosaic of one row per cluster: its centre image, a gap, then its nearest
    members; ``panels[name]`` being (clusters, 1 + members, C*H*W) with NaN for no image (drawn
    white). Values are scaled from ``value_range`` (the data's) to [0, 1]. No panels (every
    labelling all noise): an empty figure with its title."""
    low, high = value_range
    channels, height, width = image_shape
    fig, axes = _grid(max(len(panels), 1), size=3.2, max_columns=3)
    axes[0].axis("off")  # drawn on below when there is a panel
    for ax, (name, rows) in zip(axes, panels.items()):
        rows = (np.asarray(rows, dtype=float) - low) / ((high - low) or 1.0)
        rows = np.concatenate([rows[:, :1], np.full(rows[:, :1].shape, np.nan), rows[:, 1:]], axis=1)
        # a white line right of and below each image, so that neighbours do not run together
        framed = np.pad(rows.reshape(*rows.shape[:2], channels, height, width), [(0, 0)] * 3 + [(0, 1)] * 2,
                        constant_values=np.nan)
        tiles = mosaic(framed.reshape(*rows.shape[:2], -1), (channels, height + 1, width + 1))
        tiles = np.clip(np.nan_to_num(tiles, nan=1.0), 0, 1)
        ax.imshow(tiles if image_shape[0] == 3 else tiles[..., 0], cmap=None if image_shape[0] == 3 else "gray",
                  vmin=0, vmax=1)
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    _save(fig, path)


def elbow(curves: dict, path, title: str) -> None:
    """``curves`` maps a feature space to {"k": [...], "inertia": [...], "silhouette": [...]}."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    for name, curve in curves.items():
        axes[0].plot(curve["k"], np.asarray(curve["inertia"]) / curve["inertia"][0], marker=".", label=name)
        axes[1].plot(curve["k"], curve["silhouette"], marker=".", label=name)
    axes[0].set(xlabel="k", ylabel="k-means inertia (relative to k=2)")
    axes[1].set(xlabel="k", ylabel="silhouette")
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    _save(fig, path)


def method_bars(summary, path, title: str, metrics=("acc", "nmi", "ari")) -> None:
    """One panel per metric, methods as horizontal bars sorted best first, mean ± std over seeds;
    ``summary`` is tables.summarise's. Without labels (no ACC/NMI/ARI) the silhouette is drawn."""
    if not summary["metric"].isin(metrics).any():
        metrics = ("silhouette",)
    part = summary[summary["metric"].isin(metrics)]
    present = [m for m in metrics if m in set(part["metric"])]
    n_methods = part["method"].nunique()
    fig, axes = plt.subplots(1, len(present), figsize=(3.6 * len(present), 1.2 + 0.28 * n_methods), squeeze=False)
    low = min(0.0, float(np.nanmin(part["mean"], initial=0)))
    for ax, metric in zip(axes.flat, present):
        rows = part[part["metric"] == metric].sort_values("mean", na_position="first")
        positions = np.arange(len(rows))
        ax.barh(positions, rows["mean"], xerr=rows["std"], color="tab:blue", ecolor="0.3", capsize=2, height=0.7)
        ax.set_yticks(positions, rows["method"], fontsize=8)
        ax.set_xlim(low, 1)
        ax.set_title(metric.upper(), fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title, fontsize=10)
    _save(fig, path)

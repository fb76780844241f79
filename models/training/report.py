"""Report pieces for ``claimwatch evaluate``: threshold table and plots (PR curve,
calibration curve, score histograms per class)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve

TABLE_THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.05, 1.0, 0.05))


def threshold_table(
    scores: np.ndarray, labels: np.ndarray, ordinary: np.ndarray, extra: tuple[float, ...] = ()
) -> list[dict[str, float]]:
    """Precision, recall and ordinary-news flag rate at each threshold."""
    rows = []
    for threshold in sorted({*TABLE_THRESHOLDS, *extra}):
        flagged = scores >= threshold
        true_pos = int((flagged & (labels == 1)).sum())
        rows.append({
            "threshold": float(threshold),
            "precision": true_pos / max(int(flagged.sum()), 1),
            "recall": true_pos / max(int((labels == 1).sum()), 1),
            "flag_rate_all": float(flagged.mean()),
            "flag_rate_ordinary": float(flagged[ordinary].mean()) if ordinary.any() else 0.0,
        })
    return rows


def plot_all(
    out_dir: Path, prefix: str, scores: np.ndarray, labels: np.ndarray,
    classes: np.ndarray, thresholds: dict[str, float],
) -> list[str]:
    """Write the PR curve, calibration curve and histograms; returns the file names."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [
        _pr_curve(out_dir / f"{prefix}pr_curve.png", scores, labels, thresholds),
        _calibration(out_dir / f"{prefix}calibration.png", scores, labels),
        _histograms(out_dir / f"{prefix}score_histograms.png", scores, classes, thresholds),
    ]
    return [path.name for path in files]


def _pr_curve(path: Path, scores: np.ndarray, labels: np.ndarray,
              thresholds: dict[str, float]) -> Path:
    precision, recall, cuts = precision_recall_curve(labels, scores)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(recall, precision, label="contested (out-of-fold)")
    for name, value in thresholds.items():
        index = int(np.searchsorted(cuts, value))
        if index < len(cuts):
            ax.scatter([recall[index]], [precision[index]], label=f"{name} = {value:.3f}")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall", ylim=(0, 1.02))
    ax.legend(loc="lower left")
    return _save(fig, path)


def _calibration(path: Path, scores: np.ndarray, labels: np.ndarray) -> Path:
    observed, predicted = calibration_curve(labels, scores, n_bins=10, strategy="quantile")
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    ax.plot(predicted, observed, marker="o", label="model")
    ax.set(xlabel="predicted probability", ylabel="observed frequency", title="Calibration")
    ax.legend(loc="upper left")
    return _save(fig, path)


def _histograms(path: Path, scores: np.ndarray, classes: np.ndarray,
                thresholds: dict[str, float]) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4))
    bins = [i / 20 for i in range(21)]
    for name in sorted(set(classes.tolist())):
        ax.hist(scores[classes == name], bins=bins, alpha=0.5, density=True, label=str(name))
    for name, value in thresholds.items():
        ax.axvline(value, linestyle=":", color="black")
        ax.text(value, ax.get_ylim()[1] * 0.9, name, rotation=90)
    ax.set(xlabel="score", ylabel="density", title="Scores per class")
    ax.legend()
    return _save(fig, path)


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

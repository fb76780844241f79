"""Fit the contested and denial heads; choose settings and thresholds by grouped CV.

``train`` is what ``claimwatch train`` runs: cross-validate a small grid (label
rule, regularisation, lede n-grams, n-gram range), refit the best on everything,
pick thresholds from the out-of-fold scores, write the artifact and its card.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import Pipeline

from models.article.features import Document, as_signals
from models.article.pipeline import (
    DEFAULT_PARAMS,
    ClaimModel,
    build_classifier,
    build_pipeline,
    denial_columns,
    drop_stop_words,
)
from models.artifact import save_model
from models.training.card import build_card
from models.training.crossval import (
    OutOfFold,
    flag_threshold,
    metrics,
    nested_flag_rate,
    out_of_fold,
    training_labels,
)
from models.training.data import Corpus

Progress = Callable[[str], None]

# The grid searched by grouped CV; each entry overrides DEFAULT_PARAMS.
GRID: list[dict[str, Any]] = [
    {"label_rule": "majority", "C": 10.0, "lede": True, "ngram_range": (1, 1)},
    {"label_rule": "majority", "C": 10.0, "lede": True, "ngram_range": (1, 2)},
    {"label_rule": "majority", "C": 10.0, "lede": False, "ngram_range": (1, 1)},
    {"label_rule": "any", "C": 10.0, "lede": True, "ngram_range": (1, 1)},
    {"label_rule": "unanimous", "C": 10.0, "lede": True, "ngram_range": (1, 1)},
    {"label_rule": "majority", "C": 3.0, "lede": True, "ngram_range": (1, 1)},
]
FLAG_BUDGET = 0.05  # ordinary-news flag rate allowed at the flag threshold (issue: ≤ 10%)
HIGH_BUDGET = 0.01  # ordinary-news flag rate allowed at the "high" tier


@dataclass
class Fitted:
    """A fitted pipeline and denial head."""

    pipeline: Pipeline
    denial: CalibratedClassifierCV
    denial_columns: int


def sample_weights(corpus: Corpus, index: np.ndarray, ordinary_weight: float) -> np.ndarray:
    sources = np.asarray(corpus.sources)[index]
    return np.where(np.char.startswith(sources.astype(str), "ordinary:"), ordinary_weight, 1.0)


def fit_heads(
    docs: list[Document], corpus: Corpus, index: np.ndarray, params: dict[str, Any], seed: int
) -> Fitted:
    """Fit both heads on the articles ``index`` of ``corpus`` (``docs`` aligned to it)."""
    merged = {**DEFAULT_PARAMS, **params}
    labels, keep = training_labels(corpus, merged["label_rule"])
    chosen = [position for position, i in enumerate(index) if keep[i]]
    rows = index[chosen]
    train_docs = [docs[i] for i in rows]
    weights = sample_weights(corpus, rows, merged["ordinary_weight"])
    pipeline = build_pipeline(merged, seed)
    pipeline.fit(train_docs, labels[rows], classifier__sample_weight=weights)
    drop_stop_words(pipeline)
    columns = denial_columns(pipeline)
    features = pipeline.named_steps["features"].transform(train_docs)[:, :columns]
    denial = build_classifier({**merged, "C": merged.get("denial_C", merged["C"])}, seed)
    # The denial head learns from every article: the contested label rule does not apply.
    if len(rows) < len(index):
        train_docs = [docs[i] for i in index]
        features = pipeline.named_steps["features"].transform(train_docs)[:, :columns]
        weights = sample_weights(corpus, index, merged["ordinary_weight"])
        rows = index
    denial.fit(features, np.asarray(corpus.denial)[rows], sample_weight=weights)
    return Fitted(pipeline, denial, columns)


def cross_validate(
    docs: list[Document], corpus: Corpus, params: dict[str, Any], seed: int,
    n_folds: int = 5, progress: Progress | None = None,
) -> OutOfFold:
    """Out-of-fold scores of the model built with ``params``."""

    def fit(train_docs: list[Document], index: np.ndarray, _y: Any, _f: Any) -> Fitted:
        return fit_heads(docs, corpus, index, params, seed)

    def score(fitted: Fitted, test_docs: list[Document]) -> tuple[np.ndarray, np.ndarray]:
        model = ClaimModel(fitted.pipeline, fitted.denial, {}, "", fitted.denial_columns)
        scores = model.score_batch(test_docs)
        return scores.contested, scores.denial

    return out_of_fold(docs, corpus, fit, score, n_folds, seed, progress)


def choose_thresholds(corpus: Corpus, oof: OutOfFold) -> dict[str, float]:
    """Flag / high thresholds from the leave-domain-out ordinary-news scores."""
    ordinary = np.char.startswith(np.asarray(corpus.sources).astype(str), "ordinary:")
    flag = flag_threshold(oof.contested[ordinary], FLAG_BUDGET)
    high = max(flag, flag_threshold(oof.contested[ordinary], HIGH_BUDGET))
    # Rounded up, so the rounded threshold still keeps within the budget.
    return {"flag": math.ceil(flag * 1e4) / 1e4, "high": math.ceil(high * 1e4) / 1e4}


def select_params(
    docs: list[Document], corpus: Corpus, seed: int, progress: Progress
) -> tuple[dict[str, Any], OutOfFold, list[dict[str, Any]]]:
    """Pick the grid entry with the best CV score (FNC contested + denial ROC-AUC)."""
    results: list[dict[str, Any]] = []
    best: tuple[float, dict[str, Any], OutOfFold] | None = None
    for number, params in enumerate(GRID, 1):
        progress(f"CV {number}/{len(GRID)}: {params}")
        oof = cross_validate(docs, corpus, params, seed, progress=progress)
        found = metrics(corpus, oof, choose_thresholds(corpus, oof)["flag"])
        objective = found["roc_auc_contested_fnc"] + found["roc_auc_denial_fnc"]
        results.append({"params": params, "objective": objective, **found})
        progress(
            f"  contested AUC {found['roc_auc_contested_fnc']:.3f}"
            f" denial AUC {found['roc_auc_denial_fnc']:.3f}"
            f" recall {found['fnc_contested_recall']:.3f} objective {objective:.3f}"
        )
        if best is None or objective > best[0]:
            best = (objective, params, oof)
    assert best is not None
    return best[1], best[2], results


def extract_all(texts: list[str], progress: Progress) -> list[Document]:
    """Extract the signals of every text once; CV folds reuse them."""
    progress(f"extracting signals from {len(texts)} articles")
    return [as_signals(text) for text in texts]


def train(
    corpus: Corpus, out_dir: Path, seed: int, progress: Progress, version: str
) -> tuple[ClaimModel, Path]:
    """Select, fit, and write the artifact + model card; returns the model and its path."""
    docs = extract_all(corpus.texts, progress)
    chosen, oof, grid_results = select_params(docs, corpus, seed, progress)
    params = {**DEFAULT_PARAMS, **chosen}
    thresholds = choose_thresholds(corpus, oof)
    cv_metrics = metrics(corpus, oof, thresholds["flag"])
    cv_metrics["ordinary_flag_rate_nested"] = nested_flag_rate(corpus, oof, FLAG_BUDGET)
    progress(f"refitting on all {len(docs)} articles with {params}")
    fitted = fit_heads(docs, corpus, np.arange(len(docs)), params, seed)
    card = build_card(corpus, params, seed, thresholds, cv_metrics, grid_results, version,
                      (FLAG_BUDGET, HIGH_BUDGET))
    model = ClaimModel(fitted.pipeline, fitted.denial, card, "", fitted.denial_columns)
    path = save_model(model, out_dir)
    progress(f"wrote {path}")
    return model, path

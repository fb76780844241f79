"""``claimwatch evaluate``: reproduce a model's grouped-CV metrics, compare with the
baselines and, optionally, with a second artifact on the same data.

The CV re-runs the card's settings and seed on the same corpus, so the metrics it
writes should equal the card's; ``matches_card`` says whether they do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from models.article.assess import ArticleModel, assess_batch
from models.article.evidence_model import EvidenceClaimModel
from models.article.features import Document, SignalFeatures, document_text
from models.training import train as train_v2
from models.training.crossval import OutOfFold, metrics, nested_flag_rate, out_of_fold
from models.training.data import Corpus
from models.training.report import plot_all, threshold_table
from models.training.train_v1 import FLAG_BUDGET, choose_thresholds, cross_validate, extract_all

Progress = Callable[[str], None]


def _baseline(kind: str) -> Pipeline:
    if kind == "tfidf_lr":
        vectorizer = TfidfVectorizer(preprocessor=document_text, ngram_range=(1, 2), min_df=2)
        return make_pipeline(vectorizer, LogisticRegression(max_iter=2000))
    return make_pipeline(SignalFeatures(), StandardScaler(), LogisticRegression(max_iter=2000))


def baselines(docs: list[Document], corpus: Corpus, seed: int,
              progress: Progress) -> dict[str, Any]:
    """TF-IDF(1,2)+LR and lexicon-only LR, trained on FNC-1 alone, under the same CV."""
    results: dict[str, Any] = {}
    contested = np.asarray(corpus.contested)
    denial = np.asarray(corpus.denial)
    fnc = np.asarray(corpus.sources) == "fnc"
    for kind in ("tfidf_lr", "lexicon_lr"):
        progress(f"baseline {kind}")

        def fit(_d: list[Document], index: np.ndarray, _y: Any, _f: Any,
                kind: str = kind) -> tuple[Pipeline, Pipeline]:
            rows = index[fnc[index]]
            train_docs = [docs[i] for i in rows]
            return (_baseline(kind).fit(train_docs, contested[rows]),
                    _baseline(kind).fit(train_docs, denial[rows]))

        def score(models: tuple[Pipeline, Pipeline],
                  test: list[Document]) -> tuple[np.ndarray, np.ndarray]:
            return models[0].predict_proba(test)[:, 1], models[1].predict_proba(test)[:, 1]

        oof = out_of_fold(docs, corpus, fit, score, 5, seed)
        results[kind] = metrics(corpus, oof, 0.5)
    return results


def labelled_metrics(model: ArticleModel, corpus: Corpus) -> dict[str, Any]:
    """Direct scores of an artifact on labelled articles it may not have seen."""
    assessed = assess_batch(model, corpus.ids, corpus.texts)
    scores = np.asarray([a.score for a in assessed])
    labels = np.asarray(corpus.contested)
    flagged = np.asarray([a.flagged for a in assessed])
    both = len(set(labels.tolist())) == 2
    return {
        "articles": len(labels),
        "roc_auc_contested": float(roc_auc_score(labels, scores)) if both else None,
        "precision": float(labels[flagged].mean()) if flagged.any() else None,
        "recall": float(flagged[labels == 1].mean()) if (labels == 1).any() else None,
        "flag_rate": float(flagged.mean()),
        "flag_rate_not_contested": float(flagged[labels == 0].mean()) if (labels == 0).any()
        else None,
        "threshold": model.threshold,
    }


def reproduce_cv(
    model: ArticleModel, corpus: Corpus, docs: list[Document], params: dict[str, Any],
    seed: int, progress: Progress, political: list[str] | None = None,
) -> tuple[OutOfFold, dict[str, float]]:
    """Out-of-fold scores with the card's settings, and the thresholds they give (with the
    political-news budget when ``political`` texts are given, as training had them)."""
    if isinstance(model, EvidenceClaimModel):
        evidence = model.extract(corpus.texts)
        political_evidence = model.extract(political) if political else None
        oof = train_v2.cross_validate(
            evidence, corpus, model.evidence, params, seed, political=political_evidence
        )
        return oof, train_v2.choose_thresholds(corpus, oof)
    oof = cross_validate(docs, corpus, params, seed, progress=progress)
    return oof, choose_thresholds(corpus, oof)


def evaluate_model(
    model: ArticleModel, corpus: Corpus, docs: list[Document], out_dir: Path, prefix: str,
    progress: Progress, labelled: Corpus | None = None, political: list[str] | None = None,
) -> dict[str, Any]:
    """CV reproduction, plots and threshold table for one artifact."""
    card = model.card
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in card["params"].items()}
    seed = int(card.get("seed", 0))
    progress(f"{prefix or 'model'}: grouped CV with the card's settings {params}")
    oof, thresholds = reproduce_cv(model, corpus, docs, params, seed, progress, political)
    found = metrics(corpus, oof, float(card["thresholds"]["flag"]))
    found["ordinary_flag_rate_nested"] = nested_flag_rate(corpus, oof, FLAG_BUDGET)
    expected = card.get("cv", {}).get("metrics", {})
    same = all(
        abs(found[key] - expected[key]) < 1e-6
        for key in expected if isinstance(expected[key], float) and key in found
    )
    sources = np.asarray(corpus.sources).astype(str)
    ordinary = np.char.startswith(sources, "ordinary:")
    classes = np.where(ordinary, "ordinary", np.where(np.asarray(corpus.contested) == 1,
                                                      "contested", "asserted"))
    labels = np.asarray(corpus.contested)
    card_thresholds = {k: float(v) for k, v in card["thresholds"].items()}
    result: dict[str, Any] = {
        "model": model.info(),
        "cv_metrics": found,
        "card_cv_metrics": expected,
        "matches_card": same,
        "thresholds_card": card_thresholds,
        "thresholds_recomputed": thresholds,
        "threshold_table": threshold_table(oof.contested, labels, ordinary,
                                           tuple(card_thresholds.values())),
        "plots": plot_all(out_dir, prefix, oof.contested, labels, classes, card_thresholds),
    }
    if labelled is not None:
        result["labelled"] = labelled_metrics(model, labelled)
    return result


def evaluate(
    model: ArticleModel, corpus: Corpus, out_dir: Path, progress: Progress,
    compare: ArticleModel | None = None, labelled: Corpus | None = None,
    with_baselines: bool = True, political: list[str] | None = None,
) -> dict[str, Any]:
    """Write ``report.json`` (+ plots) to ``out_dir`` and return the report.

    ``political``: the unlabelled political news whose flag budget training applied
    (PolNeAR train + dev), so the recomputed thresholds and figures match the card's.
    """
    docs = extract_all(corpus.texts, progress)
    report: dict[str, Any] = {
        "model": evaluate_model(model, corpus, docs, out_dir, "", progress, labelled, political)
    }
    if compare is not None:
        report["compare"] = evaluate_model(
            compare, corpus, docs, out_dir, "compare_", progress, labelled, political
        )
    if with_baselines:
        report["baselines"] = baselines(docs, corpus, int(model.card.get("seed", 0)), progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report

"""Comparison grid for the hedge classifier (5-fold stratified, duplicate-grouped CV).

Usage::

    python -m models.training.hedge_grid [--data ../shared/data] [--quick] [--out grid.json]
    python -m models.training.hedge_grid --seeds   # stage 2: the shortlist over 3 CV seeds

For each feature set the vectorizer is fitted once per fold (on that fold's training
part) and the fold matrices are reused for every classifier / C / class-weight setting;
the split is the one :func:`hedge.cross_validate_hedge` makes over single sentences
(duplicates grouped; training now groups blocks of articles, compared by
:mod:`models.training.hedge_blocks`), and the metrics
come from the same :func:`hedge.summarize_oof`. Speed is measured per feature set with
the fitted :class:`hedge.HedgeModel` fast path on 20,000 raw news sentences (PolNeAR and
FakeNewsAMT texts, used for timing and descriptive flag rates only, never for fitting).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.model_selection import StratifiedGroupKFold

from models.evidence.hedge import HedgeModel, prepare
from models.evidence.lexicon import CATEGORIES, CUE_PATTERN
from models.training.hedge import (
    HedgeParams,
    build_classifier,
    build_features,
    build_hedge_pipeline,
    load_weasel,
    summarize_oof,
)

_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


def news_sentences(data: Path, limit: int = 20_000) -> list[str]:
    """Raw news sentences (naive split) from PolNeAR train and FakeNewsAMT legit texts."""
    out: list[str] = []
    files = sorted((data / "polnear/train/text").glob("*.txt"))
    files += sorted((data / "ordinary-news").glob("*.txt"))
    for f in files:
        for s in _SENT_SPLIT.split(f.read_text(encoding="utf-8", errors="replace")):
            s = " ".join(s.split())
            if len(s) > 20:
                out.append(s)
    while len(out) < limit:
        out = out + out
    return out[:limit]


def cue_matrix(texts: list[str]) -> sparse.csr_matrix:
    """Per-category counts (log1p) of the project's cue lexicon."""
    rows = np.zeros((len(texts), len(CATEGORIES)), dtype=np.float64)
    for i, t in enumerate(texts):
        for m in CUE_PATTERN.finditer(t):
            rows[i, CATEGORIES.index(m.lastgroup)] += 1
    return sparse.csr_matrix(np.log1p(rows))


def fold_matrices(texts: list[str], labels: NDArray[np.int_], groups: NDArray[np.int_],
                  params: HedgeParams, seed: int = 0) -> tuple[list[Any], float]:
    """Per fold: (train matrix, test matrix, train idx, test idx); and vectorize seconds."""
    splitter = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
    out = []
    t0 = time.perf_counter()
    for tr, te in splitter.split(texts, labels, groups):
        feats = build_features(params)
        xtr = feats.fit_transform([texts[i] for i in tr])
        xte = feats.transform([texts[i] for i in te])
        out.append((xtr, xte, tr, te))
    return out, time.perf_counter() - t0


def run_grid(data: Path, quick: bool) -> list[dict[str, Any]]:
    """Evaluate every configuration; return one row per configuration."""
    texts, labels, groups = load_weasel(data / "wiki-weasel/train.csv")
    prepared = [prepare(t) for t in texts]
    bench = news_sentences(data)
    cues = cue_matrix(prepared)
    print(f"{len(prepared)} texts, {labels.sum()} uncertain, {len(set(groups))} groups; "
          f"cue lexicon {'available' if cues is not None else 'NOT available'}", flush=True)

    feature_sets = [
        HedgeParams(word_ngrams=(1, 1)),
        HedgeParams(word_ngrams=(1, 2)),
        HedgeParams(word_ngrams=(1, 2), min_df=2),
        HedgeParams(word_ngrams=(1, 3), min_df=2),
        HedgeParams(word_ngrams=(1, 2), hashing=True, n_features=2**18),
        HedgeParams(word_ngrams=None, char_ngrams=(2, 5)),
        HedgeParams(word_ngrams=(1, 2), char_ngrams=(2, 5)),
    ]
    lr_c = [1.0, 3.0, 10.0, 30.0] if quick else [0.3, 1.0, 3.0, 10.0, 30.0, 100.0]
    svm_c = [0.1, 0.3] if quick else [0.03, 0.1, 0.3, 1.0]
    rows: list[dict[str, Any]] = []
    for base in feature_sets:
        folds, vec_s = fold_matrices(prepared, labels, groups, base)
        # Speed of the whole inference path (prepare + transform + mat-vec) for this set.
        fitted = build_hedge_pipeline(replace(base, C=10.0)).fit(prepared, labels)
        model = HedgeModel(pipeline=fitted, threshold=0.5)
        model.predict_proba(bench[:200])
        t0 = time.perf_counter()
        model.predict_proba(bench)
        speed = len(bench) / (time.perf_counter() - t0)
        n_feat = fitted.named_steps["clf"].coef_.shape[1]
        print(f"-- {base.label().split(' ')[0]}: {n_feat} features, CV vectorize {vec_s:.1f}s, "
              f"{speed:,.0f} sentences/s", flush=True)
        configs = [replace(base, classifier="logreg", C=c, class_weight=cw)
                   for c in lr_c for cw in (None, "balanced")]
        configs += [replace(base, classifier="linear_svm", C=c, class_weight=cw)
                    for c in svm_c for cw in (None, "balanced")]
        with_cues = [False, True] if cues is not None and base.word_ngrams == (1, 2) \
            and base.min_df == 2 and not base.char_ngrams else [False]
        for use_cues in with_cues:
            for p in configs:
                scores = np.zeros(len(prepared))
                fold_of = np.zeros(len(prepared), dtype=np.int_)
                t0 = time.perf_counter()
                for k, (xtr, xte, tr, te) in enumerate(folds):
                    if use_cues:
                        xtr = sparse.hstack([xtr, cues[tr]], format="csr")
                        xte = sparse.hstack([xte, cues[te]], format="csr")
                    clf = build_classifier(p).fit(xtr, labels[tr])
                    scores[te] = clf.decision_function(xte)
                    fold_of[te] = k
                fit_s = time.perf_counter() - t0
                r = summarize_oof(labels, scores, fold_of)
                row = {
                    "config": p.label() + (" +cues" if use_cues else ""),
                    "params": {k: v for k, v in p.__dict__.items()},
                    "cues": use_cues,
                    "n_features": int(n_feat),
                    "sent_per_s": speed,
                    "fit_s": fit_s,
                    **{k: v for k, v in r.items() if k not in ("oof_scores", "fold_of")},
                }
                rows.append(row)
                print(f"{row['config']:<52} F1 {r['f1_mean']:.3f}±{r['f1_std']:.3f} "
                      f"P {r['precision_mean']:.3f} R {r['recall_mean']:.3f} "
                      f"AUC {r['auc_mean']:.3f} nested {r['f1_nested_mean']:.3f} "
                      f"F1@def {r['f1_default']:.3f} t {r['threshold']:.3f} "
                      f"ECEraw {r['ece_raw']:.3f} ECE {r['ece']:.3f} ({fit_s:.1f}s)", flush=True)
    return rows


def run_seeds(data: Path, seeds: tuple[int, ...] = (0, 1, 2)) -> list[dict[str, Any]]:
    """Stage 2: the shortlisted word-n-gram logistic regressions, re-run over 3 CV seeds
    (different fold assignments), so the choice does not rest on one split's noise."""
    texts, labels, groups = load_weasel(data / "wiki-weasel/train.csv")
    prepared = [prepare(t) for t in texts]
    shortlist = [
        HedgeParams(word_ngrams=(1, 1)),
        HedgeParams(word_ngrams=(1, 2), min_df=1),
        HedgeParams(word_ngrams=(1, 2), min_df=2),
        HedgeParams(word_ngrams=(1, 2), min_df=2, sublinear_tf=False),
        HedgeParams(word_ngrams=(1, 3), min_df=2),
        HedgeParams(word_ngrams=(1, 3), min_df=3),
    ]
    rows: list[dict[str, Any]] = []
    for base in shortlist:
        per_c: dict[float, list[dict[str, Any]]] = {c: [] for c in (1.0, 3.0, 10.0)}
        for seed in seeds:
            folds, _ = fold_matrices(prepared, labels, groups, base, seed=seed)
            for c in per_c:
                p = replace(base, C=c)
                scores = np.zeros(len(prepared))
                fold_of = np.zeros(len(prepared), dtype=np.int_)
                for k, (xtr, xte, tr, te) in enumerate(folds):
                    scores[te] = build_classifier(p).fit(xtr, labels[tr]).decision_function(xte)
                    fold_of[te] = k
                per_c[c].append(summarize_oof(labels, scores, fold_of))
        for c, reps in per_c.items():
            p = replace(base, C=c)
            label = p.label() + ("" if base.sublinear_tf else " tf=raw")
            row: dict[str, Any] = {"config": label, "seeds": list(seeds)}
            for key in ("f1_mean", "f1_nested_mean", "precision_mean", "recall_mean", "auc_mean",
                        "threshold", "ece"):
                row[key] = float(np.mean([r[key] for r in reps]))
            row["f1_seed_sd"] = float(np.std([r["f1_mean"] for r in reps]))
            rows.append(row)
            print(f"{label:<44} F1 {row['f1_mean']:.3f} (seed sd {row['f1_seed_sd']:.3f}) "
                  f"nested {row['f1_nested_mean']:.3f} P {row['precision_mean']:.3f} "
                  f"R {row['recall_mean']:.3f} AUC {row['auc_mean']:.3f} "
                  f"t {row['threshold']:.3f} ECE {row['ece']:.3f}", flush=True)
    return rows


def main() -> None:
    """Run the grid, print the table, write the rows as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"),
                        help="the shared data directory")
    parser.add_argument("--quick", action="store_true", help="smaller C grid")
    parser.add_argument("--out", default="results.json")
    parser.add_argument("--seeds", action="store_true",
                        help="only stage 2: shortlist over CV seeds 0, 1, 2")
    args = parser.parse_args()
    if args.seeds:
        rows = run_seeds(args.data)
        Path(args.out).write_text(json.dumps(rows, indent=1, default=str))
        return
    rows = run_grid(args.data, args.quick)
    rows.sort(key=lambda r: -r["f1_mean"])
    print("\n| configuration | CV F1 | P | R | AUC | nested F1 | threshold | sentences/s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows[:40]:
        print(f"| {r['config']} | {r['f1_mean']:.3f} ± {r['f1_std']:.3f} | "
              f"{r['precision_mean']:.3f} | {r['recall_mean']:.3f} | "
              f"{r['auc_mean']:.3f} ± {r['auc_std']:.3f} | {r['f1_nested_mean']:.3f} | "
              f"{r['threshold']:.3f} | {r['sent_per_s']:,.0f} |")
    Path(args.out).write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()

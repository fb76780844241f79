"""Measure claim clustering on FNC-1: pairwise precision / recall / F1 and ARI.

``python -m models.claims.evaluate --data ../shared/data`` reads FNC-1 train, makes
one article of every distinct headline and every body, and labels each with its
story: the connected component of the headline/body pairs whose stance is not
*unrelated* (a related headline and body are about the same claim). The articles
are streamed in a fixed shuffled order (FNC-1 has no times) through
:class:`~models.claims.cluster.ClaimClusterer`.

The threshold is chosen by grouped cross-validation: stories are split into folds;
for each fold the threshold with the best pairwise F1 on the other folds is scored
on the held-out fold, so the reported held-out figures never saw their own data.
The final threshold is the one best on all stories (reported next to the fold
choices, so their spread shows how stable it is).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GroupKFold

from models.claims.cluster import ClaimClusterer
from models.claims.represent import Terms, claim_terms

THRESHOLDS = tuple(round(0.08 + 0.02 * i, 2) for i in range(12))  # 0.08 … 0.30
FOLDS = 5
ORDER_SEED = 16


@dataclass(frozen=True, slots=True)
class LabelledArticle:
    article_id: str
    text: str
    story: int


def pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_scores(truth: Sequence[object], predicted: Sequence[object]) -> dict[str, float]:
    """Precision, recall and F1 of "same cluster" over every pair of articles.

    Counted from the contingency table, so it costs O(n), not O(n²).
    """
    both = sum(pairs(n) for n in Counter(zip(truth, predicted, strict=True)).values())
    said = sum(pairs(n) for n in Counter(predicted).values())
    real = sum(pairs(n) for n in Counter(truth).values())
    precision = both / said if said else 1.0
    recall = both / real if real else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _find(parent: dict[str, str], node: str) -> str:
    while parent[node] != node:
        parent[node] = parent[parent[node]]
        node = parent[node]
    return node


def load_fnc1(data: Path) -> list[LabelledArticle]:
    """FNC-1 train headlines and bodies, each labelled with its story, in stream order."""
    folder = data / "fnc-1"
    with (folder / "train_bodies.csv").open(encoding="utf-8", newline="") as handle:
        bodies = {row["Body ID"]: row["articleBody"] for row in csv.DictReader(handle)}
    with (folder / "train_stances.csv").open(encoding="utf-8", newline="") as handle:
        stances = list(csv.DictReader(handle))
    parent: dict[str, str] = {}
    for key in [f"b:{b}" for b in bodies] + [f"h:{row['Headline']}" for row in stances]:
        parent.setdefault(key, key)
    for row in stances:
        if row["Stance"] != "unrelated":
            a, b = _find(parent, f"h:{row['Headline']}"), _find(parent, f"b:{row['Body ID']}")
            if a != b:
                parent[max(a, b)] = min(a, b)
    roots: dict[str, int] = {}
    articles = []
    for key in sorted(parent):
        story = roots.setdefault(_find(parent, key), len(roots))
        text = bodies[key[2:]] if key.startswith("b:") else key[2:]
        articles.append(LabelledArticle(key, text, story))
    random.Random(ORDER_SEED).shuffle(articles)
    return articles


def cluster_labels(
    terms: Sequence[tuple[str, Terms]], threshold: float, idf: bool = True
) -> list[str]:
    """The cluster id of each article, streamed in order (all at one time: no expiry)."""
    clusterer = ClaimClusterer(threshold=threshold, idf=idf)
    return [clusterer.add(article_id, vector, now=0.0).cluster_id for article_id, vector in terms]


def scores_at(
    articles: Sequence[LabelledArticle],
    vectors: dict[str, Terms],
    threshold: float,
    idf: bool = True,
) -> dict[str, float]:
    terms = [(a.article_id, vectors[a.article_id]) for a in articles]
    predicted = cluster_labels(terms, threshold, idf)
    truth = [a.story for a in articles]
    result = pairwise_scores(truth, predicted)
    result["ari"] = adjusted_rand_score(truth, predicted)
    result["clusters"] = len(set(predicted))
    return result


def best_threshold(
    articles: Sequence[LabelledArticle], vectors: dict[str, Terms], idf: bool = True
) -> tuple[float, dict[float, dict[str, float]]]:
    """The threshold of :data:`THRESHOLDS` with the best pairwise F1 (ties: the lower)."""
    curve = {t: scores_at(articles, vectors, t, idf) for t in THRESHOLDS}
    best = max(THRESHOLDS, key=lambda t: (curve[t]["f1"], -t))
    return best, curve


# Representations compared by --variants: (name, lead sentences, evidence sentences, IDF).
VARIANTS: tuple[tuple[str, int, int, bool], ...] = (
    ("lead 4 + evidence 10, IDF (the service)", 4, 10, True),
    ("same, without IDF", 4, 10, False),
    ("lead 1 only", 1, 0, True),
    ("lead 2 + evidence 3", 2, 3, True),
    ("whole body (first 400 sentences)", 400, 0, True),
)


def compare_variants(articles: Sequence[LabelledArticle]) -> list[dict[str, object]]:
    """Each representation's best pairwise F1 over :data:`THRESHOLDS`, on all stories.

    This chose the representation (so these are in-sample); only the threshold is
    then chosen by cross-validation.
    """
    rows = []
    for name, lead, evidence, idf in VARIANTS:
        vectors = {a.article_id: claim_terms(a.text, None, lead, evidence) for a in articles}
        chosen, curve = best_threshold(articles, vectors, idf)
        rows.append({"representation": name, "threshold": chosen, **curve[chosen]})
    return rows


def evaluate(data: Path, n_folds: int = FOLDS) -> dict[str, object]:
    """Cross-validated choice of threshold, held-out figures, and figures on all stories."""
    articles = load_fnc1(data)
    started = time.perf_counter()
    vectors = {a.article_id: claim_terms(a.text) for a in articles}
    represent_s = time.perf_counter() - started
    stories = [a.story for a in articles]
    folds = []
    for train_index, test_index in GroupKFold(n_splits=n_folds).split(articles, groups=stories):
        train = [articles[i] for i in sorted(train_index)]
        test = [articles[i] for i in sorted(test_index)]
        chosen, _ = best_threshold(train, vectors)
        held_out = scores_at(test, vectors, chosen)
        folds.append({"threshold": chosen, **held_out})
    chosen, curve = best_threshold(articles, vectors)
    mean = {
        key: sum(float(fold[key]) for fold in folds) / len(folds)
        for key in ("precision", "recall", "f1", "ari")
    }
    return {
        "data": "FNC-1 train (fnc-1/train_stances.csv, train_bodies.csv)",
        "articles": len(articles),
        "stories": len(set(stories)),
        "folds": n_folds,
        "represent_s": round(represent_s, 2),
        "cross_validation": {"folds": folds, "held_out_mean": mean},
        "threshold": chosen,
        "at_threshold": curve[chosen],
        "curve": {str(t): curve[t] for t in THRESHOLDS},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.claims.evaluate", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--folds", type=int, default=FOLDS, help="story folds of the CV")
    parser.add_argument(
        "--variants", action="store_true", help="compare representations instead (slower)"
    )
    parser.add_argument("--out", type=Path, help="also write the report (JSON) here")
    args = parser.parse_args(argv)
    if args.variants:
        report: object = compare_variants(load_fnc1(args.data))
    else:
        report = evaluate(args.data, args.folds)
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Grouped cross-validation shared by ``train`` (model selection) and ``evaluate``.

Each of the folds holds out a share of the FNC-1 story groups *and* one whole
ordinary-news domain, so the ordinary-news flag rate is measured on a domain the
model never saw (leave-one-domain-out) and no story straddles a split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from models.article.features import Document
from models.training.data import Corpus

LABEL_RULES = ("any", "majority", "unanimous")


def training_labels(corpus: Corpus, rule: str) -> tuple[np.ndarray, np.ndarray]:
    """Labels and a keep-mask for training under a label rule.

    ``any``: the data README's rule (a discuss/disagree headline → contested);
    ``majority``: most related headlines discuss/disagree; ``unanimous``: as ``any``
    but FNC bodies with mixed stances are left out of training.
    """
    contested = np.asarray(corpus.contested)
    keep = np.ones(len(contested), dtype=bool)
    if rule == "majority":
        contested = (np.asarray(corpus.share) >= 0.5).astype(int)
    elif rule == "unanimous":
        keep = ~np.asarray(corpus.mixed)
    elif rule != "any":
        raise ValueError(f"unknown label rule {rule!r}")
    return contested, keep


def fold_ids(corpus: Corpus, n_folds: int, seed: int) -> np.ndarray:
    """Fold of every article: story groups split by GroupKFold, domain i → fold i."""
    folds = np.zeros(len(corpus.texts), dtype=int)
    groups = np.asarray(corpus.groups)
    domains = sorted({g for g in corpus.groups if g.startswith("ordinary:")})
    for index, domain in enumerate(domains):
        folds[groups == domain] = index % n_folds
    rest = np.flatnonzero(~np.isin(groups, domains))
    splitter = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for fold, (_, test) in enumerate(splitter.split(rest, groups=groups[rest])):
        folds[rest[test]] = fold
    return folds


@dataclass
class OutOfFold:
    """Out-of-fold probabilities for every article."""

    contested: np.ndarray
    denial: np.ndarray
    folds: np.ndarray
    political: np.ndarray | None = None  # unlabelled political news, mean of fold models


def out_of_fold(
    docs: list[Document],
    corpus: Corpus,
    fit: Callable[[list[Document], np.ndarray, np.ndarray, np.ndarray], Any],
    score: Callable[[Any, list[Document]], tuple[np.ndarray, np.ndarray]],
    n_folds: int = 5,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> OutOfFold:
    """Fit on all folds but one, score the held-out fold, for each fold."""
    folds = fold_ids(corpus, n_folds, seed)
    contested = np.zeros(len(docs))
    denial = np.zeros(len(docs))
    for fold in range(n_folds):
        train = np.flatnonzero(folds != fold)
        test = np.flatnonzero(folds == fold)
        model = fit([docs[i] for i in train], train, np.asarray(corpus.contested)[train], folds)
        contested[test], denial[test] = score(model, [docs[i] for i in test])
        if progress:
            progress(f"  fold {fold + 1}/{n_folds} done")
    return OutOfFold(contested, denial, folds)


def flag_threshold(scores: np.ndarray, budget: float) -> float:
    """Lowest threshold that flags at most ``budget`` of ``scores`` (ordinary news)."""
    ordered = np.sort(scores)[::-1]
    allowed = int(np.floor(budget * len(ordered)))
    if allowed >= len(ordered):
        return float(ordered[-1])
    return float(np.nextafter(ordered[allowed], 1.0))


def nested_flag_rate(corpus: Corpus, oof: OutOfFold, budget: float) -> float:
    """Ordinary-news flag rate when each domain's threshold comes from the *other* domains.

    An honest estimate for a domain seen neither in training nor in threshold choice.
    """
    sources = np.asarray(corpus.sources).astype(str)
    domains = sorted({s for s in sources if s.startswith("ordinary:")})
    flagged = total = 0
    for domain in domains:
        others = np.char.startswith(sources, "ordinary:") & (sources != domain)
        threshold = flag_threshold(oof.contested[others], budget)
        flagged += int((oof.contested[sources == domain] >= threshold).sum())
        total += int((sources == domain).sum())
    return flagged / max(total, 1)


def metrics(corpus: Corpus, oof: OutOfFold, threshold: float) -> dict[str, Any]:
    """The card's CV metrics from out-of-fold scores at a flag threshold."""
    sources = np.asarray(corpus.sources)
    fnc = sources == "fnc"
    ordinary = np.char.startswith(sources.astype(str), "ordinary:")
    contested = np.asarray(corpus.contested)
    denial = np.asarray(corpus.denial)
    flagged = oof.contested >= threshold
    news = fnc | ordinary
    per_domain = {
        domain.split(":", 1)[1]: float(flagged[sources == domain].mean())
        for domain in sorted(set(sources[ordinary]))
    }
    return {
        "roc_auc_contested_fnc": float(roc_auc_score(contested[fnc], oof.contested[fnc])),
        "roc_auc_contested_with_ordinary": float(
            roc_auc_score(contested[news], oof.contested[news])
        ),
        "roc_auc_denial_fnc": float(roc_auc_score(denial[fnc], oof.denial[fnc])),
        "roc_auc_denial_with_ordinary": float(roc_auc_score(denial[news], oof.denial[news])),
        "ordinary_flag_rate_leave_domain_out": float(flagged[ordinary].mean()),
        "ordinary_flag_rate_by_domain": per_domain,
        "fnc_contested_recall": float(flagged[fnc & (contested == 1)].mean()),
        "fnc_asserted_flag_rate": float(flagged[fnc & (contested == 0)].mean()),
        "threshold": threshold,
        **(
            {"political_flag_rate": float((oof.political >= threshold).mean())}
            if oof.political is not None and len(oof.political) else {}
        ),
    }

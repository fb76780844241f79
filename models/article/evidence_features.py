"""Article features built only from the evidence, as a scikit-learn transformer.

The article model v2 scores these and nothing else: cue counts, hedge
probabilities, attributions by kind and by who the source is, claim ↔ denial
pairs, and which cue words carry them. No bag of words of the article: topic
words never reach the classifier, so they cannot flag an article. Features about
the *head* of an article (its first :data:`HEAD_SENTENCES` sentences: headline and
lede, with room for a breadcrumb line) say where a story states its claim.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from models.evidence.evidence import ArticleEvidence
from models.evidence.lexicon import CATEGORIES

HEAD_SENTENCES = 4
KINDS = ("claim", "denial", "report", "statement")
PARTY_KINDS = ("person", "organisation", "media", "anonymous")

BASE_FEATURES: tuple[str, ...] = (
    *(f"cue_{category}" for category in CATEGORIES),
    *(f"head_cue_{category}" for category in CATEGORIES),
    "negated_cues",
    "hedge_max",
    "hedge_mean",
    "hedged_share",
    "hedged_sentences",
    "head_hedge_max",
    *(f"attribution_{kind}" for kind in KINDS),
    *(f"head_attribution_{kind}" for kind in KINDS if kind != "statement"),
    "contested_attribution_share",
    *(f"source_{kind}" for kind in PARTY_KINDS),
    "report_by_media",
    "contested_pairs",
    "pair_claim_denied_by_other_party",
)


def _log(count: float) -> float:
    return math.log1p(count)


def base_row(evidence: ArticleEvidence) -> list[float]:
    """The values of :data:`BASE_FEATURES` for one article."""
    counts = evidence.signals.counts
    head_categories = {
        cue.category
        for cue in evidence.signals.cues
        if cue.sentence < HEAD_SENTENCES and not cue.negated
    }
    hedge = evidence.hedge
    hedged = hedge >= evidence.hedge_threshold
    head = hedge[:HEAD_SENTENCES]
    kinds = Counter(a.kind for a in evidence.attributions)
    head_kinds = Counter(a.kind for a in evidence.attributions if a.sentence < HEAD_SENTENCES)
    contested = [
        (a, p) for a, p in zip(evidence.attributions, evidence.parties, strict=True)
        if a.kind != "statement"
    ]
    sources = Counter(p.kind for _a, p in contested if p is not None)
    by_media = sum(
        1 for a, p in contested if a.kind == "report" and p is not None and p.kind == "media"
    )
    both = any(
        pair.claimant and pair.denier and pair.claimant != pair.denier for pair in evidence.pairs
    )
    return [
        *(_log(counts[category]) for category in CATEGORIES),
        *(1.0 if category in head_categories else 0.0 for category in CATEGORIES),
        _log(sum(evidence.signals.negated_counts.values())),
        float(hedge.max()) if len(hedge) else 0.0,
        float(hedge.mean()) if len(hedge) else 0.0,
        float(hedged.mean()) if len(hedge) else 0.0,
        _log(int(hedged.sum())),
        float(head.max()) if len(head) else 0.0,
        *(_log(kinds[kind]) for kind in KINDS),
        *(_log(head_kinds[kind]) for kind in KINDS if kind != "statement"),
        len(contested) / max(len(evidence.attributions), 1),
        *(_log(sources[kind]) for kind in PARTY_KINDS),
        _log(by_media),
        _log(len(evidence.pairs)),
        1.0 if both else 0.0,
    ]


def cue_words(evidence: ArticleEvidence) -> set[str]:
    """The cue words of an article: lexicon cues and attribution cues, lower-cased."""
    words = {cue.text.lower() for cue in evidence.signals.cues if not cue.negated}
    words.update(
        " ".join(a.cue.text.lower().split()) for a in evidence.attributions if a.cue is not None
    )
    return words


class EvidenceFeatures(TransformerMixin, BaseEstimator):
    """Turn :class:`ArticleEvidence` into the named features of the article model v2.

    ``fit`` learns the vocabulary of cue words seen in at least ``min_cue_articles``
    training articles (each becomes a presence feature ``cue_word=<text>``);
    everything else is fixed. Deterministic.
    """

    def __init__(self, min_cue_articles: int = 10, max_cue_words: int = 200) -> None:
        self.min_cue_articles = min_cue_articles
        self.max_cue_words = max_cue_words

    def fit(self, X: Sequence[ArticleEvidence], y: Any = None) -> EvidenceFeatures:
        documents = Counter(word for evidence in X for word in cue_words(evidence))
        frequent = [w for w, n in documents.items() if n >= self.min_cue_articles]
        frequent.sort(key=lambda word: (-documents[word], word))
        self.cue_vocabulary_ = sorted(frequent[: self.max_cue_words])
        self.n_features_out_ = len(BASE_FEATURES) + len(self.cue_vocabulary_)
        return self

    def transform(self, X: Sequence[ArticleEvidence]) -> np.ndarray:
        check_is_fitted(self, "cue_vocabulary_")
        column = {word: i for i, word in enumerate(self.cue_vocabulary_)}
        rows = np.zeros((len(X), self.n_features_out_), dtype=np.float64)
        base = len(BASE_FEATURES)
        for i, evidence in enumerate(X):
            rows[i, :base] = base_row(evidence)
            for word in cue_words(evidence):
                j = column.get(word)
                if j is not None:
                    rows[i, base + j] = 1.0
        return rows

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "cue_vocabulary_")
        names = [*BASE_FEATURES, *(f"cue_word={word}" for word in self.cue_vocabulary_)]
        return np.asarray(names, dtype=object)

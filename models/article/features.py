"""Signal features as a scikit-learn transformer.

Documents are either raw texts or :class:`~models.evidence.signals.ArticleSignals` already
extracted from them; the second form lets :func:`models.article.assess.assess_batch`
extract the cues once and use them both for the score and for the explanation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from models.evidence.lexicon import V1_CATEGORIES as CATEGORIES
from models.evidence.signals import ArticleSignals, extract_signals

Document = str | ArticleSignals

_FEATURE_NAMES: tuple[str, ...] = (
    *(f"log_count_{category}" for category in CATEGORIES),
    *(f"per_sentence_{category}" for category in CATEGORIES),
    "log_count_negated",
    "log_count_pairs",
    "pair_with_both_parties",
    "categories_present",
    "log_sentences",
)


def document_text(doc: Document) -> str:
    """The lower-cased text of a document (the n-gram vectorizer's preprocessor)."""
    text = doc.text if isinstance(doc, ArticleSignals) else doc
    return text.lower()


LEDE_CHARS = 400


def document_lede(doc: Document) -> str:
    """The lower-cased first :data:`LEDE_CHARS` characters: where a story states its claim."""
    return document_text(doc)[:LEDE_CHARS]


def as_signals(doc: Document) -> ArticleSignals:
    """The signals of a document, extracting them only if the caller has not already."""
    return doc if isinstance(doc, ArticleSignals) else extract_signals(doc, headline=False)


def signal_row(signals: ArticleSignals) -> list[float]:
    """The feature values of one article, in the order of :data:`_FEATURE_NAMES`."""
    counts = [signals.counts[category] for category in CATEGORIES]
    n_sentences = max(signals.n_sentences, 1)
    both = any(pair.claimant and pair.denier for pair in signals.pairs)
    return [
        *(math.log1p(count) for count in counts),
        *(min(count / n_sentences, 1.0) for count in counts),
        math.log1p(sum(signals.negated_counts.values())),
        math.log1p(len(signals.pairs)),
        1.0 if both else 0.0,
        sum(1 for count in counts if count) / len(CATEGORIES),
        math.log1p(n_sentences),
    ]


def _documents(X: Any) -> list[Document]:
    if isinstance(X, str | bytes | ArticleSignals):
        raise ValueError("expected an iterable of documents, got a single document")
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == 1:
        X = X[:, 0]
    docs = list(X) if isinstance(X, Iterable) else None
    if docs is None or not all(isinstance(doc, str | ArticleSignals) for doc in docs):
        raise ValueError("SignalFeatures expects texts (str) or ArticleSignals")
    return docs


class SignalFeatures(TransformerMixin, BaseEstimator):
    """Turn articles into contested-claim cue features (counts, densities, pairs).

    Stateless apart from the shape learned in ``fit``; deterministic.
    """

    def fit(self, X: Sequence[Document], y: Any = None) -> SignalFeatures:
        _documents(X)
        self.n_features_out_ = len(_FEATURE_NAMES)
        return self

    def transform(self, X: Sequence[Document]) -> np.ndarray:
        check_is_fitted(self, "n_features_out_")
        rows = [signal_row(as_signals(doc)) for doc in _documents(X)]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(_FEATURE_NAMES))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "n_features_out_")
        return np.asarray(_FEATURE_NAMES, dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags

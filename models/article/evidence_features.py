"""Article features built only from the evidence, as a scikit-learn transformer.

The article model v2 scores these and nothing else: cue counts, hedge
probabilities, attributions by kind and by who the source is, claim ↔ denial
pairs, and which cue words carry them. No bag of words of the article: topic
words never reach the classifier, so they cannot flag an article. Features about
the *head* of an article (its first :data:`HEAD_SENTENCES` sentences: headline and
lede, after a breadcrumb line if there is one, :func:`head_start`) say where a story
states its claim.

Counts are rates per sentence (per head sentence for the head features): a long
article has more of everything, and the ordinary news the model learns "not
contested" from is short, so raw counts taught it that length is a signal (a long
political story with many "said"s then looked contested).

An optional wording block (:mod:`models.article.wording`) adds TF-IDF word n-grams of
the text with every topic word masked: phrasing, never subject.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from models.article.wording import (
    MAX_WORDING_CHARS,
    TAGGER_TOKENS,
    WORD_TOKENS,
    MaskedWording,
    masked,
)
from models.evidence.evidence import ArticleEvidence
from models.evidence.headline import is_navigation_line
from models.evidence.lexicon import CATEGORIES, V1_CATEGORIES

HEAD_SENTENCES = 4
_FAST_WORDING = "_fast_wording_cache"  # EvidenceFeatures' runtime cache, never persisted
KINDS = ("claim", "denial", "report", "statement")
PARTY_KINDS = ("person", "organisation", "media", "anonymous")

def base_feature_names(categories: tuple[str, ...]) -> tuple[str, ...]:
    """The evidence feature names with the cue columns of ``categories``."""
    return (
        *(f"cue_{category}" for category in categories),
        *(f"head_cue_{category}" for category in categories),
        *_OTHER_FEATURES,
    )


_OTHER_FEATURES: tuple[str, ...] = (
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
BASE_FEATURES = base_feature_names(CATEGORIES)
# What an artifact fitted before this list was stored with it (2.0, 2.1) had: the cue
# categories of then, every feature kept. Such artifacts still load and score.
_BEFORE_STORED_NAMES = base_feature_names(V1_CATEGORIES)


# Features that measured higher in political hard news (PolNeAR) than in contested FNC-1
# bodies, and higher in contested than in the short ordinary news: they measure a long,
# quote-heavy story, not a contested claim, and taught the model to flag political
# reporting (README: "What changed in 2.2.0, and why"). ``drop_neutral`` leaves them out.
NEUTRAL_FEATURES: tuple[str, ...] = (
    "attribution_statement",
    "hedge_max",
    "source_person",
    "hedged_sentences",
)


def head_start(evidence: ArticleEvidence) -> int:
    """The sentence the head of an article starts at: 1 when its first sentence is a
    navigation line (breadcrumb) rather than the headline, else 0. Scraped articles
    often start with one; counted as the first of the head sentences, it pushed the
    lede's last sentence out of the head and moved the seed's score by 0.05."""
    if evidence.n_sentences < 2:
        return 0
    first = evidence.text[evidence.starts[0] : evidence.starts[1]]
    return 1 if is_navigation_line(first) else 0


def base_row(evidence: ArticleEvidence) -> list[float]:
    """The values of :data:`BASE_FEATURES` for one article."""
    sentences = max(evidence.n_sentences, 1)
    first = head_start(evidence)
    head_end = first + HEAD_SENTENCES
    head_sentences = max(min(sentences - first, HEAD_SENTENCES), 1)

    def rate(count: float) -> float:
        return count / sentences

    def head_rate(count: float) -> float:
        return count / head_sentences

    counts = evidence.signals.counts
    head_categories = {
        cue.category
        for cue in evidence.signals.cues
        if first <= cue.sentence < head_end and not cue.negated
    }
    hedge = evidence.hedge
    hedged = hedge >= evidence.hedge_threshold
    head = hedge[first:head_end]
    kinds = Counter(a.kind for a in evidence.attributions)
    head_kinds = Counter(
        a.kind for a in evidence.attributions if first <= a.sentence < head_end
    )
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
        *(rate(counts[category]) for category in CATEGORIES),
        *(1.0 if category in head_categories else 0.0 for category in CATEGORIES),
        rate(sum(evidence.signals.negated_counts.values())),
        float(hedge.max()) if len(hedge) else 0.0,
        float(hedge.mean()) if len(hedge) else 0.0,
        float(hedged.mean()) if len(hedge) else 0.0,
        rate(int(hedged.sum())),
        float(head.max()) if len(head) else 0.0,
        *(rate(kinds[kind]) for kind in KINDS),
        *(head_rate(head_kinds[kind]) for kind in KINDS if kind != "statement"),
        len(contested) / max(len(evidence.attributions), 1),
        *(rate(sources[kind]) for kind in PARTY_KINDS),
        rate(by_media),
        rate(len(evidence.pairs)),
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
    everything else is fixed. :meth:`transform` gives those (the model scales them);
    with ``wording_keep`` (the words :func:`~models.article.wording.masked` keeps),
    :meth:`wording_rows` gives the wording block, TF-IDF word 1- to ``wording_ngrams``-grams
    of the first ``wording_chars`` characters of the masked text seen in at least
    ``min_wording_articles`` articles (at most ``max_wording_terms``), already on a common
    scale. ``drop_neutral`` leaves :data:`NEUTRAL_FEATURES` out. Deterministic.
    """

    def __init__(
        self,
        min_cue_articles: int = 10,
        max_cue_words: int = 200,
        wording_keep: tuple[str, ...] = (),
        min_wording_articles: int = 5,
        max_wording_terms: int = 5000,
        wording_ngrams: int = 2,
        wording_chars: int = MAX_WORDING_CHARS,
        drop_neutral: bool = False,
        wording_tokens: str = TAGGER_TOKENS,
    ) -> None:
        self.min_cue_articles = min_cue_articles
        self.max_cue_words = max_cue_words
        self.wording_keep = wording_keep
        self.min_wording_articles = min_wording_articles
        self.max_wording_terms = max_wording_terms
        self.wording_ngrams = wording_ngrams
        self.wording_chars = wording_chars
        self.drop_neutral = drop_neutral
        self.wording_tokens = wording_tokens

    def fit(self, X: Sequence[ArticleEvidence], y: Any = None) -> EvidenceFeatures:
        documents = Counter(word for evidence in X for word in cue_words(evidence))
        frequent = [w for w, n in documents.items() if n >= self.min_cue_articles]
        frequent.sort(key=lambda word: (-documents[word], word))
        self.cue_vocabulary_ = sorted(frequent[: self.max_cue_words])
        dropped = NEUTRAL_FEATURES if self.drop_neutral else ()
        self.base_features_ = [name for name in BASE_FEATURES if name not in dropped]
        self.n_features_out_ = len(self.base_features_) + len(self.cue_vocabulary_)
        self.wording_: TfidfVectorizer | None = None
        if self.wording_keep:
            self.wording_ = TfidfVectorizer(
                token_pattern=r"\S+",  # noqa: S106 (a regex, not a password)
                lowercase=False,
                ngram_range=(1, self.wording_ngrams),
                min_df=self.min_wording_articles,
                max_features=self.max_wording_terms,
                sublinear_tf=True,
            ).fit(self._masked(X))
        return self

    def _masked(self, X: Sequence[ArticleEvidence]) -> list[str]:
        keep = frozenset(self.wording_keep)
        kind, limit = self._wording_tokens(), self._wording_chars()
        return [masked(evidence.text, keep, limit, kind) for evidence in X]

    def _wording_tokens(self) -> str:
        return str(getattr(self, "wording_tokens", WORD_TOKENS))  # older artifacts: words

    def _wording_chars(self) -> int:
        return int(getattr(self, "wording_chars", MAX_WORDING_CHARS))  # older artifacts

    def _base_columns(self) -> list[int]:
        names = getattr(self, "base_features_", None) or _BEFORE_STORED_NAMES
        return [BASE_FEATURES.index(name) for name in names]

    def transform(self, X: Sequence[ArticleEvidence]) -> np.ndarray:
        check_is_fitted(self, "cue_vocabulary_")
        column = {word: i for i, word in enumerate(self.cue_vocabulary_)}
        rows = np.zeros((len(X), self.n_features_out_), dtype=np.float64)
        columns = self._base_columns()
        base = len(columns)
        for i, evidence in enumerate(X):
            rows[i, :base] = np.asarray(base_row(evidence))[columns]
            for word in cue_words(evidence):
                j = column.get(word)
                if j is not None:
                    rows[i, base + j] = 1.0
        return rows

    def wording_rows(self, X: Sequence[ArticleEvidence]) -> np.ndarray:
        """The wording block (articles by terms; zero columns without one)."""
        check_is_fitted(self, "cue_vocabulary_")
        wording = getattr(self, "wording_", None)
        if wording is None:
            return np.zeros((len(X), 0), dtype=np.float64)
        fast = self._fast_wording(wording)
        if fast is not None:
            return fast.rows([e.text for e in X], [e.tokens for e in X])
        return np.asarray(wording.transform(self._masked(X)).toarray(), dtype=np.float64)

    def _fast_wording(self, wording: TfidfVectorizer) -> MaskedWording | None:
        """The fast equivalent of ``wording.transform(self._masked(X))``, made on first use
        and again whenever the fitted vectorizer or the kept words change. A runtime cache,
        never persisted (see :meth:`__getstate__`)."""
        fast: MaskedWording | None = self.__dict__.get(_FAST_WORDING)
        keep = frozenset(self.wording_keep)
        limit, kind = self._wording_chars(), self._wording_tokens()
        if fast is None or fast.vectorizer is not wording or fast.keep != keep or (
            fast.limit != limit or fast.tokens != kind
        ):
            if not MaskedWording.supports(wording):
                return None
            fast = MaskedWording(keep, wording, limit, kind)
            self.__dict__[_FAST_WORDING] = fast
        return fast

    def __getstate__(self) -> dict[str, Any]:
        """Persisted (and copied) state: the fitted attributes without the runtime cache."""
        state = super().__getstate__()
        return {key: value for key, value in state.items() if key != _FAST_WORDING}

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of :meth:`transform`'s columns, then of :meth:`wording_rows`'s."""
        check_is_fitted(self, "cue_vocabulary_")
        base = [BASE_FEATURES[j] for j in self._base_columns()]
        names = [*base, *(f"cue_word={word}" for word in self.cue_vocabulary_)]
        wording = getattr(self, "wording_", None)
        if wording is not None:
            names.extend(f"wording={term}" for term in wording.get_feature_names_out())
        return np.asarray(names, dtype=object)

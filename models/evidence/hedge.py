"""Sentence-level hedge (uncertainty / weasel) model: P(hedged) for every sentence.

Trained by :mod:`models.training.hedge` on the CoNLL-2010 task 1 Wikipedia sentences
(``../shared/data/wiki-weasel/``): TF-IDF of word 1-2-grams into a logistic regression
(L1-penalised since 2.6.0: a few hundred n-grams carry a weight; since 2.7.0 also one
flag per group of weasel words, :mod:`models.evidence.weasel`), Platt-scaled on
out-of-fold scores, with the F1-maximising threshold from cross-validation (the model
card has the figures). :func:`prepare` brings a raw
sentence to the form the vectorizer saw in training; each sentence is cut to
:data:`MAX_CHARS` characters, so the cost is bounded on any input.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from models.evidence.spans import sentence_texts
from models.evidence.tfidf import Entries, NgramTfidf, token_lengths
from models.evidence.weasel import WeaselFlags, with_flags

MAX_CHARS = 1000
"""Characters of a sentence that are analysed; the rest is ignored, so cost is bounded."""

TOKEN_PATTERN = r"\w+"  # noqa: S105 (a regex, not a password)
"""Word tokens, single characters included ("a", "I"); linear-time, no backtracking."""



_ASCII_REPLACEMENTS: tuple[tuple[str, str], ...] = tuple(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": " - ",
        "\u00a0": " ",
    }.items()
)
"""Typographic characters and their ASCII forms (``str.replace`` per character present
is much faster than ``str.translate`` with a dict)."""



def prepare(text: str) -> str:
    """Bring a sentence to the form the vectorizer sees, at training and at inference.

    Promises: at most :data:`MAX_CHARS` characters (the first ones), typographic quotes,
    apostrophes and dashes mapped to ASCII. Cost is O(MAX_CHARS) whatever the input
    length, so a 200 KB text without sentence breaks is as cheap as one long sentence.
    """
    text = text[:MAX_CHARS]
    if text.isascii():
        return text
    for old, new in _ASCII_REPLACEMENTS:
        if old in text:
            text = text.replace(old, new)
    return text[:MAX_CHARS]



def _sigmoid(z: NDArray[np.floating]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-np.clip(np.asarray(z, dtype=np.float64),
                                                            -50.0, 50.0)))
    return out



TRUSTED_TYPES: tuple[str, ...] = (
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
)
"""Types a saved :class:`HedgeModel` may need ``skops`` to trust (the exact set for one
artifact is what ``skops.io.get_untrusted_types`` reports; it is a subset of these for
the vocabulary-based configurations)."""



class _WordTfidfFastPath:
    """A fitted word-n-gram ``TfidfVectorizer.transform``, computed by
    :class:`~models.evidence.tfidf.NgramTfidf` from the lower-cased ``token_pattern``
    tokens of each sentence (tokens are looked up once, with one ``map(dict.get, ...)``
    over the batch). It mirrors exactly the options :func:`build_hedge_pipeline` uses
    (lowercase, a ``token_pattern`` whose tokens contain no space, no stop words or
    accent stripping, ``norm="l2"``, ``use_idf``, n <= 3); :meth:`supports` refuses
    anything else, and a check compares it with the vectorizer's own output.
    """

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        self.token_re = re.compile(vectorizer.token_pattern)
        self.dtype = vectorizer.dtype
        self.ngrams = NgramTfidf(vectorizer)

    @staticmethod
    def supports(vectorizer: object) -> bool:
        """True if ``vectorizer`` is a fitted word ``TfidfVectorizer`` this class mirrors."""
        if not isinstance(vectorizer, TfidfVectorizer) or type(vectorizer) is not TfidfVectorizer:
            return False
        return bool(
            vectorizer.analyzer == "word"
            and vectorizer.lowercase
            and vectorizer.preprocessor is None
            and vectorizer.tokenizer is None
            and vectorizer.stop_words is None
            and vectorizer.strip_accents is None
            and hasattr(vectorizer, "vocabulary_")
            and NgramTfidf.supports(vectorizer)
        )

    def entries(self, docs: Sequence[str]) -> Entries:
        """The non-zero tf-idf entries of ``docs`` as ``(rows, cols, values)``, sorted by
        row then column: exactly the entries of the vectorizer's ``transform``."""
        findall = self.token_re.findall
        return self.entries_of([findall(text.lower()) for text in docs])

    def entries_of(self, found: list[list[str]]) -> Entries:
        """:meth:`entries` of documents given as their tokens."""
        lengths = token_lengths(found)
        tid = self.ngrams.ids(itertools.chain.from_iterable(found), int(lengths.sum()))
        return self.ngrams.entries(tid, lengths)

    def sentence_tokens(self, text: str, starts: list[int], limit: int) -> list[list[str]]:
        """The tokens of ``prepare(s).lower()`` for each of the first ``limit`` sentences
        ``s`` of ``text`` (as :func:`~models.evidence.spans.sentence_texts` cuts them),
        matched in place in the lower-cased text where that gives the same tokens: for
        word-character tokens (``\\w+``), in a text whose lower-casing keeps every
        offset, in a sentence short enough that :func:`prepare` cuts nothing (its widest
        replacement triples a character; none of the characters it replaces or writes is
        a word character). Other sentences are cut and prepared one by one."""
        findall = self.token_re.findall
        lowered = text.lower()
        in_place = self.token_re.pattern == TOKEN_PATTERN and len(lowered) == len(text)
        ends = starts[1 : limit + 1] if len(starts) > limit else [*starts[1:], len(text)]
        return [
            findall(lowered, start, end) if in_place and end - start <= MAX_CHARS // 3
            else findall(prepare(text[start:end].rstrip()).lower())
            for start, end in zip(starts[:limit], ends, strict=True)
        ]

    def transform(self, docs: Sequence[str]) -> sparse.csr_matrix:
        """The tf-idf matrix of ``docs``, as the vectorizer's ``transform`` would give."""
        r, c, v = self.entries(docs)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=len(docs)))])
        return sparse.csr_matrix((v.astype(self.dtype), c, indptr),
                                 shape=(len(docs), len(self.ngrams.idf)))

    def decision_of(self, found: list[list[str]], coef: NDArray[np.float64],
                    intercept: float) -> NDArray[np.float64]:
        """``transform(docs) @ coef + intercept`` of documents given as their tokens,
        without building a sparse matrix (a few NumPy calls per batch)."""
        r, c, v = self.entries_of(found)
        z = np.bincount(r, weights=v * coef[c], minlength=len(found))
        return np.asarray(z, dtype=np.float64) + intercept


@dataclass
class HedgeModel:
    """A fitted hedge pipeline, its Platt scaling and its decision threshold.

    ``predict_proba`` returns the calibrated probability that each sentence is hedged /
    uncertain; ``predict`` applies ``threshold`` (the out-of-fold F1-maximising cut).
    ``weasel`` (since 2.7.0): the weasel-word group flags whose weights are the last
    columns of the pipeline's classifier, after the vectorizer's; so the pipeline is a
    container of its two fitted steps, and scores through this class only.
    """

    pipeline: Pipeline
    threshold: float
    platt: tuple[float, float] = (1.0, 0.0)
    params: dict[str, Any] = field(default_factory=dict)
    weasel: WeaselFlags | None = None
    _coef: NDArray[np.float64] = field(init=False, repr=False)
    _weasel_coef: NDArray[np.float64] = field(init=False, repr=False)
    _weasel_table: NDArray[np.float64] = field(init=False, repr=False)
    _intercept: float = field(init=False, repr=False)

    _fast: _WordTfidfFastPath | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        clf = self.pipeline.named_steps["clf"]
        a, b = self.platt
        # Fold Platt scaling into the linear model: p = sigmoid(a * (w.x + c) + b).
        coef = a * np.asarray(clf.coef_, dtype=np.float64).ravel()
        groups = 0 if self.weasel is None else len(self.weasel.names)
        self._coef, self._weasel_coef = coef[: len(coef) - groups], coef[len(coef) - groups:]
        if self.weasel is not None:  # the score every combination of groups adds
            self._weasel_table = self.weasel.weight_of_masks(self._weasel_coef)
        self._intercept = float(a * clf.intercept_[0] + b)
        vec = self.pipeline.named_steps["features"]
        self._fast = (_WordTfidfFastPath(vec) if _WordTfidfFastPath.supports(vec) else None)

    def features(self, sentences: Sequence[str]) -> sparse.csr_matrix:
        """The sparse feature matrix of ``sentences`` (each :func:`prepare`-d first): the
        vectorizer's columns, then the weasel flags if the model has them.

        Equal to the pipeline's own ``transform`` then the flags' (a unit check compares
        them); computed by :class:`_WordTfidfFastPath` when the configuration allows it.
        """
        prepared = [prepare(s) for s in sentences]
        if self._fast is not None:
            words = self._fast.transform(prepared)
        else:
            words = self.pipeline.named_steps["features"].transform(prepared)
        return with_flags(words, self.weasel, prepared)

    def _decision_of_tokens(self, found: list[list[str]]) -> NDArray[np.float64]:
        """The calibrated linear score of sentences given as their tokens (fast path)."""
        assert self._fast is not None
        z = self._fast.decision_of(found, self._coef, self._intercept)
        if self.weasel is not None:
            z += self._weasel_table[self.weasel.masks(found)]
        return z

    def predict_proba(self, sentences: Sequence[str]) -> NDArray[np.float64]:
        """Calibrated probability of "hedged" for each raw sentence, shape ``(n,)``.

        Bounded: each sentence is cut to :data:`MAX_CHARS` characters before analysis.
        Fast: one sparse mat-vec on the vectorizer output, bypassing the classifier's
        per-call input validation; equal to the Platt-scaled ``decision_function`` of the
        classifier on :meth:`features`.
        """
        if not sentences:
            return np.zeros(0, dtype=np.float64)
        if self._fast is not None:
            findall = self._fast.token_re.findall
            z = self._decision_of_tokens([findall(prepare(s).lower()) for s in sentences])
        else:
            z = self.features(sentences) @ np.concatenate([self._coef, self._weasel_coef])
            z += self._intercept
        return _sigmoid(z)

    def predict_proba_of(
        self, texts: Sequence[str], starts_of: Sequence[list[int]], limit: int
    ) -> list[NDArray[np.float64]]:
        """:meth:`predict_proba` of the first ``limit`` sentences of each text (``starts_of``:
        their sentence starts), one array per text; on the fast path without cutting the
        sentences out (:meth:`_WordTfidfFastPath.sentence_tokens`)."""
        if self._fast is None:
            sentences = [sentence_texts(t, s, limit) for t, s in zip(texts, starts_of, strict=True)]
            flat = self.predict_proba(list(itertools.chain.from_iterable(sentences)))
            counts = [len(found) for found in sentences]
        else:
            found = [self._fast.sentence_tokens(t, s, limit)
                     for t, s in zip(texts, starts_of, strict=True)]
            counts = [len(tokens) for tokens in found]
            flat = _sigmoid(self._decision_of_tokens(list(itertools.chain.from_iterable(found))))
        bounds = np.cumsum([0, *counts])
        return [flat[bounds[i] : bounds[i + 1]] for i in range(len(counts))]

    def predict(self, sentences: Sequence[str]) -> NDArray[np.int_]:
        """1 where :meth:`predict_proba` reaches ``threshold``, else 0."""
        return (self.predict_proba(sentences) >= self.threshold).astype(np.int_)

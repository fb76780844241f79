"""A fitted word n-gram ``TfidfVectorizer``'s transform, vectorised over token ids.

scikit-learn builds every n-gram string of every document and looks it up in a Python
loop. :class:`NgramTfidf` needs only one integer id per token: bigrams and trigrams
become integer keys of token ids, matched with one ``np.searchsorted`` against the
sorted keys of the vocabulary's n-grams, then counted, weighted and normalised with a
few NumPy calls for the whole batch. The arithmetic is the vectorizer's own, in the
same order (sublinear tf, idf, then the l2 norm summed over a row's columns in
ascending order), so the values are the same numbers. Used by the hedge model
(:mod:`models.evidence.hedge`) and the article model's wording block
(:mod:`models.article.wording`), which differ only in how they make tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import repeat

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer

KEY_BASE = 1 << 20
"""Token ids are < 2**20, so an n-gram key (n <= 3) fits in an int64."""

Entries = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]


class NgramTfidf:
    """The tf-idf entries of documents given as token-id sequences (see the module doc).

    ``token_id`` numbers every token that is part of some vocabulary n-gram; any other
    token is -1 and breaks every n-gram it would be part of, as an unknown token does in
    scikit-learn. Mirrors ``norm="l2"``, ``use_idf=True``, n <= 3; :meth:`supports` says
    whether a fitted vectorizer is within that.
    """

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        self.ngram_range: tuple[int, int] = tuple(vectorizer.ngram_range)
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self.sublinear_tf = bool(vectorizer.sublinear_tf)
        self.token_id: dict[str, int] = {}
        by_order: dict[int, tuple[list[int], list[int]]] = {1: ([], []), 2: ([], []),
                                                            3: ([], [])}
        for gram, column in vectorizer.vocabulary_.items():
            ids = [self.token_id.setdefault(tok, len(self.token_id)) for tok in gram.split(" ")]
            key = 0
            for tid in ids:
                key = key * KEY_BASE + tid
            by_order[len(ids)][0].append(key)
            by_order[len(ids)][1].append(column)
        self.keys: dict[int, tuple[NDArray[np.int64], NDArray[np.int64]]] = {}
        for order, (keys, columns) in by_order.items():
            k, c = np.asarray(keys, dtype=np.int64), np.asarray(columns, dtype=np.int64)
            o = np.argsort(k)
            self.keys[order] = (k[o], c[o])
        # a unigram's key is its token id: its column is one array read, not a search
        self.unigram_column = np.full(len(self.token_id), -1, dtype=np.int64)
        self.unigram_column[self.keys[1][0]] = self.keys[1][1]

    @staticmethod
    def supports(vectorizer: TfidfVectorizer) -> bool:
        """True if the fitted vectorizer's weighting is the one this class reproduces."""
        return bool(
            vectorizer.norm == "l2"
            and vectorizer.use_idf
            and not vectorizer.binary
            and vectorizer.ngram_range[1] <= 3
            and hasattr(vectorizer, "vocabulary_")
            and len(vectorizer.vocabulary_) < KEY_BASE
        )

    def ids(self, tokens: Iterable[str], count: int) -> NDArray[np.int64]:
        """The id of each of ``count`` tokens, -1 for a token in no vocabulary n-gram."""
        get = self.token_id.get
        return np.fromiter(map(get, tokens, repeat(-1)), dtype=np.int64, count=count)

    def entries(self, tid: NDArray[np.int64], lengths: NDArray[np.int64]) -> Entries:
        """The non-zero tf-idf entries as ``(rows, cols, values)``, sorted by row then
        column, of ``len(lengths)`` documents whose token ids are ``tid``, concatenated
        (document ``i`` has ``lengths[i]`` tokens): the entries of the vectorizer's
        ``transform`` of the same documents."""
        n_docs = len(lengths)
        doc = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        rows: list[NDArray[np.int64]] = []
        cols: list[NDArray[np.int64]] = []
        lo, hi = self.ngram_range
        for n in range(lo, hi + 1):
            m = len(tid) - n + 1
            known, columns = self.keys[n]
            if m <= 0 or not len(known):
                continue
            if n == 1:
                in_vocabulary = tid >= 0
                column = self.unigram_column[tid[in_vocabulary]]
                hit = column >= 0
                rows.append(doc[in_vocabulary][hit])
                cols.append(column[hit])
                continue
            valid = (doc[:m] == doc[n - 1:]) & (tid[:m] >= 0)
            key = tid[:m].copy()
            for j in range(1, n):
                valid &= tid[j: j + m] >= 0
                key = key * KEY_BASE + tid[j: j + m]
            pos = np.minimum(np.searchsorted(known, key), len(known) - 1)
            hit = valid & (known[pos] == key)
            rows.append(doc[:m][hit])
            cols.append(columns[pos[hit]])
        n_cols = len(self.idf)
        flat = np.concatenate(rows) * n_cols + np.concatenate(cols) if rows else \
            np.zeros(0, dtype=np.int64)
        cells, counts = np.unique(flat, return_counts=True)
        r, c = cells // n_cols, cells % n_cols
        tf = counts.astype(np.float64)
        if self.sublinear_tf:
            tf = np.log(tf) + 1.0
        values = tf * self.idf[c]
        norms = np.sqrt(np.bincount(r, weights=values * values, minlength=n_docs))
        norms[norms == 0.0] = 1.0
        return r, c, values / norms[r]

    def dense(self, tid: NDArray[np.int64], lengths: NDArray[np.int64]) -> NDArray[np.float64]:
        """:meth:`entries` as a dense (documents, vocabulary) array."""
        r, c, v = self.entries(tid, lengths)
        out = np.zeros((len(lengths), len(self.idf)), dtype=np.float64)
        out[r, c] = v
        return out


def token_lengths(documents: Sequence[Sequence[str]]) -> NDArray[np.int64]:
    """How many tokens each tokenised document has."""
    return np.fromiter(map(len, documents), dtype=np.int64, count=len(documents))

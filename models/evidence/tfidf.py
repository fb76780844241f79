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

MAX_TABLE_CELLS = 1 << 22
"""Largest lookup table (int32 cells, 16 MiB) :class:`NgramTfidf` builds instead of a
binary search: the wording block's few hundred masked tokens fit, the hedge model's
tens of thousands of words do not."""

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
        self._tables = self._lookup_tables()

    def _lookup_tables(self) -> dict[int, tuple[NDArray[np.int32], NDArray[np.int32]]] | None:
        """For a small vocabulary, the column of every bigram as one array read: a
        (tokens x tokens) table; and of every trigram: the index of its first two tokens
        among the trigrams' prefixes (a tokens x tokens table), then a (prefixes x tokens)
        table. None when a table would pass :data:`MAX_TABLE_CELLS`."""
        n_tokens = len(self.token_id)
        bigrams, trigrams = self.keys[2], self.keys[3]
        prefixes = np.unique(trigrams[0] // KEY_BASE)
        if max(n_tokens * n_tokens, len(prefixes) * n_tokens) > MAX_TABLE_CELLS:
            return None

        def flat(keys: NDArray[np.int64]) -> NDArray[np.int64]:
            return (keys // KEY_BASE) * n_tokens + keys % KEY_BASE

        pair = np.full(n_tokens * n_tokens, -1, dtype=np.int32)
        pair[flat(bigrams[0])] = bigrams[1]
        prefix = np.full(n_tokens * n_tokens, -1, dtype=np.int32)
        prefix[flat(prefixes)] = np.arange(len(prefixes), dtype=np.int32)
        triple = np.full(len(prefixes) * n_tokens, -1, dtype=np.int32)
        first_two = prefix[flat(trigrams[0] // KEY_BASE)].astype(np.int64)
        triple[first_two * n_tokens + trigrams[0] % KEY_BASE] = trigrams[1]
        return {2: (pair, pair), 3: (prefix, triple)}

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
            for j in range(1, n):
                valid &= tid[j: j + m] >= 0
            at = np.flatnonzero(valid)
            if self._tables is not None:
                found = self._table_columns(n, tid, at)
                hit = found >= 0
                rows.append(doc[at[hit]])
                cols.append(found[hit].astype(np.int64))
                continue
            key = tid[at]
            for j in range(1, n):
                key = key * KEY_BASE + tid[at + j]
            pos = np.minimum(np.searchsorted(known, key), len(known) - 1)
            hit = known[pos] == key
            rows.append(doc[at[hit]])
            cols.append(columns[pos[hit]])
        n_cols = len(self.idf)
        flat = np.concatenate(rows) * n_cols + np.concatenate(cols) if rows else \
            np.zeros(0, dtype=np.int64)
        # counting the cells beats sorting the entries when there are not many more cells
        # than entries (the wording block of a batch); the same cells and counts either way
        if n_docs * n_cols <= min(MAX_TABLE_CELLS, 16 * len(flat)):
            every = np.bincount(flat, minlength=n_docs * n_cols)
            cells = np.flatnonzero(every)
            counts = every[cells]
        else:
            cells, counts = np.unique(flat, return_counts=True)
        r, c = cells // n_cols, cells % n_cols
        tf = counts.astype(np.float64)
        if self.sublinear_tf:
            tf = np.log(tf) + 1.0
        values = tf * self.idf[c]
        norms = np.sqrt(np.bincount(r, weights=values * values, minlength=n_docs))
        norms[norms == 0.0] = 1.0
        return r, c, values / norms[r]

    def _table_columns(
        self, n: int, tid: NDArray[np.int64], at: NDArray[np.int64]
    ) -> NDArray[np.int32]:
        """The column of the n-gram starting at each position ``at`` (-1 if none), read
        from the lookup tables (see :meth:`_lookup_tables`)."""
        assert self._tables is not None
        n_tokens = len(self.token_id)
        first, second = self._tables[n]
        if n == 2:
            return first[tid[at] * n_tokens + tid[at + 1]]
        prefix = first[tid[at] * n_tokens + tid[at + 1]].astype(np.int64)
        known = prefix >= 0
        out = np.full(len(at), -1, dtype=np.int32)
        out[known] = second[prefix[known] * n_tokens + tid[at[known] + 2]]
        return out

    def dense(self, tid: NDArray[np.int64], lengths: NDArray[np.int64]) -> NDArray[np.float64]:
        """:meth:`entries` as a dense (documents, vocabulary) array."""
        r, c, v = self.entries(tid, lengths)
        out = np.zeros((len(lengths), len(self.idf)), dtype=np.float64)
        out[r, c] = v
        return out


def token_lengths(documents: Sequence[Sequence[str]]) -> NDArray[np.int64]:
    """How many tokens each tokenised document has."""
    return np.fromiter(map(len, documents), dtype=np.int64, count=len(documents))

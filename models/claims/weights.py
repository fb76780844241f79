"""Online inverse document frequency: rare words identify a claim, common ones do not.

The clusterer sees articles one at a time, so IDF is learned as it goes: each
article's terms are weighted with the document frequencies of the articles before
it, then counted. Counts live in a fixed array of hashed buckets (CRC-32 of the
term, the same in every process, unlike Python's ``hash``), so memory is bounded
whatever the vocabulary; a rare collision only blurs two terms' weights.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from models.claims.represent import Terms, normalised

BUCKETS = 1 << 20  # 4 MiB of counts; collisions stay rare for a news vocabulary


class OnlineIdf:
    """Document frequencies of hashed terms, updated one article at a time."""

    def __init__(self, buckets: int = BUCKETS) -> None:
        self.buckets = buckets
        self._counts = np.zeros(buckets, dtype=np.int64)
        self.documents = 0

    def _bucket(self, term: str) -> int:
        return zlib.crc32(term.encode("utf-8")) % self.buckets

    def weigh(self, terms: Terms) -> Terms:
        """``terms`` times smoothed IDF of the articles seen so far, unit length."""
        total = self.documents + 1
        return normalised(
            {
                term: value * (1.0 + math.log(total / (1.0 + self._counts[self._bucket(term)])))
                for term, value in terms.items()
            }
        )

    def count(self, terms: Terms) -> None:
        """Count one article's terms (once each)."""
        for term in terms:
            self._counts[self._bucket(term)] += 1
        self.documents += 1

"""Online claim clustering: each article joins the best matching recent cluster.

One pass, in arrival order, nothing re-clustered: an article's claim terms
(:func:`models.claims.represent.claim_terms`) are compared by cosine similarity with
the centroid of every live cluster that shares a term with it (an inverted index
finds those), and it joins the most similar one if that reaches ``threshold``, else
founds a new cluster. Memory is bounded: a cluster not joined for ``window_s``
seconds expires, at most ``max_clusters`` live at once (the least recently joined
goes first), and a centroid keeps at most :data:`MAX_CENTROID_TERMS` terms. The same
articles in the same order give the same clusters and the same ids.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field

from models.claims.represent import Terms, top_terms
from models.claims.weights import OnlineIdf

# Chosen by cross-validation on FNC-1 stories (python -m models.claims.evaluate).
DEFAULT_THRESHOLD = 0.1
DEFAULT_WINDOW_S = 7 * 24 * 3600.0
DEFAULT_MAX_CLUSTERS = 50_000
MAX_CENTROID_TERMS = 400  # a centroid's heaviest terms; the rest is noise after a few members
MAX_SOURCES = 1_000  # distinct sources remembered per cluster


@dataclass(slots=True)
class Cluster:
    """A claim cluster: its members' summed term vector and what a reader asks of it."""

    cluster_id: str
    first_seen: float
    last_seen: float
    size: int = 0
    sources: set[str] = field(default_factory=set)
    centroid: Terms = field(default_factory=dict)  # sum of members' unit vectors
    norm: float = 0.0


@dataclass(frozen=True, slots=True)
class Membership:
    """One article's place in a cluster, as published on ``articles.claims``."""

    cluster_id: str
    article_id: str
    source: str | None
    similarity: float
    first_seen: float
    size: int
    sources: int
    new_cluster: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "cluster_id": self.cluster_id,
            "article_id": self.article_id,
            "source": self.source,
            "similarity": round(self.similarity, 4),
            "first_seen": self.first_seen,
            "size": self.size,
            "sources": self.sources,
        }


def cluster_id_for(article_id: str, salt: int = 0) -> str:
    """A stable id from the founding article's id (and a salt if that id is taken)."""
    digest = hashlib.blake2b(f"{article_id}\x00{salt}".encode(), digest_size=8).hexdigest()
    return f"claim-{digest}"


class ClaimClusterer:
    """Incremental clustering of claim term vectors over a sliding time window."""

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        window_s: float = DEFAULT_WINDOW_S,
        max_clusters: int = DEFAULT_MAX_CLUSTERS,
        idf: bool = True,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], not {threshold}")
        if window_s <= 0 or max_clusters < 1:
            raise ValueError("window_s must be > 0 and max_clusters >= 1")
        self.threshold = threshold
        self.window_s = window_s
        self.max_clusters = max_clusters
        self.idf = idf  # off only to measure what it brings (models/claims/evaluate.py)
        # least recently joined first: expiry pops from the front
        self._clusters: OrderedDict[str, Cluster] = OrderedDict()
        self._postings: defaultdict[str, set[str]] = defaultdict(set)
        self._clock = -math.inf
        self._idf = OnlineIdf()

    def __len__(self) -> int:
        return len(self._clusters)

    def get(self, cluster_id: str) -> Cluster | None:
        return self._clusters.get(cluster_id)

    def add(
        self, article_id: str, terms: Terms, now: float, source: str | None = None
    ) -> Membership:
        """Place one article and return its membership.

        Steps: 1. advance the clock (never backwards) and expire old clusters;
        2. weight the terms by the IDF of the articles before this one, then count
        them; 3. find the most similar live cluster; 4. join it if the similarity
        reaches the threshold, else found a new cluster.
        """
        self._clock = max(self._clock, now)
        self.expire(self._clock)
        if self.idf:
            raw = terms
            terms = self._idf.weigh(raw)
            self._idf.count(raw)
        best_id, best = self.best_match(terms)
        if best_id is not None and best >= self.threshold:
            cluster = self._clusters[best_id]
            self._clusters.move_to_end(best_id)
            similarity, new = best, False
        else:
            cluster = self._found(article_id)
            similarity, new = 1.0, True
        self._join(cluster, terms, source)
        return Membership(
            cluster.cluster_id,
            article_id,
            source,
            similarity,
            cluster.first_seen,
            cluster.size,
            len(cluster.sources),
            new,
        )

    def best_match(self, terms: Terms) -> tuple[str | None, float]:
        """The live cluster most similar to ``terms`` (ties: the older id order) and its cosine."""
        dots: defaultdict[str, float] = defaultdict(float)
        for term, weight in terms.items():
            for cluster_id in self._postings.get(term, ()):
                dots[cluster_id] += weight * self._clusters[cluster_id].centroid[term]
        best_id: str | None = None
        best = 0.0
        for cluster_id in sorted(dots):
            cosine = dots[cluster_id] / self._clusters[cluster_id].norm
            if cosine > best:
                best_id, best = cluster_id, cosine
        return best_id, best

    def expire(self, now: float) -> int:
        """Drop the clusters not joined within the window; returns how many."""
        dropped = 0
        while self._clusters:
            oldest = next(iter(self._clusters.values()))
            if oldest.last_seen >= now - self.window_s:
                break
            self._drop(oldest)
            dropped += 1
        return dropped

    def _found(self, article_id: str) -> Cluster:
        """A new, empty cluster; the least recently joined one makes room at the cap."""
        if len(self._clusters) >= self.max_clusters:
            self._drop(next(iter(self._clusters.values())))
        salt = 0
        while cluster_id_for(article_id, salt) in self._clusters:
            salt += 1
        cluster_id = cluster_id_for(article_id, salt)
        cluster = Cluster(cluster_id, first_seen=self._clock, last_seen=self._clock)
        self._clusters[cluster_id] = cluster
        return cluster

    def _join(self, cluster: Cluster, terms: Terms, source: str | None) -> None:
        old_terms = set(cluster.centroid)
        summed = dict(cluster.centroid)
        for term, weight in terms.items():
            summed[term] = summed.get(term, 0.0) + weight
        cluster.centroid = top_terms(summed, MAX_CENTROID_TERMS)
        cluster.norm = math.sqrt(sum(v * v for v in cluster.centroid.values())) or 1.0
        new_terms = set(cluster.centroid)
        for term in old_terms - new_terms:
            self._unpost(term, cluster.cluster_id)
        for term in new_terms - old_terms:
            self._postings[term].add(cluster.cluster_id)
        cluster.size += 1
        cluster.last_seen = self._clock
        if source and len(cluster.sources) < MAX_SOURCES:
            cluster.sources.add(source)

    def _drop(self, cluster: Cluster) -> None:
        for term in cluster.centroid:
            self._unpost(term, cluster.cluster_id)
        del self._clusters[cluster.cluster_id]

    def _unpost(self, term: str, cluster_id: str) -> None:
        holders = self._postings.get(term)
        if holders is not None:
            holders.discard(cluster_id)
            if not holders:
                del self._postings[term]

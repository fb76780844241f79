"""Claim clustering in the review service: each stored flagged article joins a cluster.

Why here and not in a dedicated agent: the review service already consumes
``articles.flagged`` (alone, with its own positions), and its SQLite store is the
source of truth of the queue that clusters are reviewed in. Placing articles in the
same process, right after they are stored, keeps one consumer, one order, and
memberships that can never disagree with the queue; an agent would need its own
state store and a second path into the review queue.

:class:`ClaimAssigner` owns the :class:`~models.claims.cluster.ClaimClusterer`
(the intake thread alone calls it) and writes every placement to the store, whose
outbox then carries it to ``articles.claims``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from models.claims.cluster import DEFAULT_THRESHOLD, ClaimClusterer, Membership
from models.claims.represent import claim_terms
from service.review.claims_store import ClaimStore, Placement
from service.review.records import ReviewRecord

log = logging.getLogger(__name__)

BATCH = 500  # placements written per transaction


class ClaimAssigner:
    """Places stored items in claim clusters, once each, in the order they were stored.

    State across a restart (:meth:`rebuild`): the clusterer is rebuilt by replaying
    the stored memberships of the last window through it, rather than by saving its
    state. The state (centroids, the inverted index, the online IDF's 2²⁰ counts) is
    private to ``models/claims`` and would need a file format and a safe loader of
    its own, while the window's articles are already in SQLite with their text and
    the clock they joined at, and the clusterer is deterministic. The replay costs one
    pass over the window at start (~1 ms an article, ``bench/claims.py``), in the
    intake thread while the web app already serves. What it does not restore is the
    IDF of articles older than the window, so a replayed article may fall elsewhere
    than it first did: the stored membership stays the truth, and the clusters the
    replay forms are mapped (``_stored_id``) to the stored cluster their first
    replayed member belongs to, so a new article that matches joins that cluster.
    """

    def __init__(
        self,
        claims: ClaimStore,
        threshold: float | None = None,
        window_s: float = 7 * 24 * 3600.0,
        terms: Callable[[ReviewRecord], dict[str, float]] | None = None,
    ) -> None:
        self.claims = claims
        self.clusterer = ClaimClusterer(threshold=threshold or DEFAULT_THRESHOLD, window_s=window_s)
        self._terms = terms or record_terms
        # clusterer id -> stored cluster id; only ids that differ are kept
        self._stored_id: dict[str, str] = {}
        self._clock = -math.inf

    def rebuild(self) -> int:
        """Replay the stored window through a fresh clusterer; returns how many articles."""
        replayed = self.claims.replay_window(self.clusterer.window_s)
        for entry in replayed:
            membership = self._add(entry.record, entry.joined_at)
            if membership.new_cluster and membership.cluster_id != entry.clustered_to:
                self._stored_id[membership.cluster_id] = entry.clustered_to
        if replayed:
            log.info("claim clusters rebuilt from %d stored memberships", len(replayed))
        return len(replayed)

    def assign_pending(self) -> int:
        """Place every stored item that has no cluster yet; returns how many were placed."""
        placed = 0
        while batch := self.claims.unclustered(BATCH):
            placements = []
            for pending in batch:
                membership = self._add(pending.record, pending.added_at)
                placements.append(
                    Placement(
                        pending.record.article_id,
                        self._stored_id.get(membership.cluster_id, membership.cluster_id),
                        membership.similarity,
                        self._clock,
                    )
                )
            self.claims.join(placements)
            placed += len(placements)
        self._forget_expired()
        return placed

    def _add(self, record: ReviewRecord, at: float) -> Membership:
        self._clock = max(self._clock, at)  # the clusterer's clock never goes back either
        return self.clusterer.add(
            record.article_id, self._terms(record), now=self._clock, source=record.source or None
        )

    def _forget_expired(self) -> None:
        """Drop mappings of clusters the clusterer has expired (keeps the map bounded)."""
        if len(self._stored_id) > len(self.clusterer):
            self._stored_id = {
                k: v for k, v in self._stored_id.items() if self.clusterer.get(k) is not None
            }


@dataclass(frozen=True)
class ClaimLabel:
    """Where one record of a stream fell: its cluster, its number in it, the first headline."""

    cluster_id: str
    position: int  # 1 = this record founded the cluster
    sources: int
    headline: str


class StreamClaims:
    """Claim clusters of records read one after another, in memory only (``review tail``).

    The same clusterer and claim terms as the review service; ids differ from the
    service's when the two have not seen the same records in the same order.
    """

    def __init__(self, threshold: float | None = None, window_s: float = 7 * 24 * 3600.0) -> None:
        self.clusterer = ClaimClusterer(threshold=threshold or DEFAULT_THRESHOLD, window_s=window_s)
        self._headlines: dict[str, str] = {}

    def place(self, record: ReviewRecord, now: float) -> ClaimLabel:
        membership = self.clusterer.add(
            record.article_id, record_terms(record), now=now, source=record.source or None
        )
        if membership.new_cluster:
            self._headlines[membership.cluster_id] = record.title or record.article_id
        headline = self._headlines.get(membership.cluster_id, "")
        if len(self._headlines) > 2 * len(self.clusterer):  # forget expired clusters
            self._headlines = {
                k: v for k, v in self._headlines.items() if self.clusterer.get(k) is not None
            }
        return ClaimLabel(membership.cluster_id, membership.size, membership.sources, headline)


def record_terms(record: ReviewRecord) -> dict[str, float]:
    """The claim terms of a review record: its text and headline, as offline."""
    return claim_terms(record.text, record.title or None)

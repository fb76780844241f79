"""Reading claim clusters for the queue and the cluster page (tables of :mod:`claims_store`).

A cluster's figures come from its current members in SQLite (the ``cluster_summary``
view): how many articles and distinct sources, first and last seen, and its
strongest open article, whose headline, tier and score stand for the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.review.records import read_review_record
from service.review.store import ItemNotFoundError, Lock, QueueItem, ReviewStore

# A cluster's spread counts its distinct sources per hour of its life so far; a
# cluster younger than this counts as this old, so two sources in a minute are
# not read as 120 an hour.
MIN_SPREAD_SPAN_S = 3600.0


@dataclass(frozen=True)
class ClusterSummary:
    """One row of the cluster queue."""

    cluster_id: str
    headline: str
    representative: str  # the article the headline is taken from (the strongest queued one)
    articles: int
    sources: int
    queued: int
    first_seen: float
    last_seen: float
    tier: str
    score: float
    locks: tuple[Lock, ...] = ()  # the locks reviewers hold on queued members

    @property
    def spread(self) -> float:
        """Distinct sources per hour since the cluster was first seen."""
        return self.sources * 3600.0 / max(self.last_seen - self.first_seen, MIN_SPREAD_SPAN_S)


@dataclass(frozen=True)
class Member:
    """One article of a cluster, with its review state and how it joined."""

    item: QueueItem
    similarity: float
    joined_at: float
    split_from: str | None  # the cluster a reviewer moved it out of, if any


# The queue reads clusters with a queued member (of the filter's source and tier),
# ordered in SQL so that a page reads only the rows it shows.
_QUEUE = """
WITH open_clusters AS (
    SELECT DISTINCT m.cluster_id FROM items i JOIN memberships m USING (article_id)
    WHERE i.status = 'queued' AND (?1 IS NULL OR i.source = ?1)
      AND (?2 IS NULL OR lower(i.tier) = lower(?2))
)
SELECT s.* FROM cluster_summary s JOIN items r ON r.article_id = s.representative
WHERE s.cluster_id IN (SELECT cluster_id FROM open_clusters)
ORDER BY r.tier_rank, s.sources * 3600.0 / max(s.last_seen - s.first_seen, ?3) DESC,
         r.score DESC, s.cluster_id
LIMIT ?4
"""


class ClusterReads:
    """The queries of the cluster queue and page, over ``self.store``."""

    store: ReviewStore

    def clusters(
        self, source: str | None = None, tier: str | None = None, limit: int = 200
    ) -> list[ClusterSummary]:
        """Clusters with a queued member: highest tier first, then fastest spread, then score.

        Tier and score are those of the cluster's strongest *queued* member; a filter
        keeps the clusters that have a queued member of that source and tier.
        """
        with self.store.reading() as db:
            rows = db.execute(_QUEUE, (source, tier, MIN_SPREAD_SPAN_S, limit)).fetchall()
        return [self._summary(row) for row in rows]

    def cluster(self, cluster_id: str) -> tuple[ClusterSummary, list[Member]]:
        """A cluster's summary and members (queued first, strongest first)."""
        with self.store.reading() as db:
            row = db.execute(
                "SELECT * FROM cluster_summary WHERE cluster_id = ?", (cluster_id,)
            ).fetchone()
            if row is None:
                raise ItemNotFoundError(f"no claim cluster with id {cluster_id!r}")
            members = db.execute(
                "SELECT i.record, i.status, i.lock_owner, i.lock_expires, m.similarity,"
                " m.joined_at, s.from_cluster FROM memberships m JOIN items i USING (article_id)"
                " LEFT JOIN splits s ON s.article_id = m.article_id"
                " AND s.to_cluster = m.cluster_id WHERE m.cluster_id = ?"
                " ORDER BY i.status != 'queued', i.tier_rank, i.score DESC, i.article_id",
                (cluster_id,),
            ).fetchall()
        summary = self._summary(row)
        found = [
            Member(_queue_item(r, st, o, e), float(sim), float(at), frm)
            for r, st, o, e, sim, at, frm in members
        ]
        return summary, found

    def cluster_of(self, article_id: str) -> str | None:
        with self.store.reading() as db:
            row = db.execute(
                "SELECT cluster_id FROM memberships WHERE article_id = ?", (article_id,)
            ).fetchone()
        return str(row[0]) if row else None

    def _summary(self, row: tuple[Any, ...]) -> ClusterSummary:
        cluster_id, articles, sources, queued, first, last, representative = row
        [item] = self.store.items([representative])
        with self.store.reading() as db:
            held = db.execute(
                "SELECT i.lock_owner, i.lock_expires FROM memberships m JOIN items i"
                " USING (article_id) WHERE m.cluster_id = ? AND i.status = 'queued'"
                " AND i.lock_owner IS NOT NULL ORDER BY i.lock_expires DESC",
                (cluster_id,),
            ).fetchall()
        return ClusterSummary(
            cluster_id=cluster_id,
            headline=item.record.title or item.record.article_id,
            representative=representative,
            articles=int(articles),
            sources=int(sources),
            queued=int(queued or 0),
            first_seen=float(first),
            last_seen=float(last),
            tier=item.record.tier,
            score=item.record.score,
            locks=tuple(Lock(owner, float(expires)) for owner, expires in held),
        )


def _queue_item(record: str, status: str, owner: str | None, expires: float | None) -> QueueItem:
    lock = Lock(owner, float(expires)) if owner and expires is not None else None
    return QueueItem(read_review_record(record), status, lock)

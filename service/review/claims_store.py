"""Claim clusters in the review store: memberships, splits and the ``articles.claims`` outbox.

The same SQLite file as the queue (:class:`~service.review.store.ReviewStore`), so
SQLite stays the one source of truth: which cluster an article is in *now* (a
reviewer's split moves it), which cluster the clusterer first put it in (what a
restart replays), the corrections reviewers made (training data for the
clustering threshold), and the memberships not yet acknowledged on
``articles.claims``. A cluster's size, sources and first sighting are counted here
from its current members, so a split is reflected at once everywhere.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

from service.review.cluster_queue import ClusterReads
from service.review.records import ReviewRecord, read_review_record
from service.review.store import ItemNotFoundError, ReviewConflictError, ReviewStore, iso_time

SCHEMA = """
CREATE TABLE IF NOT EXISTS memberships (
    article_id TEXT PRIMARY KEY REFERENCES items (article_id),
    cluster_id TEXT NOT NULL,
    clustered_to TEXT NOT NULL,
    similarity REAL NOT NULL,
    joined_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS memberships_cluster ON memberships (cluster_id);
CREATE INDEX IF NOT EXISTS memberships_joined ON memberships (joined_at);
CREATE TABLE IF NOT EXISTS splits (
    article_id TEXT PRIMARY KEY,
    from_cluster TEXT NOT NULL,
    to_cluster TEXT NOT NULL,
    similarity REAL NOT NULL,
    reviewer TEXT NOT NULL,
    split_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS claims_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster_id TEXT NOT NULL,
    value TEXT NOT NULL,
    produced INTEGER NOT NULL DEFAULT 0
);
-- A cluster's figures; its representative is its strongest queued member (else its
-- strongest). Re-created at every start, so it always matches this code.
DROP VIEW IF EXISTS cluster_summary;
CREATE VIEW cluster_summary AS
SELECT m.cluster_id AS cluster_id, count(*) AS articles,
       count(DISTINCT nullif(i.source, '')) AS sources, sum(i.status = 'queued') AS open,
       min(m.joined_at) AS first_seen, max(m.joined_at) AS last_seen,
       (SELECT i2.article_id FROM memberships m2 JOIN items i2 USING (article_id)
        WHERE m2.cluster_id = m.cluster_id
        ORDER BY i2.status != 'queued', i2.tier_rank, i2.score DESC, i2.article_id LIMIT 1)
        AS representative
FROM memberships m JOIN items i USING (article_id) GROUP BY m.cluster_id;
"""


@dataclass(frozen=True)
class Placement:
    """Where the clusterer put one stored article (``joined_at`` = its clock then)."""

    article_id: str
    cluster_id: str
    similarity: float
    joined_at: float


@dataclass(frozen=True)
class Unclustered:
    """A stored item that has no cluster yet, with the time it was stored."""

    record: ReviewRecord
    added_at: float


@dataclass(frozen=True)
class Replayed:
    """A stored membership to replay through the clusterer after a restart."""

    record: ReviewRecord
    clustered_to: str
    joined_at: float


@dataclass(frozen=True)
class Split:
    """A reviewer's correction: ``article_id`` does not carry ``from_cluster``'s claim."""

    article_id: str
    from_cluster: str
    to_cluster: str
    similarity: float
    reviewer: str
    split_at: str


def split_cluster_id(article_id: str, salt: int = 0) -> str:
    """The id of the cluster an article moved out by a reviewer starts (never a clusterer id)."""
    digest = hashlib.blake2b(f"split\x00{article_id}\x00{salt}".encode(), digest_size=8)
    return f"claim-{digest.hexdigest()}"


class ClaimStore(ClusterReads):
    """Cluster tables beside the queue; every write is one transaction of ``store``.

    The reads the queue and the cluster page need are :class:`ClusterReads`'.
    """

    def __init__(self, store: ReviewStore) -> None:
        self.store = store
        with store.reading() as db:
            db.executescript(SCHEMA)

    # --- the clusterer's side -----------------------------------------------------

    def unclustered(self, limit: int = 1000) -> list[Unclustered]:
        """Stored items without a cluster, in the order they were stored."""
        with self.store.reading() as db:
            rows = db.execute(
                "SELECT i.record, i.added_at FROM items i"
                " LEFT JOIN memberships m USING (article_id)"
                " WHERE m.article_id IS NULL ORDER BY i.rowid LIMIT ?",
                (limit,),
            ).fetchall()
        return [Unclustered(read_review_record(record), float(at)) for record, at in rows]

    def replay_window(self, window_s: float) -> list[Replayed]:
        """Memberships that joined within ``window_s`` of the latest one, in clustering order."""
        with self.store.reading() as db:
            (latest,) = db.execute("SELECT max(joined_at) FROM memberships").fetchone()
            if latest is None:
                return []
            rows = db.execute(
                "SELECT i.record, m.clustered_to, m.joined_at FROM memberships m"
                " JOIN items i USING (article_id) WHERE m.joined_at >= ?"
                " ORDER BY m.joined_at, i.rowid",
                (latest - window_s,),
            ).fetchall()
        return [Replayed(read_review_record(r), c, float(at)) for r, c, at in rows]

    def join(self, placements: Sequence[Placement]) -> None:
        """Store the placements and queue their ``articles.claims`` messages, in one transaction."""
        with self.store.transaction() as db:
            for placement in placements:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO memberships VALUES (?, ?, ?, ?, ?)",
                    (
                        placement.article_id,
                        placement.cluster_id,
                        placement.cluster_id,
                        placement.similarity,
                        placement.joined_at,
                    ),
                )
                if cursor.rowcount:  # an article already placed keeps its one message
                    _queue_message(db, placement.article_id)

    # --- reviewers' corrections ---------------------------------------------------

    def split(self, article_id: str, reviewer: str, now: float | None = None) -> Split:
        """Move ``article_id`` out of its cluster into a cluster of its own.

        Refused for an article alone in its cluster, or held by another reviewer. The
        correction is kept (``splits``) and the new membership goes to the outbox.
        """
        now = time.time() if now is None else now
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT m.cluster_id, m.similarity, i.lock_owner, i.lock_expires"
                " FROM memberships m JOIN items i USING (article_id) WHERE article_id = ?",
                (article_id,),
            ).fetchone()
            if row is None:
                raise ItemNotFoundError(f"{article_id!r} is in no claim cluster")
            cluster_id, similarity, owner, expires = row
            (size,) = db.execute(
                "SELECT count(*) FROM memberships WHERE cluster_id = ?", (cluster_id,)
            ).fetchone()
            if size < 2:
                raise ReviewConflictError(f"{article_id} is alone in its cluster already")
            if owner and owner != reviewer and expires is not None and expires > now:
                raise ReviewConflictError(f"{article_id} is being reviewed by {owner}")
            salt = 0
            while db.execute(
                "SELECT 1 FROM memberships WHERE cluster_id = ?",
                (split_cluster_id(article_id, salt),),
            ).fetchone():
                salt += 1
            split = Split(
                article_id,
                cluster_id,
                split_cluster_id(article_id, salt),
                float(similarity),
                reviewer,
                iso_time(now),
            )
            db.execute(
                "UPDATE memberships SET cluster_id = ? WHERE article_id = ?",
                (split.to_cluster, article_id),
            )
            db.execute(
                "INSERT OR REPLACE INTO splits VALUES (?, ?, ?, ?, ?, ?)",
                (
                    article_id,
                    split.from_cluster,
                    split.to_cluster,
                    split.similarity,
                    reviewer,
                    split.split_at,
                ),
            )
            _queue_message(db, article_id, similarity=1.0)
        return split

    def confirmed(self) -> list[tuple[str, str, float]]:
        """(article, cluster, similarity) of articles the clusterer joined to a cluster
        that then got a cluster verdict with them still in it: reviewers saw them
        together and moved none of them out (the founders, similarity 1, left out)."""
        with self.store.reading() as db:
            rows = db.execute(
                "SELECT m.article_id, m.cluster_id, m.similarity, v.value FROM memberships m"
                " JOIN verdicts v USING (article_id)"
                " WHERE m.cluster_id = m.clustered_to AND m.similarity < 1.0 ORDER BY v.rowid"
            ).fetchall()
        return [
            (article_id, cluster_id, float(similarity))
            for article_id, cluster_id, similarity, value in rows
            if json.loads(value).get("cluster_id") == cluster_id
        ]

    def splits(self) -> list[Split]:
        """Every split reviewers made, oldest first."""
        with self.store.reading() as db:
            rows = db.execute("SELECT * FROM splits ORDER BY rowid").fetchall()
        return [Split(a, f, t, float(s), r, at) for a, f, t, s, r, at in rows]

    # --- the articles.claims outbox ---------------------------------------------

    def pending_messages(self) -> list[tuple[int, str, bytes]]:
        """(outbox id, key, value) of memberships not yet acknowledged, oldest first."""
        with self.store.reading() as db:
            rows = db.execute(
                "SELECT id, cluster_id, value FROM claims_outbox WHERE produced = 0 ORDER BY id"
            ).fetchall()
        return [(int(i), str(key), str(value).encode()) for i, key, value in rows]

    def mark_produced(self, outbox_id: int) -> None:
        with self.store.transaction() as db:
            db.execute("UPDATE claims_outbox SET produced = 1 WHERE id = ?", (outbox_id,))


def _queue_message(
    db: sqlite3.Connection, article_id: str, similarity: float | None = None
) -> None:
    """Queue the ``articles.claims`` value of ``article_id``'s current membership.

    Size, sources and first sighting are the cluster's as stored now, this article
    included (a later member's message shows the cluster bigger).
    """
    cluster_id, stored_similarity, source = db.execute(
        "SELECT m.cluster_id, m.similarity, i.source FROM memberships m"
        " JOIN items i USING (article_id) WHERE article_id = ?",
        (article_id,),
    ).fetchone()
    size, sources, first_seen = db.execute(
        "SELECT count(*), count(DISTINCT nullif(i.source, '')), min(m.joined_at)"
        " FROM memberships m JOIN items i USING (article_id) WHERE m.cluster_id = ?",
        (cluster_id,),
    ).fetchone()
    value = {
        "cluster_id": cluster_id,
        "article_id": article_id,
        "source": source or None,
        "similarity": round(float(stored_similarity if similarity is None else similarity), 4),
        "first_seen": float(first_seen),
        "size": int(size),
        "sources": int(sources),
    }
    db.execute(
        "INSERT INTO claims_outbox (cluster_id, value) VALUES (?, ?)",
        (cluster_id, json.dumps(value, ensure_ascii=False)),
    )

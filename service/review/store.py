"""The review queue: an embedded SQLite store of flagged items, locks and verdicts.

The store is the review app's memory. It survives restarts, it takes each
article once (a re-delivered record is ignored), it remembers how far it has
read each partition of ``articles.flagged`` (in the same transaction as the
items, so a crash neither loses nor doubles anything), and it keeps decided
verdicts in an outbox until they are on ``articles.verdicts``.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from service.errors import ClaimwatchError
from service.review.records import (
    ReviewRecord,
    Verdict,
    VerdictLabel,
    read_review_record,
    read_verdict,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    article_id TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    tier TEXT NOT NULL,
    tier_rank INTEGER NOT NULL,
    score REAL NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    lock_owner TEXT,
    lock_expires REAL,
    added_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS items_queue ON items (status, tier_rank, score DESC);
CREATE TABLE IF NOT EXISTS verdicts (
    article_id TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    produced INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS offsets (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class ReviewConflictError(ClaimwatchError):
    """The item cannot be claimed or decided by this reviewer right now."""

    code = "review_conflict"


class ItemNotFoundError(ClaimwatchError):
    code = "item_not_found"


@dataclass(frozen=True)
class Lock:
    reviewer: str
    expires: float


@dataclass(frozen=True)
class QueueItem:
    """One stored item with its review state."""

    record: ReviewRecord
    status: str
    lock: Lock | None

    def locked_by_other(self, reviewer: str, now: float) -> Lock | None:
        lock = self.lock
        if lock and lock.reviewer != reviewer and lock.expires > now:
            return lock
        return None


class ReviewStore:
    """Thread-safe access to one SQLite file (the consumer thread and the web app share it)."""

    def __init__(self, path: Path | str, lock_seconds: float = 300.0) -> None:
        self.path = str(path)
        self.lock_seconds = lock_seconds
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._mutex = threading.Lock()
        with self._mutex:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._mutex:
            self._db.close()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads, held by this thread alone (no transaction)."""
        with self._mutex:
            yield self._db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection inside one write transaction, committed at the end (or rolled back)."""
        with self._mutex:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- intake -------------------------------------------------------------------

    def add(
        self,
        records: Iterable[ReviewRecord],
        topic: str | None = None,
        next_offsets: Mapping[int, int] | None = None,
        now: float | None = None,
    ) -> int:
        """Store new items and advance the read positions in one transaction; count new items.

        An article already in the store (queued or decided) is ignored, so
        re-delivery under at-least-once never duplicates a queue entry.
        """
        now = time.time() if now is None else now
        added = 0
        with self.transaction() as db:
            for record in records:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO items (article_id, record, tier, tier_rank, score,"
                    " source, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.article_id,
                        json.dumps(dict(record.raw), ensure_ascii=False),
                        record.tier,
                        record.tier_rank,
                        record.score,
                        record.source,
                        now,
                    ),
                )
                added += cursor.rowcount
            for partition, offset in (next_offsets or {}).items():
                db.execute(
                    "INSERT INTO offsets VALUES (?, ?, ?) ON CONFLICT (topic, partition)"
                    " DO UPDATE SET next_offset = max(next_offset, excluded.next_offset)",
                    (topic, partition, offset),
                )
        return added

    def next_offsets(self, topic: str) -> dict[int, int]:
        """Where to resume reading each partition of ``topic``."""
        with self._mutex:
            rows = self._db.execute(
                "SELECT partition, next_offset FROM offsets WHERE topic = ?", (topic,)
            ).fetchall()
        return {int(partition): int(offset) for partition, offset in rows}

    # --- reading --------------------------------------------------------------------

    def queue(
        self, source: str | None = None, tier: str | None = None, limit: int = 200
    ) -> list[QueueItem]:
        """Undecided items, highest tier first, then highest score."""
        sql = "SELECT record, status, lock_owner, lock_expires FROM items WHERE status = 'queued'"
        params: list[object] = []
        if source:
            sql += " AND source = ?"
            params.append(source)
        if tier:
            sql += " AND lower(tier) = lower(?)"
            params.append(tier)
        sql += " ORDER BY tier_rank, score DESC, article_id LIMIT ?"
        params.append(limit)
        with self._mutex:
            rows = self._db.execute(sql, params).fetchall()
        return [_item(*row) for row in rows]

    def get(self, article_id: str) -> QueueItem:
        with self._mutex:
            row = self._db.execute(
                "SELECT record, status, lock_owner, lock_expires FROM items WHERE article_id = ?",
                (article_id,),
            ).fetchone()
        if row is None:
            raise ItemNotFoundError(f"no flagged item with id {article_id!r}")
        return _item(*row)

    def facets(self) -> tuple[list[str], list[str]]:
        """The sources and tiers present in the queue, for the filter controls."""
        with self._mutex:
            sources = self._db.execute(
                "SELECT DISTINCT source FROM items WHERE status = 'queued' ORDER BY source"
            ).fetchall()
            tiers = self._db.execute(
                "SELECT DISTINCT tier FROM items WHERE status = 'queued' ORDER BY tier_rank, tier"
            ).fetchall()
        return [s for (s,) in sources if s], [t for (t,) in tiers if t]

    def records(self, article_ids: Iterable[str]) -> dict[str, ReviewRecord]:
        """Stored records for the given ids (queued or decided), for the export join."""
        found: dict[str, ReviewRecord] = {}
        with self._mutex:
            for article_id in article_ids:
                row = self._db.execute(
                    "SELECT record FROM items WHERE article_id = ?", (article_id,)
                ).fetchone()
                if row:
                    found[article_id] = read_review_record(row[0])
        return found

    # --- locks and decisions --------------------------------------------------------

    def claim(self, article_id: str, reviewer: str, now: float | None = None) -> Lock:
        """Lock the item for ``reviewer`` for ``lock_seconds``; refuse while another holds it."""
        return self.claim_all([article_id], reviewer, now)

    def claim_all(
        self, article_ids: Sequence[str], reviewer: str, now: float | None = None
    ) -> Lock:
        """Lock every item for ``reviewer``; none if one is decided or held by another."""
        now = time.time() if now is None else now
        lock = Lock(reviewer, now + self.lock_seconds)
        with self.transaction() as db:
            for article_id in article_ids:
                self._check_open(db, article_id, reviewer, now)
                db.execute(
                    "UPDATE items SET lock_owner = ?, lock_expires = ? WHERE article_id = ?",
                    (lock.reviewer, lock.expires, article_id),
                )
        return lock

    def release(self, article_id: str, reviewer: str) -> None:
        """Give up the reviewer's own lock; another reviewer's lock is left alone."""
        self.release_all([article_id], reviewer)

    def release_all(self, article_ids: Sequence[str], reviewer: str) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE items SET lock_owner = NULL, lock_expires = NULL"
                " WHERE article_id = ? AND lock_owner = ?",
                [(article_id, reviewer) for article_id in article_ids],
            )

    def decide(
        self,
        article_id: str,
        reviewer: str,
        label: VerdictLabel,
        note: str | None = None,
        now: float | None = None,
        decided_at: str | None = None,
    ) -> Verdict:
        """Record a verdict: the item leaves the queue and the verdict enters the outbox.

        Allowed when the item is still queued and nobody else holds an unexpired lock.
        """
        [verdict] = self.decide_all([article_id], reviewer, label, note, now, decided_at)
        return verdict

    def decide_all(
        self,
        article_ids: Sequence[str],
        reviewer: str,
        label: VerdictLabel,
        note: str | None = None,
        now: float | None = None,
        decided_at: str | None = None,
        cluster_id: str | None = None,
    ) -> list[Verdict]:
        """One verdict per item, in one transaction: all of them are decided, or none.

        A cluster verdict passes its members and ``cluster_id``; each member's
        verdict carries its own model version.
        """
        now = time.time() if now is None else now
        verdicts = []
        with self.transaction() as db:
            for article_id in article_ids:
                record = self._check_open(db, article_id, reviewer, now)
                verdict = Verdict(
                    article_id=article_id,
                    verdict=label,
                    reviewer=reviewer,
                    decided_at=decided_at or iso_time(now),
                    model_version=record.model.version,
                    note=note or None,
                    cluster_id=cluster_id,
                )
                db.execute(
                    "UPDATE items SET status = 'decided', lock_owner = NULL, lock_expires = NULL"
                    " WHERE article_id = ?",
                    (article_id,),
                )
                db.execute(
                    "INSERT OR REPLACE INTO verdicts (article_id, value, produced)"
                    " VALUES (?, ?, 0)",
                    (article_id, verdict.to_json().decode()),
                )
                verdicts.append(verdict)
        return verdicts

    def _check_open(
        self, db: sqlite3.Connection, article_id: str, reviewer: str, now: float
    ) -> ReviewRecord:
        row = db.execute(
            "SELECT record, status, lock_owner, lock_expires FROM items WHERE article_id = ?",
            (article_id,),
        ).fetchone()
        if row is None:
            raise ItemNotFoundError(f"no flagged item with id {article_id!r}")
        item = _item(*row)
        if item.status != "queued":
            raise ReviewConflictError(f"{article_id} has already been decided")
        other = item.locked_by_other(reviewer, now)
        if other:
            raise ReviewConflictError(f"{article_id} is being reviewed by {other.reviewer}")
        return item.record

    # --- verdict outbox -------------------------------------------------------------

    def pending_verdicts(self) -> list[Verdict]:
        """Verdicts decided but not yet acknowledged by Kafka."""
        return self.verdicts(pending_only=True)

    def verdicts(self, pending_only: bool = False) -> list[Verdict]:
        """Verdicts decided here, oldest first."""
        with self._mutex:
            rows = self._db.execute(
                "SELECT value FROM verdicts WHERE produced = 0 OR NOT ? ORDER BY rowid",
                (pending_only,),
            ).fetchall()
        return [read_verdict(value) for (value,) in rows]

    def mark_produced(self, article_id: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE verdicts SET produced = 1 WHERE article_id = ?", (article_id,))

    def counts(self) -> dict[str, int]:
        with self._mutex:
            queued = self._db.execute("SELECT count(*) FROM items WHERE status = 'queued'")
            decided = self._db.execute("SELECT count(*) FROM items WHERE status = 'decided'")
            pending = self._db.execute("SELECT count(*) FROM verdicts WHERE produced = 0")
            return {
                "queued": queued.fetchone()[0],
                "decided": decided.fetchone()[0],
                "verdicts_pending": pending.fetchone()[0],
            }

    def items(self, article_ids: Iterable[str]) -> list[QueueItem]:
        """The stored items among ``article_ids``, in the order given."""
        found = []
        with self._mutex:
            for article_id in article_ids:
                row = self._db.execute(
                    "SELECT record, status, lock_owner, lock_expires FROM items"
                    " WHERE article_id = ?",
                    (article_id,),
                ).fetchone()
                if row:
                    found.append(_item(*row))
        return found

    def secret(self, name: str) -> str:
        """A per-store random secret (e.g. the CSRF key), created once and kept across restarts."""
        with self.transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (name,)).fetchone()
            if row:
                return str(row[0])
            value = secrets.token_hex(32)
            db.execute("INSERT INTO meta VALUES (?, ?)", (name, value))
        return value


def _item(record: str, status: str, owner: str | None, expires: float | None) -> QueueItem:
    lock = Lock(owner, float(expires)) if owner and expires is not None else None
    return QueueItem(read_review_record(record), status, lock)


def iso_time(epoch: float) -> str:
    """``epoch`` as ISO 8601 in UTC, to the millisecond (every ``*_at`` of the store)."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")

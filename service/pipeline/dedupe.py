"""Stage 3 — dedupe: skip an article already decided with the same content.

Same id and same content hash → duplicate (skipped, counted). Same id with new
content → scored again as the next version. The memory is any mutable mapping of
id → ``{"hash", "version", "at"}`` (``at``: when it was decided, epoch seconds): a
Faust table in the worker (changelog-backed, so it survives restarts and
rebalances), a dict in tests.

Exactly-once: a message read again at the same position (partition, offset) as the
entry that marks its id decided is *not* a duplicate. Its offset is committed in
the same transaction as its outputs, so being read again means that transaction
never committed: the entry is the local trace of an attempt that did not count
(a worker killed between writing its table and committing, or a batch retried after
a failed commit). Faust's local stores keep such writes, a restarted worker finds
them, and skipping the article would lose it. It is scored again, as the same
version. At-least-once keeps skipping it: the outputs of the first attempt were
acknowledged before its entry was written, so the repeat is a true duplicate.

The memory is bounded by a :class:`Window`: an id last decided longer ago than the
window counts as never seen, so an article re-sent after it is scored again, as if
new (version 1: the version count is forgotten with the rest). The worker also
removes such entries from its table (``service/worker/expiry.py``), so neither
memory nor the table's changelog grows with all of history.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from service.pipeline.records import Article


def content_hash(article: Article) -> str:
    """sha256 over the text and the title: what a reviewer would call the content."""
    digest = hashlib.sha256()
    digest.update(article.text.encode("utf-8"))
    digest.update(b"\0")
    digest.update(str(article.get("title") or "").encode("utf-8"))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Window:
    """How long a decided id is remembered, in seconds (``inf``: for ever)."""

    seconds: float = math.inf

    def holds(self, entry: Any, now: float) -> bool:
        """Whether a table entry was decided within the window before ``now``.

        An entry without a decision time (written before the window existed) counts
        as decided at the epoch: under a finite window it has expired.
        """
        if not isinstance(entry, dict):
            return False
        try:
            at = float(entry.get("at", 0.0))
        except (TypeError, ValueError):
            at = 0.0
        return now - at < self.seconds


FOREVER = Window()


@dataclass(frozen=True, slots=True)
class Fresh:
    """An article to score, with its content hash and version (1 = first seen)."""

    article: Article
    content_hash: str
    version: int


Position = tuple[int, int]  # (input partition, offset) of the message behind an entry


def split_duplicates(
    articles: list[Article],
    seen: MutableMapping[str, Any],
    window: Window = FOREVER,
    now: float = 0.0,
    positions: list[Position] | None = None,
) -> tuple[list[Fresh], list[Article]]:
    """Partition a batch into (to score, duplicates); repeats inside the batch count too.

    Entries of ``seen`` older than ``window`` at ``now`` are ignored, as if absent.
    ``positions`` (exactly-once only): where each article was read; an entry written
    for that very position is an uncommitted attempt, not a decision (module doc).
    """
    fresh: list[Fresh] = []
    duplicates: list[Article] = []
    pending: dict[str, tuple[str, int]] = {}
    for index, article in enumerate(articles):
        digest = content_hash(article)
        entry = seen.get(article.id)
        reread = _reread_version(entry, positions[index]) if positions is not None else None
        if reread is not None and article.id not in pending:
            version = reread  # the attempt's own version, kept
            pending[article.id] = (digest, version)
            fresh.append(Fresh(article, digest, version))
            continue
        previous = pending.get(article.id) or _known(entry, window, now)
        if previous and previous[0] == digest:
            duplicates.append(article)
            continue
        version = previous[1] + 1 if previous else 1
        pending[article.id] = (digest, version)
        fresh.append(Fresh(article, digest, version))
    return fresh, duplicates


def remember(
    fresh: list[Fresh],
    seen: MutableMapping[str, Any],
    now: float = 0.0,
    partition: int | None = None,
    offset: int | None = None,
) -> None:
    """Record decided articles at ``now``; call only after their outputs are acknowledged.

    ``partition`` (the worker's input partition) is kept in the entry so that the
    entry can later be removed from the right part of the table; ``offset`` (of the
    message decided) so that a re-read of that message is recognised (module doc).
    """
    for item in fresh:
        entry: dict[str, Any] = {"hash": item.content_hash, "version": item.version, "at": now}
        if partition is not None:
            entry["p"] = partition
        if offset is not None:
            entry["o"] = offset
        seen[item.article.id] = entry


def _reread_version(entry: Any, position: Position) -> int | None:
    """The version ``entry`` gave the message at ``position``; None if written for another."""
    if not isinstance(entry, dict) or (entry.get("p"), entry.get("o")) != position:
        return None
    return int(entry.get("version", 1))


def _known(entry: Any, window: Window, now: float) -> tuple[str, int] | None:
    if isinstance(entry, dict) and "hash" in entry and window.holds(entry, now):
        return str(entry["hash"]), int(entry.get("version", 1))
    return None

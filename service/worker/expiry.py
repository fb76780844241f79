"""The dedupe window's sweep: forget the ids decided longer ago than the window.

The dedupe stage already ignores such entries (``service/pipeline/dedupe.py``);
the sweep removes them, so that the table (in memory or on disk) and its compacted
changelog topic hold one window of ids, not all of history. One sweep:

1. Walk the table's entries a page at a time, yielding to the event loop between
   pages, so that a large table never holds up the agent.
2. An entry of a partition this worker does not serve (any more) is only dropped
   from local memory: that partition's owner decides about it.
3. An expired entry of a partition it serves is removed and tombstoned in that
   partition of the changelog (``faust_fixes.delete_in_partition``); compaction
   then drops the id from the topic, so a restart replays only the window.

Under exactly-once the tombstones go into the partition's open transaction and
are committed with the partition's next batch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from service.pipeline.dedupe import Window
from service.worker.faust_fixes import delete_in_partition, forget_locally, no_current_event
from service.worker.state import Worker

log = logging.getLogger("claimwatch.expiry")

# Entries looked at between two yields to the event loop: ~2-10 ms of work.
PAGE = 2000
# Sweep about ten times per window, but at least every 10 minutes (ids leave the
# table at most that late) and at most every second (a short window in tests).
SWEEPS_PER_WINDOW = 10
MAX_INTERVAL_S = 600.0
MIN_INTERVAL_S = 1.0


def sweep_interval(window_s: float) -> float:
    """Seconds between two sweeps of a window of ``window_s`` seconds."""
    return min(max(window_s / SWEEPS_PER_WINDOW, MIN_INTERVAL_S), MAX_INTERVAL_S)


@dataclass
class Swept:
    """What one sweep did."""

    expired: int = 0  # removed and tombstoned
    dropped: int = 0  # of partitions served elsewhere: forgotten here only
    kept: int = 0


def served_partitions(worker: Worker) -> set[int]:
    """Partitions of the articles topic (= of the dedupe table) this worker serves."""
    topic = worker.settings.topic_articles
    return {tp.partition for tp in worker.app.consumer.assignment() if tp.topic == topic}


async def sweep_seen(worker: Worker, now: float | None = None) -> Swept:
    """One sweep of the dedupe table (see the module's steps)."""
    window = Window(worker.settings.dedupe_window_s)
    now = time.time() if now is None else now
    served = served_partitions(worker)
    swept = Swept()
    entries = _entries(worker.seen.data)
    while True:
        with no_current_event():
            page = _page(entries)
        for key, entry in page:
            _sweep_one(worker.seen, key, entry, window, now, served, swept)
        if len(page) < PAGE:
            break
        await asyncio.sleep(0)
    if swept.expired or swept.dropped:
        worker.metrics.dedupe_expired(swept.expired)
        log.info(
            "dedupe window: %d ids expired, %d of other workers' partitions dropped, %d kept",
            swept.expired,
            swept.dropped,
            swept.kept,
        )
    return swept


def _sweep_one(
    table: Any,
    key: Any,
    entry: Any,
    window: Window,
    now: float,
    served: set[int],
    swept: Swept,
) -> None:
    partition = entry.get("p") if isinstance(entry, dict) else None
    if isinstance(partition, int) and partition not in served:
        forget_locally(table, key)
        swept.dropped += 1
    elif window.holds(entry, now):
        swept.kept += 1
    else:  # no partition: written before entries named it, Faust may know it
        delete_in_partition(table, key, partition if isinstance(partition, int) else None)
        swept.expired += 1


def _entries(store: Any) -> Iterator[tuple[Any, Any]]:
    """The store's entries, lazily: an in-memory store from a snapshot of its keys
    (a dict cannot be iterated while the agent writes to it), a disk store from its
    own iterators (RocksDB iterators read a consistent snapshot)."""
    if isinstance(getattr(store, "data", None), dict):
        for key in list(store.data):
            if key in store.data:
                yield key, store.data[key]
    else:
        yield from store.items()


def _page(entries: Iterator[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    page: list[tuple[Any, Any]] = []
    try:
        for item in entries:
            page.append(item)
            if len(page) >= PAGE:
                break
    except RuntimeError as error:  # a rebalance opened or closed a partition's database
        log.info("dedupe sweep cut short by a rebalance: %s", error)
    return page

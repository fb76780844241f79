"""Partitions stopped at a record batch the Kafka client cannot decode.

A batch the client cannot decode (its codec library missing, a bad CRC, corrupt
compressed data) is never skipped: its articles would be lost without a trace. The
consumer pauses the partition where the batch starts
(:func:`service.worker.faust_fixes.use_claimwatch_consumer`) and tells
:meth:`UndecodableBatches.report`, which logs one line naming the topic, partition and
offset, counts it, and keeps the partition for ``/readyz`` and the
``claimwatch_undecodable_partitions`` gauge until it moves to another worker. README
("Undecodable batches") says what an operator does next.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from service.worker.faust_fixes import UndecodableBatch, describe
from service.worker.metrics import ClaimwatchMetrics

log = logging.getLogger("claimwatch.undecodable")


class UndecodableBatches:
    """Where the consumer stopped, per partition; reported from the consumer's thread."""

    def __init__(self, metrics: ClaimwatchMetrics) -> None:
        self.metrics = metrics
        self._lock = threading.Lock()
        self._stopped: dict[tuple[str, int], tuple[int, str]] = {}  # -> (offset, error)

    def report(self, error: UndecodableBatch) -> None:
        """Record one failed batch; the first report of a place logs and counts it."""
        topic, partition = error.tp.topic, error.tp.partition
        cause = describe(error.cause)
        with self._lock:
            first = self._stopped.get((topic, partition)) != (error.offset, cause)
            self._stopped[(topic, partition)] = (error.offset, cause)
        if not first:
            return  # the same batch again (after a rebalance gave the partition back)
        self.metrics.undecodable_batch(topic)
        log.error(
            "cannot decode the record batch at %s partition %d offset %d (%s): the partition"
            " is paused there and nothing from offset %d on is read or committed; see README,"
            ' "Undecodable batches"',
            topic,
            partition,
            error.offset,
            cause,
            error.offset,
            extra={"topic": topic, "partition": partition, "offset": error.offset, "error": cause},
        )

    def stopped(self, assigned: Iterable[Any]) -> list[dict[str, Any]]:
        """The partitions among ``assigned`` that are stopped, with offset and error."""
        owned = {(tp.topic, tp.partition) for tp in assigned}
        with self._lock:
            places = sorted(item for item in self._stopped.items() if item[0] in owned)
        return [
            {"topic": topic, "partition": partition, "offset": offset, "error": cause}
            for (topic, partition), (offset, cause) in places
        ]

"""Background intake: ``articles.flagged`` into the review store, in a thread.

Positions live in the store, written in the same transaction as the items, so
the queue and "how far we have read" never disagree. A record that does not
parse is skipped (and counted) rather than stopping the queue.

At start the intake waits for Kafka with backoff, one log line per attempt, for
at most ``startup_timeout_s``; then it gives up and tells ``on_unreachable``, so
the review app can end with one clear line. Once connected, a broker lost later
is waited for indefinitely: reviewers keep working on the queue meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from service.errors import KafkaUnavailableError
from service.reach import Attempt, wait_for_kafka
from service.review.kafka_io import Message, follow, make_consumer
from service.review.records import InvalidRecordError, ReviewRecord, read_review_record
from service.review.store import ReviewStore

log = logging.getLogger(__name__)


def parse_batch(messages: list[Message]) -> tuple[list[ReviewRecord], dict[int, int], int]:
    """Valid records of a batch, the next offset per partition, and how many were invalid."""
    records: list[ReviewRecord] = []
    next_offsets: dict[int, int] = {}
    invalid = 0
    for message in messages:
        next_offsets[message.partition] = max(
            next_offsets.get(message.partition, 0), message.offset + 1
        )
        try:
            records.append(read_review_record(message.value))
        except InvalidRecordError as error:
            invalid += 1
            log.warning(
                "skipping %s[%d]@%d: %s", message.topic, message.partition, message.offset, error
            )
    return records, next_offsets, invalid


class FlaggedIntake:
    """Reads ``topic`` into ``store`` until stopped; ``after_batch`` runs after each batch.

    ``on_start`` runs once in the intake thread, after Kafka answered and before the
    first batch (the claim clusters are rebuilt and caught up there).

    With ``startup_timeout_s`` the first connection is waited for that long (see the
    module docstring); ``failure`` then holds the error that ended the wait.
    """

    def __init__(
        self,
        store: ReviewStore,
        kafka_config: Mapping[str, Any],
        topic: str,
        after_batch: Callable[[], None] | None = None,
        *,
        startup_timeout_s: float | None = None,
        on_unreachable: Callable[[KafkaUnavailableError], None] | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.kafka_config = dict(kafka_config)
        self.topic = topic
        self.after_batch = after_batch
        self.startup_timeout_s = startup_timeout_s
        self.on_unreachable = on_unreachable
        self.on_start = on_start
        self.failure: KafkaUnavailableError | None = None
        self.received = 0
        self.invalid = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="flagged-intake", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        if not self._wait_for_kafka():
            return
        if self.on_start:
            try:
                self.on_start()
            except Exception:  # the queue is still worth filling; after_batch tries again
                log.exception("review intake: start-up step failed")
        while not self._stop.is_set():
            try:
                consumer = make_consumer(self.kafka_config)
            except Exception as error:  # broker down at start: keep trying, the page still works
                log.warning("review intake cannot reach Kafka yet: %s", error)
                self._stop.wait(5.0)
                continue
            try:
                self._consume(consumer)
            except Exception:
                log.exception("review intake failed; reconnecting")
                self._stop.wait(2.0)
            finally:
                consumer.close()

    def _wait_for_kafka(self) -> bool:
        """True once Kafka answers (at once without a startup timeout); False when
        stopped, or when the wait ran out (``failure`` and ``on_unreachable`` say so)."""
        if self.startup_timeout_s is None:
            return True

        def report(attempt: Attempt) -> None:
            log.warning("review intake %s", attempt.describe())

        try:
            return wait_for_kafka(self.kafka_config, self.startup_timeout_s, report, self._stop)
        except KafkaUnavailableError as error:
            self.failure = error
            if self.on_unreachable:
                self.on_unreachable(error)
            return False

    def _consume(self, consumer: KafkaConsumer) -> None:
        def start(new: list[TopicPartition]) -> None:
            stored = self.store.next_offsets(self.topic)
            for tp in new:
                if tp.partition in stored:
                    consumer.seek(tp, stored[tp.partition])
                else:
                    consumer.seek_to_beginning(tp)

        for batch in follow(consumer, self.topic, start, self._stop.is_set):
            records, next_offsets, invalid = parse_batch(batch)
            self.store.add(records, self.topic, next_offsets)
            self.received += len(records)
            self.invalid += invalid
            if self.after_batch:
                self.after_batch()

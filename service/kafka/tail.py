"""Read a topic from its beginning or end without joining a consumer group."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from service.errors import ClaimwatchError


class UnknownTopicError(ClaimwatchError):
    code = "unknown_topic"


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: str | None
    value: Any  # parsed JSON, or the text when the value is not JSON

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "timestamp_ms": self.timestamp_ms,
            "key": self.key,
            "value": self.value,
        }


def decode_value(raw: bytes | None) -> Any:
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def read_topic(
    client_config: dict[str, Any],
    topic: str,
    *,
    from_beginning: bool = False,
    max_messages: int | None = None,
    idle_timeout_s: float | None = None,
) -> Iterator[Message]:
    """Yield messages of every partition of ``topic``; stop after ``max_messages`` or
    when nothing arrived for ``idle_timeout_s`` (follow forever when both are None)."""
    consumer = KafkaConsumer(
        client_id="claimwatch-tail", group_id=None, enable_auto_commit=False, **client_config
    )
    try:
        partitions = _wait_partitions(consumer, topic)
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        if from_beginning:
            consumer.seek_to_beginning(*assigned)
        else:
            consumer.seek_to_end(*assigned)
        yield from _poll(consumer, max_messages, idle_timeout_s)
    finally:
        consumer.close()


def _wait_partitions(consumer: KafkaConsumer, topic: str, timeout_s: float = 10.0) -> set[int]:
    deadline = time.monotonic() + timeout_s
    while True:
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            return set(partitions)
        if time.monotonic() > deadline:
            raise UnknownTopicError(
                f"topic {topic!r} does not exist (create it: claimwatch topics create)"
            )
        time.sleep(0.2)


def _poll(
    consumer: KafkaConsumer, max_messages: int | None, idle_timeout_s: float | None
) -> Iterator[Message]:
    seen = 0
    last_message = time.monotonic()
    while max_messages is None or seen < max_messages:
        batch = consumer.poll(timeout_ms=200)
        records = [r for rs in batch.values() for r in rs]
        if not records and idle_timeout_s is not None:
            if time.monotonic() - last_message > idle_timeout_s:
                return
            continue
        for record in sorted(records, key=lambda r: (r.timestamp, r.partition, r.offset)):
            last_message = time.monotonic()
            key = record.key.decode("utf-8", "replace") if record.key is not None else None
            yield Message(
                record.topic,
                record.partition,
                record.offset,
                record.timestamp,
                key,
                decode_value(record.value),
            )
            seen += 1
            if max_messages is not None and seen >= max_messages:
                return

"""Read a topic from its beginning or end without joining a consumer group."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from service.errors import ClaimwatchError
from service.reach import check_access, unreachable


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
    text = raw.decode("utf-8-sig", "replace")  # a leading byte-order mark, as the worker
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
    since_ms: int | None = None,
) -> Iterator[Message]:
    """Yield messages of every partition of ``topic``; stop after ``max_messages`` or
    when nothing arrived for ``idle_timeout_s`` (follow forever when both are None).

    Reading starts at the end, at the oldest message (``from_beginning``), or at the
    first message stamped at or after ``since_ms`` (Unix milliseconds). A broker that
    does not answer is :class:`KafkaUnavailableError`, raised before the first message
    (:class:`KafkaRefusedError` when it refuses our credentials or certificate).
    """
    check_access(client_config)
    try:
        consumer = KafkaConsumer(
            client_id="claimwatch-tail", group_id=None, enable_auto_commit=False, **client_config
        )
    except KafkaError as error:
        raise unreachable(client_config, error) from None
    try:
        partitions = _wait_partitions(consumer, topic)
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        _position(consumer, assigned, from_beginning, since_ms)
        yield from _poll(consumer, max_messages, idle_timeout_s)
    finally:
        consumer.close()


def _position(
    consumer: KafkaConsumer,
    assigned: list[TopicPartition],
    from_beginning: bool,
    since_ms: int | None,
) -> None:
    """Seek every partition to where reading starts (see :func:`read_topic`)."""
    if since_ms is not None:
        found = consumer.offsets_for_times({tp: since_ms for tp in assigned})
        later = {tp: hit.offset for tp, hit in found.items() if hit is not None}
        for tp, offset in later.items():
            consumer.seek(tp, offset)
        rest = [tp for tp in assigned if tp not in later]
        if rest:
            consumer.seek_to_end(*rest)  # nothing stamped that late yet: only new messages
    elif from_beginning:
        consumer.seek_to_beginning(*assigned)
    else:
        consumer.seek_to_end(*assigned)


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

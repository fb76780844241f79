"""The kafka-python plumbing the reviewer tools share: read a topic, follow it, produce to it.

Reviewer tools read without a consumer group: each tool decides for itself where
to start (the review store remembers its own offsets), so several reviewers'
tools never take partitions away from each other.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from service.errors import KafkaUnavailableError
from service.reach import check_access, unreachable

Message = Any  # kafka-python's ConsumerRecord: .topic .partition .offset .key .value


def make_consumer(config: Mapping[str, Any]) -> KafkaConsumer:
    check_access(config)  # kafka-python would retry a refused login forever
    try:
        # Reviewer tools read; they must never create a topic by asking about it.
        return KafkaConsumer(
            group_id=None, enable_auto_commit=False, allow_auto_create_topics=False, **config
        )
    except KafkaError as error:
        raise unreachable(config, error) from None


def make_producer(config: Mapping[str, Any]) -> KafkaProducer:
    check_access(config)
    try:
        return KafkaProducer(acks="all", retries=5, **config)
    except KafkaError as error:
        raise unreachable(config, error) from None


def partitions(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    """The topic's partitions, or an empty list if the topic does not exist (yet)."""
    found = consumer.partitions_for_topic(topic) or set()
    return [TopicPartition(topic, p) for p in sorted(found)]


def read_to_end(
    config: Mapping[str, Any], topic: str, timeout_s: float = 30.0
) -> Iterator[Message]:
    """Every message of ``topic`` from the beginning up to the end it had when we started."""
    consumer = make_consumer(config)
    try:
        assigned = partitions(consumer, topic)
        if not assigned:
            return
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        end = consumer.end_offsets(assigned)
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in assigned):
            if time.monotonic() > deadline:
                raise KafkaUnavailableError(f"reading {topic} did not finish within {timeout_s}s")
            for batch in consumer.poll(timeout_ms=500).values():
                for message in batch:
                    if message.offset < end[TopicPartition(message.topic, message.partition)]:
                        yield message
    finally:
        consumer.close()


def follow(
    consumer: KafkaConsumer,
    topic: str,
    start: Callable[[list[TopicPartition]], None],
    should_stop: Callable[[], bool],
    poll_ms: int = 500,
) -> Iterator[list[Message]]:
    """Batches of messages from every partition of ``topic`` until ``should_stop()``.

    ``start`` positions newly assigned partitions; partitions added to the topic
    later are picked up on the next refresh.
    """
    assigned: list[TopicPartition] = []
    next_refresh = 0.0
    while not should_stop():
        if time.monotonic() >= next_refresh:
            current = partitions(consumer, topic)
            if current != assigned:
                new = [tp for tp in current if tp not in assigned]
                consumer.assign(current)
                start(new)
                assigned = current
            next_refresh = time.monotonic() + (10.0 if assigned else 1.0)
        if not assigned:
            time.sleep(0.2)
            continue
        try:
            records = consumer.poll(timeout_ms=poll_ms)
        except KafkaError:
            time.sleep(1.0)
            continue
        batch = [m for part in records.values() for m in part]
        if batch:
            yield batch

"""Read again an articles partition that went quiet with messages read but undelivered.

The stall watch (:class:`service.worker.gaps.StallWatch`) decides; this module asks
Faust's consumer for positions once a second and seeks (in the consumer's thread).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from service.settings import Settings
from service.worker.faust_fixes import committed_offset, seek_partition
from service.worker.gaps import GapGuard, StallWatch
from service.worker.microbatch import MicroBatcher
from service.worker.state import Worker

log = logging.getLogger("claimwatch.agent")

# A partition read past what reached the agent and quiet this long is read again.
QUIET_S = 5.0
WATCH_EVERY_S = 1.0
# The look at what a quiet partition holds (a consumer of its own) gives up after this.
LOOK_WITHIN_S = 5.0


async def watch_for_stalls(
    worker: Worker, guard: GapGuard, watch: StallWatch, batches: MicroBatcher[Any]
) -> None:
    """Once a second: read again any articles partition the consumer has read past
    what reached the agent, quiet for QUIET_S while the agent was taking messages."""
    app = worker.app
    consumer: Any = app.consumer
    clock = asyncio.get_running_loop().time
    generation = None
    while True:
        await asyncio.sleep(WATCH_EVERY_S)
        busy = app.rebalancing or app.in_recovery or not consumer.flow_active
        if busy or batches.full() or app.consumer_generation_id != generation:
            generation = app.consumer_generation_id
            watch.restart(clock())
            continue
        try:
            await _read_quiet_partitions(worker, guard, watch, generation)
        except Exception:
            log.exception("checking for stalled partitions failed; trying again")


async def _read_quiet_partitions(
    worker: Worker, guard: GapGuard, watch: StallWatch, generation: int
) -> None:
    app = worker.app
    consumer: Any = app.consumer
    topic = worker.settings.topic_articles
    clock = asyncio.get_running_loop().time
    for tp in sorted(tp for tp in consumer.assignment() if tp.topic == topic):
        expected = guard.next_offset(tp, generation, committed_offset(consumer, tp))
        position = await asyncio.wait_for(consumer.position(tp), timeout=5.0)
        if app.consumer_generation_id != generation:
            return
        if not watch.due(tp, expected, position, clock()):
            continue
        assert expected is not None
        worker.metrics.partition_read_again()
        first_look = watch.looks[tp].count == 1  # later looks at the same range: INFO
        log.log(
            logging.WARNING if first_look else logging.INFO,
            "partition %s: read up to %d but nothing after %d reached the agent for %.0f s;"
            " reading again from %d",
            tp.partition,
            position,
            expected - 1,
            watch.quiet_s,
            expected,
        )
        admit = await _first_message_or_position(worker.settings, tp, expected, position)
        guard.read_again(tp, generation, expected, admit)
        await seek_partition(consumer, tp, expected)


async def _first_message_or_position(
    settings: Settings, tp: Any, expected: int, position: int
) -> int:
    """The offset the re-read of a quiet partition may go on at besides ``expected``:
    that of the first message the broker holds from ``expected`` on, or ``position``
    when there is none before it (transaction markers, aborted messages).

    Not ``position`` blindly: a fetch already under way from ``position`` can hand
    the agent the message there before the seek back takes effect, and the guard,
    told that the range before it holds nothing, would then go on past a message it
    never delivered. A look that fails says ``expected``: read again, go on only there.
    """
    try:
        found = await asyncio.wait_for(
            asyncio.to_thread(first_message, settings, tp.topic, tp.partition, expected, position),
            LOOK_WITHIN_S + 5.0,
        )
    except Exception as error:
        log.warning("partition %s: looking at offset %d failed: %r", tp.partition, expected, error)
        return expected
    return position if found is None else found


def first_message(
    settings: Settings, topic: str, partition: int, offset: int, until: int
) -> int | None:
    """The offset of the first message at or after ``offset`` and before ``until``, read
    committed like the worker reads; None when there is none. Raises TimeoutError when
    the broker does not show the range within LOOK_WITHIN_S."""
    consumer = KafkaConsumer(
        **settings.kafka_client_config(),
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, offset)
        deadline = time.monotonic() + LOOK_WITHIN_S
        while time.monotonic() < deadline:
            for record in consumer.poll(timeout_ms=500, max_records=1).get(tp, []):
                return int(record.offset) if record.offset < until else None
            if consumer.position(tp) >= until:
                return None
        raise TimeoutError(f"offsets {offset}..{until - 1} of {topic}:{partition} not read")
    finally:
        consumer.close()

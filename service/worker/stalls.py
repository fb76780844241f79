"""Read again an articles partition that went quiet with messages read but undelivered.

The stall watch (:class:`service.worker.gaps.StallWatch`) decides; this module asks
Faust's consumer for positions once a second and seeks (in the consumer's thread).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from service.worker.faust_fixes import committed_offset, seek_partition
from service.worker.gaps import GapGuard, StallWatch
from service.worker.microbatch import MicroBatcher
from service.worker.state import Worker

log = logging.getLogger("claimwatch.agent")

# A partition read past what reached the agent and quiet this long is read again.
QUIET_S = 5.0
WATCH_EVERY_S = 1.0


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
        guard.read_again(tp, generation, expected, position)
        await seek_partition(consumer, tp, expected)

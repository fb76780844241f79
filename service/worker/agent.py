"""The Faust agent: read, batch, score, publish, commit.

1. **Read** the articles topic without Faust's acks (:func:`manual_offsets`), each
   message admitted by the gap guard (:mod:`service.worker.gaps`) only in offset
   order without holes, and only once Faust has sought the consumer generation's
   partitions to their committed offsets (:func:`sought_committed`).
2. **Batch** into micro-batches (:mod:`service.worker.microbatch`).
3. **Score** each batch off the loop and route it (:mod:`service.worker.scorer`,
   :mod:`service.pipeline.batch`): heartbeats and rebalances never wait for the model.
4. **Publish** every output and wait for the broker's acknowledgements, then
   remember the articles (:mod:`service.worker.outputs`).
5. **Commit** the batch's offsets: highest offset + 1 per partition, safe because
   batches run one at a time in the order read and the guard admitted no hole.

Offsets never pass a message whose outputs are not on the broker. A batch whose
outputs fail is retried with backoff, never skipped. Where and why this departs
from Faust's own acks, seeks and commits: :mod:`service.worker.faust_fixes`. A
partition that goes quiet with messages read but never delivered is read again
(:mod:`service.worker.stalls`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from service.worker.faust_fixes import (
    RereadAfterSeek,
    commit_offsets,
    committed_offset,
    manual_offsets,
    seek_partition,
    sought_committed,
)
from service.worker.gaps import GapGuard, StallWatch
from service.worker.microbatch import MicroBatcher
from service.worker.outputs import abandon_transactions, process_events
from service.worker.stalls import QUIET_S, watch_for_stalls
from service.worker.state import Worker

log = logging.getLogger("claimwatch.agent")

# A stopping worker lets the batch in flight finish for this long, then hands it back.
FINISH_IN_FLIGHT_S = 10.0
# Retrying a batch whose outputs failed to publish: first wait, and the cap on doubling.
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 10.0
# An attempt at a batch still unfinished after this long counts as failing from then
# on (``/readyz``, ``claimwatch_batch_failing_seconds``), though nothing has raised.
HUNG_AFTER_S = 30.0


def register_agent(worker: Worker) -> None:
    settings = worker.settings

    @worker.app.agent(worker.articles, name="claimwatch-score", concurrency=1)
    async def score_articles(stream: Any) -> None:
        RereadAfterSeek.install(worker.app.consumer, settings.topic_articles)
        # Offsets are ours: committed only once a batch's outputs are on the broker.
        manual = manual_offsets(stream)
        batches: MicroBatcher[Any] = MicroBatcher(settings.batch_size, settings.batch_within_s)
        loop = BatchLoop(worker, batches)
        task = asyncio.ensure_future(loop.run())
        app, guard, watch = worker.app, GapGuard(), StallWatch(QUIET_S)
        watchdog = asyncio.ensure_future(watch_for_stalls(worker, guard, watch, batches))
        consumer: Any = app.consumer
        clock = asyncio.get_running_loop().time
        try:
            async for event in manual.events():
                if task.done():  # the batch loop never ends by itself: surface why it did
                    task.result()
                message = event.message
                watch.seen(message.tp, clock())
                if message.generation_id != app.consumer_generation_id:
                    continue  # read before a rebalance: read again from the committed offset
                if not sought_committed(consumer, message.generation_id):
                    continue  # fetched before Faust's seek to the committed offsets: read again
                start = committed_offset(consumer, message.tp)
                verdict = guard.check(message.tp, message.offset, message.generation_id, start)
                if verdict.seek_to is not None:
                    worker.metrics.offset_gap()
                    log.warning(
                        "partition %s: offset %d arrived before %d; reading again from %d",
                        message.partition,
                        message.offset,
                        verdict.seek_to,
                        verdict.seek_to,
                    )
                    await seek_partition(consumer, message.tp, verdict.seek_to)
                if not verdict.admit:
                    continue
                app.sensors.on_message_in(message.tp, message.offset, message)  # Faust's count
                held_back = batches.full()
                await batches.put(event)
                if held_back:
                    watch.restart(clock())  # quiet partitions were waiting for us, not stalled
        finally:
            watchdog.cancel()
            await loop.stop(task)


class HandedBack(Exception):
    """Part of a batch was handed back after its outputs were sent: the rest is
    published again on fresh transactions."""


class BatchLoop:
    """Takes batches from the batcher and processes each until its outputs are published.

    A batch whose outputs fail (broker unreachable, a transaction fenced …) is not
    committed and is retried with backoff, minus the events whose partition has
    meanwhile moved to another consumer generation: those are handed back
    uncommitted, and the partition's owner reads them again from the committed offset.
    """

    def __init__(self, worker: Worker, batches: MicroBatcher[Any]) -> None:
        self.worker = worker
        self.batches = batches
        self.in_flight: list[Any] | None = None
        self.stopping = False

    async def run(self) -> None:
        while not self.stopping:
            events = await self.batches.next_batch()
            self.in_flight = events
            try:
                await self.process_until_published(events)
            finally:
                self.in_flight = None
                self.worker.failing.settled()

    async def process_until_published(self, events: list[Any]) -> None:
        delay = RETRY_FIRST_S
        while True:
            events = self.current(events)
            if not events:
                return
            hung = asyncio.get_running_loop().call_later(HUNG_AFTER_S, self.hung, len(events))
            try:
                await process_events(self.worker, events, self.commit)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                self.worker.metrics.batch_failed()
                self.worker.failing.failed()
                if self.stopping:
                    log.exception("publishing a batch of %d failed while stopping", len(events))
                    raise
                log.exception(
                    "publishing a batch of %d failed; retrying in %.1f s", len(events), delay
                )
                try:
                    await abandon_transactions(self.worker, events)
                except Exception:  # the retry fails again and comes back here
                    log.exception("abandoning the failed batch's transactions failed")
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)
            finally:
                hung.cancel()

    def hung(self, size: int) -> None:
        """An attempt has not finished in HUNG_AFTER_S: say so, and count it as failing.

        Seen in the full chaos drill (issue 20): a worker's first commit waited in the
        producer's flush (aiokafka's accumulator) for 12 minutes without an error, and
        the rebalances behind it with it, while ``/readyz`` said all was well because
        nothing had failed. Now the stuck-batch readiness and alert see it too.
        """
        self.worker.failing.failed()
        log.warning(
            "a batch of %d has been publishing or committing for %.0f s without finishing;"
            " counted as failing from now",
            size,
            HUNG_AFTER_S,
        )

    def current(self, events: Sequence[Any]) -> list[Any]:
        """The events read in the consumer's current generation and not committed yet;
        counts the rest handed back.

        A commit of several partitions can fail after committing some of them (a
        fence, the broker lost in between): those events are done and a retry must
        not publish them again.
        """
        generation = self.worker.app.consumer_generation_id
        consumer = self.worker.app.consumer
        kept = []
        for event in events:
            message = event.message
            done = committed_offset(consumer, message.tp)
            if message.generation_id == generation and (done is None or message.offset >= done):
                kept.append(event)
        if len(kept) < len(events):
            self.worker.metrics.handed_back(len(events) - len(kept))
            log.info("handing back %d messages read before a rebalance", len(events) - len(kept))
        return kept

    async def commit(self, events: Sequence[Any]) -> None:
        """Commit past ``events``, whose outputs the broker has acknowledged.

        Only events of the current generation: a partition that moved meanwhile is
        read again by its new owner from its committed offset. Under exactly-once the
        outputs of events handed back sit in open transactions that must never commit
        (the messages are read again and scored again), so those are aborted.
        """
        kept = self.current(events)
        if len(kept) < len(events):
            await abandon_transactions(self.worker, events)
            if kept:  # the rest is published again, into the fresh transactions
                raise HandedBack(len(events) - len(kept))
        offsets: dict[Any, int] = {}
        for event in kept:  # in offset order per partition (GapGuard)
            offsets[event.message.tp] = event.message.offset + 1
        if offsets:
            await commit_offsets(self.worker.app.consumer, offsets)

    async def stop(self, task: asyncio.Future[None]) -> None:
        """Finish the batch in flight if it does so within FINISH_IN_FLIGHT_S; hand back
        what is left, uncommitted."""
        self.stopping = True
        if self.in_flight is not None and not task.done():
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), FINISH_IN_FLIGHT_S)
        unfinished = len(self.in_flight or ()) + len(self.batches)
        task.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await task
        if unfinished:
            self.worker.metrics.handed_back(unfinished)
            log.info("stopping: %d messages left uncommitted for the next reader", unfinished)

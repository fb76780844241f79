"""The Faust agent: wires the stages of :mod:`service.batch` to Kafka.

Per micro-batch: decode/validate/dedupe on the loop → score and route off the loop
(:mod:`service.scorer`: a thread or a child process; heartbeats and rebalances never
wait for the model) → produce every output and wait for the broker's
acknowledgements → remember the articles → commit the batch's offsets. Offsets never
pass a message whose outputs are not on the broker.

We commit, not Faust: the articles topic is subscribed with ``acks=False``, so
Faust's ack bookkeeping never commits it. Faust acks messages it skips around a
rebalance or a shutdown (its stream iterator "acks the filtered out message"),
and its ``take_events`` acks a batch in ``finally`` even when processing failed or
was cancelled; both committed offsets of articles never published (seen here as
lost articles when a worker of two stopped). Batching is :mod:`service.microbatch`.
Batches are processed one at a time in the order read, and :mod:`service.gaps`
admits a partition's messages only in offset order without holes, so after a batch
is published its highest offset + 1 per partition is safe to commit. A partition
that goes quiet with messages read but never delivered is read again
(:func:`watch_for_stalls`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from faust.streams import _current_event

from service.app import RereadAfterSeek, Worker
from service.batch import Routed, accept
from service.dedupe import remember
from service.gaps import GapGuard, StallWatch
from service.microbatch import MicroBatcher
from service.records import RawMessage
from service.route import Outgoing

log = logging.getLogger("claimwatch.agent")


def raw_message(event: Any) -> RawMessage:
    message = event.message
    return RawMessage(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp_ms=int((message.timestamp or time.time()) * 1000),
        key=message.key,
        value=message.value,
    )


# A stopping worker lets the batch in flight finish for this long, then hands it back.
FINISH_IN_FLIGHT_S = 10.0
# Retrying a batch whose outputs failed to publish: first wait, and the cap on doubling.
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 10.0
# A partition read past what reached the agent and quiet this long is read again.
QUIET_S = 5.0
WATCH_EVERY_S = 1.0

CommitEvents = Callable[[Sequence[Any]], Awaitable[None]]


def register_agent(worker: Worker) -> None:
    settings = worker.settings

    @worker.app.agent(worker.articles, name="claimwatch-score", concurrency=1)
    async def score_articles(stream: Any) -> None:
        RereadAfterSeek.install(worker)
        # Offsets are ours: committed only once a batch's outputs are on the broker.
        manual = stream.noack()
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
                start = consumer._committed_offset.get(message.tp)
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


async def seek_partition(consumer: Any, tp: Any, offset: int) -> None:
    """Make the consumer read ``tp`` again from ``offset``.

    Through Faust's ``seek_wait``, which seeks in the consumer's own thread. Faust's
    ``seek`` calls aiokafka from the agent's thread instead, where it can race the
    fetcher handing out records in the other thread: the fetcher then moves the
    position back past the records it hands out and the seek is lost.
    """
    await consumer.seek_wait({tp: offset})


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
        expected = guard.next_offset(tp, generation, consumer._committed_offset.get(tp))
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

    async def process_until_published(self, events: list[Any]) -> None:
        delay = RETRY_FIRST_S
        while True:
            events = self.current(events)
            if not events:
                return
            try:
                await process_events(self.worker, events, self.commit)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                self.worker.metrics.batch_failed()
                if self.stopping:
                    log.exception("publishing a batch of %d failed while stopping", len(events))
                    raise
                log.exception(
                    "publishing a batch of %d failed; retrying in %.1f s", len(events), delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)

    def current(self, events: Sequence[Any]) -> list[Any]:
        """The events read in the consumer's current generation; counts the rest handed back."""
        generation = self.worker.app.consumer_generation_id
        kept = [event for event in events if event.message.generation_id == generation]
        if len(kept) < len(events):
            self.worker.metrics.handed_back(len(events) - len(kept))
            log.info("handing back %d messages read before a rebalance", len(events) - len(kept))
        return kept

    async def commit(self, events: Sequence[Any]) -> None:
        """Commit past ``events``, whose outputs the broker has acknowledged.

        Only events of the current generation: a partition that moved meanwhile is
        read again by its new owner from its committed offset.
        """
        offsets: dict[Any, int] = {}
        for event in self.current(events):  # in offset order per partition (GapGuard)
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


async def process_events(worker: Worker, events: Sequence[Any], commit: CommitEvents) -> None:
    """Score one batch of events, publish every outcome, then commit their offsets."""
    settings = worker.settings
    messages = [raw_message(event) for event in events]
    accepted = accept(messages, worker.seen, settings.max_text_bytes)
    model = worker.holder.current
    routed: Routed = await worker.scorer.score_and_route(
        accepted, model, settings.threshold, settings.topics
    )
    await publish(worker, routed.outgoing)
    _update_tables(worker, events, routed)
    await commit(events)  # exactly-once: commits the transactions holding the outputs
    _observe(worker, messages, accepted.duplicates, routed)


def transactional_id(worker: Worker, source_partition: int) -> str:
    """The Faust transaction that commits the offsets of one input partition."""
    app = worker.app
    group = app.assignor.group_for_topic(worker.settings.topic_articles)
    return f"{app.conf.id}-{group}-{source_partition}"


async def publish(worker: Worker, outgoing: Sequence[Outgoing]) -> None:
    """Send every output and wait until the broker has acknowledged each (acks=all).

    Straight through Faust's producer, not ``topic.send``: Faust's per-message
    bookkeeping there (pending and future messages, callbacks, send sensors) cost
    more CPU per article than producing itself.

    Exactly-once: each output goes into the transaction of its input's partition.
    ``topic.send`` could not do this anyway: it derives the transaction from the
    *output* partition, which it only knows for topics the consumer subscribes to.
    The offset commit of the batch then commits these transactions with the offsets.
    """
    producer = worker.app.producer
    exactly_once = worker.app.in_transaction
    pending = [
        await producer.send(
            out.topic,
            out.key,
            out.value,
            None,
            None,
            None,
            transactional_id=transactional_id(worker, out.source_partition)
            if exactly_once
            else None,
        )
        for out in outgoing
    ]
    await asyncio.gather(*pending)


async def commit_offsets(consumer: Any, offsets: dict[Any, int]) -> None:
    """Commit ``offsets`` (partition → next offset to read) through Faust's consumer.

    Faust's ``_commit_offsets`` flushes the producer first (at-least-once) or
    commits the partitions' transactions with the offsets (exactly-once), and drops
    partitions no longer assigned. One commit at a time, like Faust's own.
    """
    while consumer._commit_fut is not None:
        await consumer.maybe_wait_for_commit_to_finish()
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    consumer._commit_fut = done
    try:
        await consumer._commit_offsets(offsets)
    finally:
        if consumer._commit_fut is done:
            consumer._commit_fut = None
        done.set_result(None)


def _update_tables(worker: Worker, events: Sequence[Any], routed: Routed) -> None:
    """Remember decided articles and count them per source, in each event's partition.

    Every table write is a changelog message, so the per-source counts are summed
    over the batch first: one write per (partition, source), not one per article.
    """
    by_offset = {(e.message.partition, e.message.offset): e for e in events}
    counts: dict[tuple[int, str], list[Any]] = {}  # -> [scored, flagged, an event]
    for item, decision in zip(routed.decided, routed.decisions, strict=True):
        source = decision["source"]
        event = by_offset[(source["partition"], source["offset"])]
        with _event_context(event):
            remember([item], worker.seen)
        name = str(item.article.get("source") or "unknown")
        count = counts.setdefault((source["partition"], name), [0, 0, event])
        count[0] += 1
        count[1] += int(decision["flagged"])
    for (_partition, name), (scored, flagged, event) in counts.items():
        with _event_context(event):
            worker.source_scored[name] += scored
            if flagged:
                worker.source_flagged[name] += flagged


@contextlib.contextmanager
def _event_context(event: Any) -> Iterator[None]:
    """Make ``event`` Faust's current event: table writes go to its partition's changelog."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def _observe(
    worker: Worker, messages: list[RawMessage], duplicates: list[Any], routed: Routed
) -> None:
    metrics = worker.metrics
    now_ms = time.time() * 1000
    metrics.article_consumed(len(messages))
    if duplicates:
        metrics.duplicate_skipped(len(duplicates))
    for letter in routed.rejected:
        metrics.dead_letter(letter.code)
        log.warning(
            "dead-lettered %s",
            letter.code,
            extra={
                "code": letter.code,
                "partition": letter.message.partition,
                "offset": letter.message.offset,
            },
        )
    outcomes: Counter[tuple[str, str]] = Counter()
    for decision in routed.decisions:
        outcomes["flagged" if decision["flagged"] else "passed", decision["tier"]] += 1
        metrics.observe_latency(max(0.0, (now_ms - decision["received_at_ms"]) / 1000))
        if decision["flagged"]:
            log.debug(
                "flagged",
                extra={
                    "article_id": decision["article_id"],
                    "offset": decision["source"]["offset"],
                    "partition": decision["source"]["partition"],
                    "score": decision["score"],
                    "model_version": decision["model"]["version"],
                },
            )
    for (outcome, tier), count in outcomes.items():
        metrics.decision(outcome, tier, count)
    metrics.observe_scores(d["score"] for d in routed.decisions)
    if routed.decisions:
        metrics.observe_batch(len(routed.decisions), routed.scoring_seconds)

"""The Faust agent: wires the stages of :mod:`service.batch` to Kafka.

Per micro-batch: decode/validate/dedupe on the loop → score and route in a thread
(heartbeats and rebalances never wait for the model) → produce every output and
wait for the broker's acknowledgements → only then remember the articles and let
Faust ack the batch, so offsets are committed only for accounted-for messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from faust.streams import _current_event

from service.app import Worker
from service.batch import Routed, accept, score_and_route
from service.dedupe import remember
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


def register_agent(worker: Worker) -> None:
    settings = worker.settings

    @worker.app.agent(worker.articles, name="claimwatch-score", concurrency=1)
    async def score_articles(stream: Any) -> None:
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
            await process_events(worker, events)


async def process_events(worker: Worker, events: Sequence[Any]) -> None:
    """Score one batch of events and publish every outcome before they are acked."""
    settings, metrics = worker.settings, worker.metrics
    messages = [raw_message(event) for event in events]
    metrics.article_consumed(len(messages))
    accepted = accept(messages, worker.seen, settings.max_text_bytes)
    model = worker.holder.current
    loop = asyncio.get_running_loop()
    routed: Routed = await loop.run_in_executor(
        worker.executor, score_and_route, accepted, model, settings.threshold, settings.topics
    )
    if worker.app.in_transaction:
        await publish_in_transactions(worker, routed.outgoing, events)
    else:
        pending = [
            await worker.outputs[out.topic].send(key=out.key, value=out.value)
            for out in routed.outgoing
        ]
        await asyncio.gather(*pending)  # producer acks=all: the broker has every output
    _update_tables(worker, events, routed)
    _observe(worker, messages, accepted.duplicates, routed)


def transactional_id(worker: Worker, source_partition: int) -> str:
    """The Faust transaction that commits the offsets of one input partition."""
    app = worker.app
    group = app.assignor.group_for_topic(worker.settings.topic_articles)
    return f"{app.conf.id}-{group}-{source_partition}"


async def publish_in_transactions(
    worker: Worker, outgoing: Sequence[Outgoing], events: Sequence[Any]
) -> None:
    """Exactly-once: each output goes into the transaction of its input's partition.

    Faust's own ``topic.send`` cannot do this for our outputs: it derives the
    transaction from the *output* partition, which it only knows for topics the
    consumer subscribes to, so our outputs were sent outside any transaction. And
    the outputs and the acks of their events must not be split by an offset commit
    (it would commit the outputs with the older offsets, duplicating them after a
    crash), so commits wait while both happen.
    """
    producer = worker.app.producer
    async with commits_held(worker.app.consumer):
        pending = [
            await producer.send(
                out.topic,
                out.key,
                out.value,
                None,
                None,
                None,
                transactional_id=transactional_id(worker, out.source_partition),
            )
            for out in outgoing
        ]
        await asyncio.gather(*pending)
        for event in events:
            event.ack()  # offsets committable now, in the same transaction as the outputs


@contextlib.asynccontextmanager
async def commits_held(consumer: Any) -> AsyncIterator[None]:
    """No offset commit starts inside the block; one that tries meanwhile is skipped
    (Faust's next periodic commit picks the offsets up)."""
    while consumer._commit_fut is not None:  # a commit in flight: let it finish first
        await consumer.maybe_wait_for_commit_to_finish()
    held: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    consumer._commit_fut = held
    try:
        yield
    finally:
        if consumer._commit_fut is held:
            consumer._commit_fut = None
        held.set_result(None)


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
    for decision in routed.decisions:
        metrics.decision("flagged" if decision["flagged"] else "passed", decision["tier"])
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
    metrics.observe_scores(d["score"] for d in routed.decisions)
    if routed.decisions:
        metrics.observe_batch(len(routed.decisions), routed.scoring_seconds)

"""The Faust agent: wires the stages of :mod:`service.batch` to Kafka.

Per micro-batch: decode/validate/dedupe on the loop → score and route in a thread
(heartbeats and rebalances never wait for the model) → produce every output and
wait for the broker's acknowledgements → only then remember the articles and let
Faust ack the batch, so offsets are committed only for accounted-for messages.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Sequence
from typing import Any

from faust.streams import _current_event

from service.app import Worker
from service.batch import Routed, accept, score_and_route
from service.dedupe import remember
from service.records import RawMessage

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
    pending = [
        await worker.outputs[out.topic].send(key=out.key, value=out.value)
        for out in routed.outgoing
    ]
    await asyncio.gather(*pending)  # producer acks=all: the broker has every output
    _update_tables(worker, events, routed)
    _observe(worker, messages, accepted.duplicates, routed)


def _update_tables(worker: Worker, events: Sequence[Any], routed: Routed) -> None:
    """Remember decided articles and count them per source, in each event's partition."""
    by_offset = {(e.message.partition, e.message.offset): e for e in events}
    for item, decision in zip(routed.decided, routed.decisions, strict=True):
        source = decision["source"]
        event = by_offset[(source["partition"], source["offset"])]
        token = _current_event.set(weakref.ref(event))
        try:
            remember([item], worker.seen)
            name = str(item.article.get("source") or "unknown")
            worker.source_scored[name] += 1
            if decision["flagged"]:
                worker.source_flagged[name] += 1
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
            log.info(
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

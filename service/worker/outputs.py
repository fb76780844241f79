"""One batch's outputs: score, publish and wait for the acks, remember, commit, count.

:func:`process_events` is the unit the agent's batch loop retries: it either gets
every output of a batch on the broker and commits the batch's offsets, or raises
with nothing committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from service.pipeline.batch import Routed, accept
from service.pipeline.dedupe import Window, remember
from service.pipeline.records import RawMessage
from service.pipeline.route import Outgoing
from service.worker.faust_fixes import event_context, no_current_event, restart_transaction
from service.worker.state import Worker

log = logging.getLogger("claimwatch.agent")

CommitEvents = Callable[[Sequence[Any]], Awaitable[None]]


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


async def process_events(worker: Worker, events: Sequence[Any], commit: CommitEvents) -> None:
    """Score one batch of events, publish every outcome, then commit their offsets."""
    settings = worker.settings
    messages = [raw_message(event) for event in events]
    window = Window(settings.dedupe_window_s)
    with no_current_event():  # look each id up in every partition (faust_fixes 8)
        accepted = accept(
            messages,
            worker.seen,
            settings.max_text_bytes,
            window,
            time.time(),
            exactly_once=worker.app.in_transaction,
        )
    model = worker.holder.current
    routed: Routed = await worker.scorer.score_and_route(
        accepted, model, settings.threshold, settings.topics, settings.supported_languages
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


async def abandon_transactions(worker: Worker, events: Sequence[Any]) -> None:
    """Exactly-once: abort the transactions of a failed batch's input partitions, so
    that what got through of its outputs is not committed with the retry's.

    The batch's dedupe entries written before the failure name the batch's own
    messages, so the retry scores those articles again (:mod:`service.pipeline.dedupe`).
    """
    if not worker.app.in_transaction:
        return
    for partition in sorted({event.message.partition for event in events}):
        await restart_transaction(worker.app.producer, transactional_id(worker, partition))


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


def _update_tables(worker: Worker, events: Sequence[Any], routed: Routed) -> None:
    """Remember decided articles and count them per source, in each event's partition.

    Every table write is a changelog message, so the per-source counts are summed
    over the batch first: one write per (partition, source), not one per article.
    """
    by_offset = {(e.message.partition, e.message.offset): e for e in events}
    decided_at = time.time()
    counts: dict[tuple[int, str], list[Any]] = {}  # -> [scored, flagged, an event]
    for item, decision in zip(routed.decided, routed.decisions, strict=True):
        source = decision["source"]
        event = by_offset[(source["partition"], source["offset"])]
        with event_context(event):
            remember([item], worker.seen, decided_at, source["partition"], source["offset"])
        if decision.get("skipped"):
            continue  # not scored: the per-source rates are of what the model read
        name = str(item.article.get("source") or "unknown")
        count = counts.setdefault((source["partition"], name), [0, 0, event])
        count[0] += 1
        count[1] += int(decision["flagged"])
    for (_partition, name), (scored, flagged, event) in counts.items():
        with event_context(event):
            worker.source_scored[name] += scored
            if flagged:
                worker.source_flagged[name] += flagged


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
    by_language: Counter[tuple[str, str]] = Counter()
    for decision in routed.decisions:
        metrics.observe_latency(max(0.0, (now_ms - decision["received_at_ms"]) / 1000))
        if decision.get("skipped"):
            by_language[decision["language"], "skipped"] += 1
            continue
        outcome = "flagged" if decision["flagged"] else "passed"
        outcomes[outcome, decision["tier"]] += 1
        by_language[decision["language"], outcome] += 1
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
    for (language, outcome), count in by_language.items():
        metrics.language_decision(language, outcome, count)
    scores = [d["score"] for d in routed.decisions if not d.get("skipped")]
    metrics.observe_scores(scores)
    if scores:
        metrics.observe_batch(len(scores), routed.scoring_seconds)

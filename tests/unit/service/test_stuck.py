"""A worker whose batch keeps failing says so: /readyz, the gauge, the batch loop."""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace
from typing import Any

import pytest

from service.settings import Settings
from service.worker import agent
from service.worker.agent import BatchLoop
from service.worker.metrics import ClaimwatchMetrics
from service.worker.microbatch import MicroBatcher
from service.worker.stuck import FailingBatch
from service.worker.undecodable import UndecodableBatches
from service.worker.web import readiness


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fake_worker(failing: FailingBatch, stuck_batch_s: float = 60.0) -> Any:
    tp = SimpleNamespace(topic="articles", partition=0)
    client = SimpleNamespace(cluster=SimpleNamespace(brokers=lambda: {1}))
    consumer = SimpleNamespace(
        assignment=lambda: [tp],
        _thread=SimpleNamespace(_ensure_consumer=lambda: SimpleNamespace(_client=client)),
        consumer_generation_id=3,
        _committed_offset={},
    )
    metrics = ClaimwatchMetrics()
    return SimpleNamespace(
        settings=Settings(stuck_batch_s=stuck_batch_s),
        undecodable=UndecodableBatches(metrics),
        app=SimpleNamespace(consumer=consumer, rebalancing=False, consumer_generation_id=3),
        holder=SimpleNamespace(current=SimpleNamespace(info=lambda: {}), last_error=None),
        failing=failing,
        metrics=metrics,
    )


def test_failing_batch_counts_from_the_first_failure_until_settled() -> None:
    clock = Clock()
    failing = FailingBatch(clock)
    assert failing.seconds() == 0.0 and not failing.stuck(60)
    failing.failed()
    clock.now += 30
    failing.failed()  # a retry failing again does not restart the count
    clock.now += 31
    assert failing.seconds() == 61.0
    assert failing.stuck(60) and not failing.stuck(61)
    failing.settled()
    assert failing.seconds() == 0.0 and not failing.stuck(0)


def test_readiness_turns_false_once_a_batch_fails_past_the_bound() -> None:
    clock = Clock()
    worker = fake_worker(FailingBatch(clock), stuck_batch_s=60)
    ok, body = readiness(worker)
    assert ok, body["problems"]
    worker.failing.failed()
    clock.now += 59
    ok, body = readiness(worker)
    assert ok and body["batch_failing_s"] == 59.0
    clock.now += 2
    ok, body = readiness(worker)
    assert not ok
    assert body["status"] == "not_ready"
    assert body["problems"] == [
        "a batch has failed to publish for 61 s, over the 60 s of CLAIMWATCH_STUCK_BATCH_S:"
        " its partitions make no progress (see the worker log)"
    ]
    worker.failing.settled()
    assert readiness(worker)[0]


def test_the_gauge_reads_how_long_the_batch_has_failed() -> None:
    clock = Clock()
    failing = FailingBatch(clock)
    metrics = ClaimwatchMetrics()
    metrics.watch_failing_batch(failing.seconds)
    assert metrics.registry.get_sample_value("claimwatch_batch_failing_seconds") == 0.0
    failing.failed()
    clock.now += 42.5
    assert metrics.registry.get_sample_value("claimwatch_batch_failing_seconds") == 42.5


def test_the_batch_loop_marks_failures_and_clears_them_once_published(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failing = FailingBatch()
    worker = fake_worker(failing)
    seen: list[float | None] = []
    attempts = iter([RuntimeError("publish failed"), RuntimeError("again"), None])

    async def process_events(_worker: Any, events: Any, commit: Any) -> None:
        seen.append(failing.since)
        error = next(attempts)
        if error is not None:
            raise error

    monkeypatch.setattr(agent, "process_events", process_events)
    monkeypatch.setattr(agent, "RETRY_FIRST_S", 0.0)
    event = SimpleNamespace(
        message=SimpleNamespace(generation_id=3, tp=("articles", 0), partition=0, offset=0)
    )

    async def run_one_batch() -> None:
        batches: MicroBatcher[Any] = MicroBatcher(size=1, within_s=0.01)
        loop = BatchLoop(worker, batches)
        task = asyncio.ensure_future(loop.run())
        await batches.put(event)
        for _ in range(1000):  # a deadline in event-loop turns, not in seconds
            if len(seen) == 3 and loop.in_flight is None:
                break
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run_one_batch())
    assert len(seen) == 3
    assert seen[0] is None  # first attempt: nothing failing yet
    assert seen[1] is not None and seen[2] == seen[1]  # counted from the first failure
    assert failing.since is None  # published: nothing failing any more

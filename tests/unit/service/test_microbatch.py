"""The micro-batcher and the batch loop of the agent, without Kafka.

The loop's collaborators (Faust's stream and consumer, the publishing step) are
replaced by small fakes: what is tested is when events are processed, committed,
retried and handed back.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from service.worker import agent
from service.worker.agent import BatchLoop
from service.worker.microbatch import MicroBatcher
from service.worker.stuck import FailingBatch


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 10))


def test_a_full_batch_comes_out_at_once_in_order() -> None:
    async def scenario() -> list[int]:
        batcher: MicroBatcher[int] = MicroBatcher(4, within_s=5.0)
        for n in range(4):
            await batcher.put(n)
        return await batcher.next_batch()

    assert run(scenario()) == [0, 1, 2, 3]


def test_a_partial_batch_comes_out_after_the_wait() -> None:
    async def scenario() -> tuple[list[int], float]:
        batcher: MicroBatcher[int] = MicroBatcher(64, within_s=0.05)
        await batcher.put(7)
        await batcher.put(8)
        loop = asyncio.get_running_loop()
        started = loop.time()
        batch = await batcher.next_batch()
        return batch, loop.time() - started

    batch, waited = run(scenario())
    assert batch == [7, 8]
    assert waited >= 0.04


def test_items_arriving_during_the_wait_join_the_batch() -> None:
    async def scenario() -> list[int]:
        batcher: MicroBatcher[int] = MicroBatcher(3, within_s=5.0)

        async def late() -> None:
            for n in (1, 2):
                await asyncio.sleep(0.01)
                await batcher.put(n)

        await batcher.put(0)
        feeder = asyncio.ensure_future(late())
        batch = await batcher.next_batch()
        await feeder
        return batch

    assert run(scenario()) == [0, 1, 2]


def test_put_waits_while_a_whole_batch_is_queued() -> None:
    async def scenario() -> tuple[bool, bool]:
        batcher: MicroBatcher[int] = MicroBatcher(2, within_s=1.0)
        await batcher.put(0)
        await batcher.put(1)
        third = asyncio.ensure_future(batcher.put(2))
        await asyncio.sleep(0.02)
        blocked = not third.done()
        await batcher.next_batch()
        await asyncio.sleep(0)
        return blocked, third.done()

    assert run(scenario()) == (True, True)


@pytest.mark.parametrize("size, within", [(0, 1.0), (4, 0.0)])
def test_nonsense_settings_are_refused(size: int, within: float) -> None:
    with pytest.raises(ValueError):
        MicroBatcher(size, within)


# -- the batch loop ------------------------------------------------------------


@dataclass
class Message:
    generation_id: int
    offset: int
    tp: str = "articles:0"

    @property
    def partition(self) -> int:
        return int(self.tp.rsplit(":", 1)[1])


@dataclass
class Event:
    name: str
    message: Message


@dataclass
class FakeConsumer:
    """What the loop reads of Faust's consumer: the offsets committed so far."""

    _committed_offset: dict[str, int] = field(default_factory=dict)


@dataclass
class FakeApp:
    consumer_generation_id: int = 1
    consumer: FakeConsumer = field(default_factory=FakeConsumer)
    in_transaction: bool = False


class FakeMetrics:
    def __init__(self) -> None:
        self.failures = 0
        self.handed_back_n = 0

    def batch_failed(self) -> None:
        self.failures += 1

    def handed_back(self, n: int) -> None:
        self.handed_back_n += n


@dataclass
class FakeWorker:
    app: FakeApp = field(default_factory=FakeApp)
    metrics: FakeMetrics = field(default_factory=FakeMetrics)
    failing: FailingBatch = field(default_factory=FailingBatch)


class Committed:
    """Stands in for ``agent.commit_offsets``: records what would be committed."""

    def __init__(self) -> None:
        self.offsets: dict[str, int] = {}

    async def __call__(self, consumer: Any, offsets: dict[str, int]) -> None:
        for tp, offset in offsets.items():
            assert offset > self.offsets.get(tp, 0), "commits only move forward"
            self.offsets[tp] = offset
        consumer._committed_offset.update(offsets)


class Publisher:
    """Stands in for ``process_events``: fails ``failures`` times, can hang, then commits."""

    def __init__(self, failures: int = 0, hang: asyncio.Event | None = None) -> None:
        self.failures = failures
        self.hang = hang
        self.calls: list[list[str]] = []

    async def __call__(self, worker: Any, events: Any, commit: Any) -> None:
        self.calls.append([e.name for e in events])
        if self.hang is not None:
            await self.hang.wait()
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker unreachable")
        await commit(events)


def events(*names: str, generation: int = 1, first: int = 0) -> list[Event]:
    return [Event(name, Message(generation, first + n)) for n, name in enumerate(names)]


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agent, "RETRY_FIRST_S", 0.001)
    monkeypatch.setattr(agent, "FINISH_IN_FLIGHT_S", 0.2)


def start(
    publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> tuple[FakeWorker, Committed, MicroBatcher[Any], BatchLoop]:
    committed = Committed()
    monkeypatch.setattr(agent, "process_events", publisher)
    monkeypatch.setattr(agent, "commit_offsets", committed)
    worker = FakeWorker()
    batches: MicroBatcher[Any] = MicroBatcher(2, within_s=0.01)
    return worker, committed, batches, BatchLoop(worker, batches)  # type: ignore[arg-type]


async def publishing(
    loop: BatchLoop, batches: MicroBatcher[Any], publisher: Publisher, *names: str
) -> asyncio.Future[None]:
    """Start the loop, queue events named ``names``, return once publishing began."""
    task = asyncio.ensure_future(loop.run())
    for event in events(*names):
        await batches.put(event)
    while not publisher.calls:
        await asyncio.sleep(0.001)
    return task


def test_a_failed_batch_stays_uncommitted_and_is_retried_until_published(
    monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    publisher = Publisher(failures=2)
    worker, committed, batches, loop = start(publisher, monkeypatch)

    async def scenario() -> None:
        task = asyncio.ensure_future(loop.run())
        for event in events("a", "b"):
            await batches.put(event)
        while not committed.offsets:
            await asyncio.sleep(0.001)
        await loop.stop(task)

    run(scenario())
    assert publisher.calls == [["a", "b"]] * 3
    assert committed.offsets == {"articles:0": 2}
    assert worker.metrics.failures == 2
    assert worker.failing.since is None  # published: no longer failing


def test_events_from_an_earlier_generation_are_handed_back_not_processed(
    monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    publisher = Publisher()
    worker, committed, batches, loop = start(publisher, monkeypatch)
    worker.app.consumer_generation_id = 2

    async def scenario() -> None:
        task = asyncio.ensure_future(loop.run())
        await batches.put(events("old")[0])
        await batches.put(events("new", generation=2, first=1)[0])
        while not committed.offsets:
            await asyncio.sleep(0.001)
        await loop.stop(task)

    run(scenario())
    assert publisher.calls == [["new"]]
    assert committed.offsets == {"articles:0": 2}
    assert worker.metrics.handed_back_n == 1


def test_a_rebalance_during_publishing_leaves_the_batch_uncommitted(
    monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    release = asyncio.Event()
    publisher = Publisher(hang=release)
    worker, committed, batches, loop = start(publisher, monkeypatch)

    async def scenario() -> None:
        task = await publishing(loop, batches, publisher, "a", "b")
        worker.app.consumer_generation_id = 2  # partitions reassigned meanwhile
        release.set()
        while loop.in_flight is not None:
            await asyncio.sleep(0.001)
        await loop.stop(task)

    run(scenario())
    assert committed.offsets == {}
    assert worker.metrics.handed_back_n == 2


def test_under_exactly_once_a_batch_handed_back_after_publishing_aborts_its_transactions(
    monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    # Its outputs sit in open transactions; its messages are read and scored again,
    # so those transactions must never commit (one duplicate in the drill before).
    release = asyncio.Event()
    publisher = Publisher(hang=release)
    worker, committed, batches, loop = start(publisher, monkeypatch)
    worker.app.in_transaction = True
    abandoned: list[list[str]] = []

    async def abandon(worker: Any, events: Any) -> None:
        abandoned.append([event.name for event in events])

    monkeypatch.setattr(agent, "abandon_transactions", abandon)

    async def scenario() -> None:
        task = await publishing(loop, batches, publisher, "a", "b")
        worker.app.consumer_generation_id = 2
        release.set()
        while loop.in_flight is not None:
            await asyncio.sleep(0.001)
        await loop.stop(task)

    run(scenario())
    assert abandoned == [["a", "b"]]
    assert committed.offsets == {}


class CommitsOnePartitionThenFails(Publisher):
    """The first commit gets through for partition 0 and fails for partition 1 (a
    fence, a broker lost between the two transactions), as a real commit can."""

    async def __call__(self, worker: Any, events: Any, commit: Any) -> None:
        self.calls.append([e.name for e in events])
        if len(self.calls) == 1:
            await commit([e for e in events if e.message.tp == "articles:0"])
            raise ConnectionError("the second transaction did not commit")
        await commit(events)


def test_a_retry_after_a_partial_commit_publishes_only_what_did_not_commit(
    monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    publisher = CommitsOnePartitionThenFails()
    _worker, committed, _, loop = start(publisher, monkeypatch)
    batch = [
        Event("p0", Message(1, 0, "articles:0")),
        Event("p1", Message(1, 0, "articles:1")),
    ]
    run(loop.process_until_published(batch))
    assert publisher.calls == [["p0", "p1"], ["p1"]]  # p0 is not published twice
    assert committed.offsets == {"articles:0": 1, "articles:1": 1}


def test_stopping_lets_the_batch_in_flight_finish(
    monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    release = asyncio.Event()
    publisher = Publisher(hang=release)
    worker, committed, batches, loop = start(publisher, monkeypatch)

    async def scenario() -> None:
        task = await publishing(loop, batches, publisher, "a", "b")
        asyncio.get_running_loop().call_later(0.05, release.set)
        await loop.stop(task)
        assert task.done()

    run(scenario())
    assert committed.offsets == {"articles:0": 2}
    assert worker.metrics.handed_back_n == 0


def test_stopping_hands_back_a_batch_that_does_not_finish_in_time(
    monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    publisher = Publisher(hang=asyncio.Event())  # never released
    worker, committed, batches, loop = start(publisher, monkeypatch)

    async def scenario() -> None:
        task = await publishing(loop, batches, publisher, "a", "b", "c")
        await loop.stop(task)
        assert task.done()

    run(scenario())
    assert committed.offsets == {}
    assert worker.metrics.handed_back_n == 3  # the batch in flight and the one queued


def test_an_attempt_that_neither_finishes_nor_fails_counts_as_failing_once_past_the_bound(
    monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    # a commit waiting on the broker for ever raises nothing: /readyz must still see it
    monkeypatch.setattr(agent, "HUNG_AFTER_S", 0.05)
    release = asyncio.Event()
    publisher = Publisher(hang=release)
    worker, committed, batches, loop = start(publisher, monkeypatch)
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        task = await publishing(loop, batches, publisher, "a", "b")
        await asyncio.sleep(0.01)
        seen["before the bound"] = worker.failing.since
        await asyncio.sleep(0.1)
        seen["past the bound"] = worker.failing.since
        release.set()
        while not committed.offsets:
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.01)
        seen["finished"] = worker.failing.since
        await loop.stop(task)

    run(scenario())
    assert seen["before the bound"] is None
    assert seen["past the bound"] is not None
    assert seen["finished"] is None
    assert worker.metrics.failures == 0  # nothing raised: not a failed attempt
    assert committed.offsets == {"articles:0": 2}

"""The agent's stall watchdog, with Faust's consumer replaced by a small fake.

What is tested is the watchdog's decision and what it asks of the consumer: a
partition read past what reached the agent and quiet long enough is sought back,
in the consumer's thread (``seek_wait``), to the offset the gap guard expects.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pytest

from service.worker import stalls
from service.worker.gaps import GapGuard, StallWatch
from service.worker.microbatch import MicroBatcher


class TP(NamedTuple):
    topic: str
    partition: int


ARTICLES = "articles"
P2, P3, OTHER = TP(ARTICLES, 2), TP(ARTICLES, 3), TP("source-scored-changelog", 0)


@dataclass
class FakeConsumer:
    positions: dict[TP, int]
    _committed_offset: dict[TP, int]
    flow_active: bool = True
    sought: list[tuple[TP, int]] = field(default_factory=list)

    def assignment(self) -> set[TP]:
        return {*self.positions, OTHER}

    async def position(self, tp: TP) -> int:
        return self.positions[tp]

    async def seek_wait(self, partitions: dict[TP, int]) -> None:
        for tp, offset in partitions.items():
            self.sought.append((tp, offset))
            self.positions[tp] = offset

    def seek(self, tp: TP, offset: int) -> None:  # pragma: no cover - must not be used
        raise AssertionError("seek from the agent's thread races the consumer's fetcher")


@dataclass
class FakeApp:
    consumer: FakeConsumer
    consumer_generation_id: int = 3
    rebalancing: bool = False
    in_recovery: bool = False


@dataclass
class FakeSettings:
    topic_articles: str = ARTICLES


class FakeMetrics:
    def __init__(self) -> None:
        self.rereads = 0

    def partition_read_again(self) -> None:
        self.rereads += 1


@dataclass
class FakeWorker:
    app: FakeApp
    settings: FakeSettings = field(default_factory=FakeSettings)
    metrics: FakeMetrics = field(default_factory=FakeMetrics)


# What the broker holds from a quiet partition's expected offset on: the first
# message's offset (None: markers only); stalls.first_message asks a real broker
# (tests/integration/test_worker_stall.py).
BROKER_FIRST: dict[TP, int | Exception | None] = {}


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stalls, "WATCH_EVERY_S", 0.01)
    BROKER_FIRST.clear()

    def first_message(_settings: Any, topic: str, partition: int, offset: int, until: int) -> Any:
        found = BROKER_FIRST.get(TP(topic, partition), offset)
        if isinstance(found, Exception):
            raise found
        return found

    monkeypatch.setattr(stalls, "first_message", first_message)


def watch_for(seconds: float, worker: FakeWorker, guard: GapGuard, watch: StallWatch) -> None:
    batches: MicroBatcher[Any] = MicroBatcher(4, within_s=1.0)

    async def scenario() -> None:
        task = asyncio.ensure_future(
            stalls.watch_for_stalls(worker, guard, watch, batches)  # type: ignore[arg-type]
        )
        await asyncio.sleep(seconds)
        task.cancel()

    asyncio.run(scenario())


def test_a_partition_read_past_the_expected_offset_is_sought_back_once_quiet() -> None:
    # the stall seen after a takeover: read to the end, nothing delivered past 372
    consumer = FakeConsumer(positions={P2: 720, P3: 751}, _committed_offset={P2: 373, P3: 751})
    worker = FakeWorker(FakeApp(consumer))
    guard = GapGuard()
    watch_for(0.3, worker, guard, StallWatch(quiet_s=0.05))
    assert consumer.sought == [(P2, 373)]
    assert worker.metrics.rereads == 1
    assert guard.check(P2, 719, 3).admit is False  # read before the seek, delivered late
    assert guard.check(P2, 373, 3).admit


def test_the_offset_expected_is_the_guards_not_the_committed_one() -> None:
    consumer = FakeConsumer(positions={P2: 500}, _committed_offset={P2: 373})
    worker = FakeWorker(FakeApp(consumer))
    guard = GapGuard()
    for offset in range(373, 400):
        assert guard.check(P2, offset, 3, start=373).admit
    watch_for(0.3, worker, guard, StallWatch(quiet_s=0.05))
    assert consumer.sought == [(P2, 400)]


def test_nothing_is_sought_while_rebalancing_or_with_the_batch_queue_full() -> None:
    consumer = FakeConsumer(positions={P2: 720}, _committed_offset={P2: 373})
    worker = FakeWorker(FakeApp(consumer, rebalancing=True))
    watch_for(0.3, worker, GapGuard(), StallWatch(quiet_s=0.05))
    assert consumer.sought == []


def test_a_partition_delivered_to_its_position_is_left_alone() -> None:
    consumer = FakeConsumer(positions={P2: 720, P3: 10}, _committed_offset={P2: 720, P3: 10})
    worker = FakeWorker(FakeApp(consumer))
    watch_for(0.3, worker, GapGuard(), StallWatch(quiet_s=0.05))
    assert consumer.sought == []


def watched_quiet_partition() -> tuple[FakeConsumer, GapGuard]:
    """P2 read up to 720, nothing past 372 delivered: the watch reads it again."""
    consumer = FakeConsumer(positions={P2: 720}, _committed_offset={P2: 373})
    guard = GapGuard()
    watch_for(0.3, FakeWorker(FakeApp(consumer)), guard, StallWatch(quiet_s=0.05))
    return consumer, guard


def test_the_message_at_the_position_does_not_pass_a_message_the_broker_holds() -> None:
    # a fetch from the old position can deliver offset 720 before the seek back
    consumer, guard = watched_quiet_partition()
    assert consumer.sought == [(P2, 373)]
    assert guard.check(P2, 720, 3).admit is False
    assert guard.check(P2, 373, 3).admit


def test_past_markers_only_the_message_at_the_position_goes_on() -> None:
    BROKER_FIRST[P2] = None  # 373..719: transaction markers
    _consumer, guard = watched_quiet_partition()
    assert guard.check(P2, 721, 3).admit is False
    assert guard.check(P2, 720, 3).admit


def test_past_aborted_messages_the_first_committed_one_goes_on() -> None:
    BROKER_FIRST[P2] = 400
    _consumer, guard = watched_quiet_partition()
    assert guard.check(P2, 720, 3).admit is False
    assert guard.check(P2, 400, 3).admit


def test_a_look_that_fails_goes_on_only_at_the_expected_offset() -> None:
    BROKER_FIRST[P2] = TimeoutError("broker away")
    consumer, guard = watched_quiet_partition()
    assert consumer.sought == [(P2, 373)]
    assert guard.check(P2, 720, 3).admit is False
    assert guard.check(P2, 373, 3).admit

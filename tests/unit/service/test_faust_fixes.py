"""Each departure of service/worker/faust_fixes.py, shown on plain Faust and with the fix.

A "plain Faust" test that starts failing after a Faust upgrade means Faust changed
the behaviour we work around: the fix may no longer be needed. A "with the fix"
test that fails means the fix no longer does its job. No broker: real Faust and
aiokafka objects, not started; only what feeds them messages is made up.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from faust.stores import memory as faust_memory
from faust.stores import rocksdb as faust_rocksdb
from faust.tables import recovery as faust_recovery
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from service.settings import Settings
from service.worker import faust_fixes
from service.worker.app import build_app, new_metrics
from service.worker.faust_fixes import (
    ClaimwatchRecovery,
    CommitNotDone,
    FreshTransactions,
    OnlyThese,
    ReadCommittedConsumer,
    RereadAfterSeek,
    TransactionalSends,
    TransactionFenced,
    commit_offsets,
    delete_in_partition,
    event_context,
    manual_offsets,
    no_current_event,
    restart_transaction,
    rocksdb_store,
    seek_partition,
    sought_committed,
    wall_clock_windows,
)
from service.worker.model_reload import ModelHolder

ARTICLES = TP("articles", 0)


def plain_app(name: str = "fixes") -> faust.App:
    return faust.App(
        name,
        broker="kafka://127.0.0.1:1",
        store="memory://",
        autodiscover=False,
        web_enabled=False,
    )


def consumer_of(
    app: faust.App,
    cls: type = faust_aiokafka.Consumer,
    callback: Any = None,
    on_revoked: bool = False,
) -> Any:
    async def ignore(message: Any) -> None:
        return None

    async def revoked(tps: Any) -> None:
        return None

    return cls(
        app.transport,
        callback=callback or ignore,
        on_partitions_revoked=revoked if on_revoked else lambda revoked: None,
        on_partitions_assigned=lambda assigned: None,
    )


# 1. Isolation level


def isolation_level(cls: type) -> str:
    async def build() -> str:
        app = plain_app()  # at-least-once, Faust's default
        client = consumer_of(app, cls)._new_consumer_thread()._create_worker_consumer(app.transport)
        level = str(client._isolation_level)
        await client.stop()
        return level

    return asyncio.run(build())


def test_plain_faust_reads_uncommitted_outside_exactly_once() -> None:
    assert isolation_level(faust_aiokafka.Consumer) == "read_uncommitted"


def test_with_the_fix_the_worker_reads_committed() -> None:
    assert isolation_level(ReadCommittedConsumer) == "read_committed"


class NotFetchedYet:
    """An aiokafka consumer's answers for a changelog partition assigned but not yet
    fetched: no last stable offset known locally, while the broker knows its end."""

    def __init__(self, end: int) -> None:
        self.end = end

    def last_stable_offset(self, tp: Any) -> int | None:
        return None  # aiokafka: "not available until some messages are consumed"

    async def end_offsets(self, partitions: list[Any]) -> dict[Any, int]:
        return dict.fromkeys(partitions, self.end)


CHANGELOG = TP("fixes-seen-changelog", 3)


def recovery_highwaters(cls: type) -> dict[Any, Any]:
    """What ``highwaters`` answers an exactly-once app's recovery for a changelog
    partition holding 4 committed records that nobody has fetched yet."""

    async def run() -> dict[Any, Any]:
        app = faust.App(
            "fixes",
            broker="kafka://127.0.0.1:1",
            store="memory://",
            autodiscover=False,
            web_enabled=False,
            processing_guarantee="exactly_once",
        )
        app.in_worker = True  # Faust's transactions apply only in a worker
        assert app.in_transaction
        thread = consumer_of(app, cls)._new_consumer_thread()
        thread._consumer = NotFetchedYet(end=4)
        return dict(await thread._highwaters([CHANGELOG]))

    return asyncio.run(run())


def test_plain_faust_exactly_once_highwater_is_unknown_before_a_fetch() -> None:
    # Faust's recovery turns None into -1: "persisted offset 3 > highwater -1" crash.
    assert recovery_highwaters(faust_aiokafka.Consumer) == {CHANGELOG: None}


def test_with_the_fix_the_highwater_comes_from_the_broker() -> None:
    assert recovery_highwaters(ReadCommittedConsumer) == {CHANGELOG: 4}


class RefusesEmptyCommits:
    """Stands in for aiokafka's consumer: validates a commit as aiokafka does."""

    def __init__(self) -> None:
        self.commits: list[Any] = []

    async def commit(self, offsets: Any) -> None:
        from aiokafka.util import commit_structure_validate

        commit_structure_validate(offsets)  # aiokafka's own check: {} is a ValueError
        self.commits.append(offsets)


def commit_after_revocation(cls: type) -> str:
    """Commit offsets of a partition that a rebalance revoked after the agent's thread
    filtered them (the consumer thread's assignment no longer holds it)."""

    async def run() -> str:
        app = plain_app()
        thread = consumer_of(app, cls)._new_consumer_thread()
        thread._consumer = RefusesEmptyCommits()
        thread.assignment = lambda: set()  # type: ignore[method-assign]
        returned = await thread._commit({ARTICLES: 10})
        crashed = thread.crash_reason
        return f"crashed: {crashed!r}" if crashed else f"returned {returned}"

    return asyncio.run(run())


def test_plain_faust_commit_of_just_revoked_partitions_crashes_the_consumer_thread() -> None:
    assert commit_after_revocation(faust_aiokafka.Consumer) == "crashed: ValueError({})"


def test_with_the_fix_a_commit_of_just_revoked_partitions_commits_nothing() -> None:
    assert commit_after_revocation(ReadCommittedConsumer) == "returned False"


# 2. Read offsets


def delivered_after_seek_back(install_fix: bool) -> list[int]:
    """Offsets Faust's fetcher hands on after the read offset went to 10 and the
    partition was sought back to 5 (a fetch drained after the seek)."""

    async def run() -> list[int]:
        got: list[int] = []

        async def callback(message: Any) -> None:
            got.append(message.offset)

        consumer = consumer_of(plain_app(), callback=callback)
        consumer._commit_every = None
        consumer._read_offset[ARTICLES] = 10
        if install_fix:
            RereadAfterSeek.install(consumer, "articles")
        fetcher = SimpleNamespace(_stopped=asyncio.Event())

        async def getmany(timeout: float) -> Any:
            for offset in (5, 6):
                message = SimpleNamespace(offset=offset, topic="articles", key=None, value=None)
                yield ARTICLES, message
            fetcher._stopped.set()

        consumer.getmany = getmany
        await consumer._drain_messages(fetcher)
        return got

    return asyncio.run(run())


def test_plain_faust_drops_messages_below_the_read_offset() -> None:
    assert delivered_after_seek_back(install_fix=False) == []


def test_with_the_fix_messages_read_again_are_delivered() -> None:
    assert delivered_after_seek_back(install_fix=True) == [5, 6]


def test_the_fix_leaves_other_topics_read_offsets_alone() -> None:
    offsets = RereadAfterSeek("articles", {TP("articles", 0): 500, TP("changelog", 0): 7})
    offsets[TP("articles", 1)] = 900  # what Faust's fetcher does after each message
    assert offsets[TP("articles", 0)] is None
    assert offsets[TP("articles", 1)] is None
    assert offsets[TP("changelog", 0)] == 7
    assert offsets[TP("changelog", 1)] is None  # still a defaultdict for other topics


# 3. Offsets are ours


def test_plain_faust_streams_ack_and_ours_do_not(tmp_path: Path) -> None:
    app = plain_app()
    stream = app.stream(app.topic("articles"))
    assert stream.enable_acks is True
    assert manual_offsets(stream).enable_acks is False
    # and Faust's commit loop never commits the articles topic of the worker
    settings = Settings(home=tmp_path, data_dir=tmp_path / "data")
    worker = build_app(settings, ModelHolder(None), new_metrics(settings))
    assert worker.articles.acks is False
    assert not worker.app.topics.acks_enabled_for(settings.topic_articles)


class CommitRecorder:
    """Faust's consumer as far as commit_offsets uses it: the one-commit-at-a-time slot."""

    def __init__(self) -> None:
        self._commit_fut: Any = None
        self._committed_offset: dict[Any, int | None] = {}
        self.committed: list[dict[Any, int]] = []
        self.in_commit = 0
        self.most_at_once = 0

    async def maybe_wait_for_commit_to_finish(self) -> None:
        if self._commit_fut is not None:
            await asyncio.shield(self._commit_fut)

    async def _commit_offsets(self, offsets: dict[Any, int]) -> bool:
        self.in_commit += 1
        self.most_at_once = max(self.most_at_once, self.in_commit)
        await asyncio.sleep(0.01)
        self.committed.append(dict(offsets))
        self.in_commit -= 1
        return True


def faust_commit_that_did_not_happen(
    install_fix: bool,
    monkeypatch: pytest.MonkeyPatch,
    broker: Callable[[list[Any]], Awaitable[dict[Any, int | None]]] | None = None,
    assigned_after: set[Any] | None = None,
) -> tuple[str, Any]:
    """Faust's own ``_commit_offsets`` when its consumer thread's commit returns False
    (the group rebalanced meanwhile): what the caller sees, and what Faust then files
    as the partition's committed offset (it was 5 before). ``broker`` stands in for
    the group coordinator's answer; ``assigned_after``: the assignment once the
    commit has been refused."""

    async def run() -> tuple[str, Any]:
        app = plain_app()
        consumer = consumer_of(app)
        consumer._committed_offset[ARTICLES] = 5
        assignment = {ARTICLES}
        consumer.assignment = lambda: assignment  # type: ignore[method-assign]
        if broker is not None:
            monkeypatch.setattr(
                faust_fixes, "broker_committed", lambda _consumer, tps: broker(tps)
            )

        async def refused(offsets: Any) -> bool:
            if assigned_after is not None:
                assignment.clear()
                assignment.update(assigned_after)
            return False

        consumer._commit = refused  # type: ignore[method-assign]
        app.producer.flush = _no_flush  # type: ignore[method-assign]
        try:
            if install_fix:
                await commit_offsets(consumer, {ARTICLES: 9})
                outcome = "returned"
            else:
                outcome = f"returned {await consumer._commit_offsets({ARTICLES: 9})}"
        except CommitNotDone:
            outcome = "raised CommitNotDone"
        return outcome, consumer._committed_offset[ARTICLES]

    return asyncio.run(run())


async def _no_flush() -> None:
    return None


async def _broker_holds_7(tps: list[Any]) -> dict[Any, int | None]:
    return {tp: 7 for tp in tps}


async def _broker_away(tps: list[Any]) -> dict[Any, int | None]:
    raise ConnectionError("coordinator not available")


def test_plain_faust_files_offsets_it_did_not_commit_as_committed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert faust_commit_that_did_not_happen(False, monkeypatch) == ("returned False", 9)


def test_with_the_fix_a_commit_that_did_not_happen_files_the_brokers_offset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the partition stayed assigned: where it starts is what the group committed
    outcome = faust_commit_that_did_not_happen(True, monkeypatch, broker=_broker_holds_7)
    assert outcome == ("raised CommitNotDone", 7)


def test_a_refused_commit_of_a_revoked_partition_forgets_its_offset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outcome = faust_commit_that_did_not_happen(
        True, monkeypatch, broker=_broker_holds_7, assigned_after=set()
    )
    assert outcome == ("raised CommitNotDone", None)


def test_a_refused_commit_forgets_the_offset_when_the_broker_does_not_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outcome = faust_commit_that_did_not_happen(True, monkeypatch, broker=_broker_away)
    assert outcome == ("raised CommitNotDone", None)


def test_commits_run_one_at_a_time_and_free_the_slot() -> None:
    async def run() -> CommitRecorder:
        consumer = CommitRecorder()
        await asyncio.gather(
            commit_offsets(consumer, {ARTICLES: 3}), commit_offsets(consumer, {ARTICLES: 7})
        )
        return consumer

    consumer = asyncio.run(run())
    assert consumer.committed == [{ARTICLES: 3}, {ARTICLES: 7}]
    assert consumer.most_at_once == 1
    assert consumer._commit_fut is None


# 4. Seeking


class SeekRecorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, int, int]] = []

    def seek(self, tp: Any, offset: int) -> None:
        self.calls.append(("seek", tp, offset, threading.get_ident()))

    async def seek_wait(self, partitions: dict[Any, int]) -> None:
        for tp, offset in partitions.items():
            self.calls.append(("seek_wait", tp, offset, threading.get_ident()))


def test_plain_faust_seek_calls_aiokafka_from_the_callers_thread() -> None:
    consumer = consumer_of(plain_app())
    thread = consumer._new_consumer_thread()
    client = SeekRecorder()
    thread._consumer = client  # aiokafka's consumer, as the thread would hold it
    thread.seek(ARTICLES, 5)  # what Faust's Consumer.seek calls, synchronously
    assert client.calls == [("seek", ARTICLES, 5, threading.get_ident())]


def test_with_the_fix_seeks_go_through_seek_wait() -> None:
    consumer = SeekRecorder()
    asyncio.run(seek_partition(consumer, ARTICLES, 5))
    assert [call[:3] for call in consumer.calls] == [("seek_wait", ARTICLES, 5)]


# 7. Windowed tables


class _Message:
    partition = 0


class _Event:
    message = _Message()


def test_plain_faust_relative_to_now_files_writes_under_1970_in_an_event() -> None:
    table = plain_app().Table("counts", default=int).tumbling(60.0).relative_to_now()
    assert table.get_timestamp(_Event()) == 0


def test_with_the_fix_windows_follow_the_wall_clock() -> None:
    before = time.time()
    table = wall_clock_windows(plain_app(), "counts", 60.0)
    assert before <= table.get_timestamp(_Event()) <= time.time()


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
def test_the_worker_app_uses_the_read_committed_consumer(tmp_path: Path, guarantee: str) -> None:
    settings = Settings(processing_guarantee=guarantee, home=tmp_path, data_dir=tmp_path / "d")
    worker = build_app(settings, ModelHolder(None), new_metrics(settings))
    assert issubclass(worker.app.transport.Consumer, ReadCommittedConsumer)


# 8. Decode errors with their place --------------------------------------------------


def record_batches(corrupt_second: bool) -> bytes:
    """Two record batches of one partition, offsets 0-2 and 3-5; the second's CRC broken."""
    from aiokafka.record.default_records import DefaultRecordBatchBuilder

    batches = []
    for first in (0, 3):
        builder = DefaultRecordBatchBuilder(
            magic=2, compression_type=0, is_transactional=0, producer_id=-1,
            producer_epoch=-1, base_sequence=-1, batch_size=1 << 20,
        )  # fmt: skip
        for offset in range(3):
            builder.append(offset, timestamp=None, key=b"k", value=b"v%d" % (first + offset),
                           headers=[])  # fmt: skip
        data = bytearray(builder.build())
        data[0:8] = first.to_bytes(8, "big")  # the batch's base offset
        batches.append(data)
    if corrupt_second:
        batches[1][-1] ^= 0xFF  # a flipped bit in the last record: the CRC no longer matches
    return b"".join(batches)


def partition_records(cls: type, data: bytes, fetch_offset: int = 0) -> Any:
    from aiokafka.record.memory_records import MemoryRecords
    from aiokafka.structs import TopicPartition

    tp = TopicPartition("articles", 2)
    return cls(tp, MemoryRecords(data), [], fetch_offset, None, None, True, "read_committed")


def plain_partition_records() -> type:
    """aiokafka's own class (building a worker app puts the fix in its place)."""
    from service.worker.faust_fixes import _LocatedRecords

    return _LocatedRecords.__bases__[0]


def test_plain_aiokafka_raises_a_decode_error_that_names_no_offset() -> None:
    from aiokafka.errors import CorruptRecordException

    plain = plain_partition_records()

    assert [m.value for m in partition_records(plain, record_batches(False))] == [
        b"v0", b"v1", b"v2", b"v3", b"v4", b"v5",
    ]  # fmt: skip
    records = partition_records(plain, record_batches(True))
    assert [next(records).value for _ in range(3)] == [b"v0", b"v1", b"v2"]
    with pytest.raises(CorruptRecordException) as caught:
        next(records)
    assert "3" not in str(caught.value).replace("partition=2", "")


def test_with_the_fix_a_decode_error_names_its_partition_and_offset() -> None:
    from aiokafka.consumer import fetcher
    from aiokafka.errors import CorruptRecordException

    from service.worker.faust_fixes import UndecodableBatch, locate_decode_errors

    locate_decode_errors()
    located = fetcher.PartitionRecords
    assert located is not plain_partition_records()
    assert issubclass(located, plain_partition_records())
    # the good batch before the bad one is handed out, and the fetch ends there ...
    records = partition_records(located, record_batches(True))
    assert [record.value for record in records] == [b"v0", b"v1", b"v2"]
    assert records.next_fetch_offset == 3
    # ... so that the next fetch starts at the bad batch, which raises at once
    again = partition_records(located, record_batches(True), fetch_offset=3)
    with pytest.raises(UndecodableBatch) as caught:
        next(again)
    error = caught.value
    assert (error.tp.topic, error.tp.partition, error.offset) == ("articles", 2, 3)
    assert isinstance(error.cause, CorruptRecordException)
    assert str(error) == (
        "articles[2] at offset 3: CorruptRecordException: Invalid CRC -"
        " TopicPartition(topic='articles', partition=2)"
    )


# 9. Table reads across partitions


class _InPartition:
    def __init__(self, partition: int) -> None:
        self.message = SimpleNamespace(partition=partition, topic="articles")


def rocksdict_table(tmp_path: Path) -> Any:
    app = faust.App(
        "fix8", broker="kafka://127.0.0.1:1", store="memory://", datadir=str(tmp_path),
        autodiscover=False, web_enabled=False,
    )  # fmt: skip
    return app.Table("seen", default=None, store=rocksdb_store(), options={"driver": "rocksdict"})


def test_plain_faust_rocksdb_reads_only_the_current_events_partition(tmp_path: Path) -> None:
    store = rocksdict_table(tmp_path).data
    with event_context(_InPartition(0)):
        store["a"] = {"hash": "h"}
    with event_context(_InPartition(1)):
        assert store.get("a") is None
    with event_context(_InPartition(0)):
        assert store.get("a") == {"hash": "h"}


def test_with_the_fix_a_read_finds_the_key_in_any_partition(tmp_path: Path) -> None:
    store = rocksdict_table(tmp_path).data
    with event_context(_InPartition(0)):
        store["a"] = {"hash": "h"}
    with event_context(_InPartition(1)), no_current_event():
        assert store.get("a") == {"hash": "h"}


# 10. Deleting outside an event


def test_plain_faust_cannot_delete_a_key_outside_a_stream() -> None:
    table = plain_app().Table("seen", default=None)
    table.data["a"] = {"hash": "h"}
    with pytest.raises(TypeError, match="outside of stream"):
        del table["a"]
    assert "a" in table.data


def test_with_the_fix_the_key_goes_and_its_tombstone_names_the_partition() -> None:
    table = plain_app().Table("seen", default=None)
    table.data["a"] = {"hash": "h"}
    table.data["b"] = {"hash": "h"}
    table.data._key_partition["b"] = 2  # as recovered from the changelog
    sent: list[dict[str, Any]] = []
    table.changelog_topic.send_soon = lambda **kwargs: sent.append(kwargs)
    delete_in_partition(table, "a", 3)
    delete_in_partition(table, "b", None)
    assert "a" not in table.data and "b" not in table.data
    assert not table.data._key_partition
    assert [(m["key"], m["value"], m["partition"]) for m in sent] == [
        ("a", None, 3),
        ("b", None, 2),
    ]


# 11. A table's own store


def test_plain_faust_ignores_a_tables_rocksdb_url(tmp_path: Path) -> None:
    app = plain_app()
    table = app.Table("seen", default=None, store="rocksdb://", options={"driver": "rocksdict"})
    assert isinstance(table.data, faust_memory.Store)


def test_with_the_fix_the_table_lives_in_rocksdb_under_the_tabledir(tmp_path: Path) -> None:
    store = rocksdict_table(tmp_path).data
    assert isinstance(store, faust_rocksdb.Store) and store.use_rocksdict
    assert store.partition_path(2) == store.app.conf.tabledir / "seen-2.db"


# 12. Recovery's start offsets


class RecoverySeeks:
    """Stands in for Faust's consumer: keeps what a recovery asks it to seek to."""

    def __init__(self) -> None:
        self.sought: dict[Any, Any] = {}

    async def seek_wait(self, offsets: dict[Any, Any]) -> None:
        self.sought.update(offsets)


def standby_seek(cls: type) -> dict[Any, Any]:
    """What a recovery seeks a standby changelog partition to when nothing of it is
    persisted here and the offsets were not built (a rebalance mid-recovery)."""

    async def run() -> dict[Any, Any]:
        app = plain_app()
        recovery = cls(app, app.tables)
        offsets: Any = recovery.standby_offsets
        offsets.setdefault(CHANGELOG, None)  # as Faust's Recovery._add files it
        consumer = RecoverySeeks()
        await recovery._seek_offsets(consumer, {CHANGELOG}, offsets, "standby")
        return consumer.sought

    return asyncio.run(run())


def test_plain_faust_seeks_a_partition_with_nothing_persisted_to_none() -> None:
    # aiokafka's seek then raises "ValueError: Offset must be a positive integer"
    assert standby_seek(faust_recovery.Recovery) == {CHANGELOG: None}


def test_with_the_fix_such_a_partition_is_read_from_its_start() -> None:
    assert standby_seek(ClaimwatchRecovery) == {CHANGELOG: 0}


def test_the_worker_app_recovers_with_the_fix(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, data_dir=tmp_path / "d")
    worker = build_app(settings, ModelHolder(None), new_metrics(settings))
    assert isinstance(worker.app.tables.recovery, ClaimwatchRecovery)


# 13. A failed batch's transaction


class TransactionalClient:
    """Stands in for aiokafka's transactional producer: records what Faust asks of it."""

    def __init__(self, log: list[str], name: str, abort_error: Exception | None = None) -> None:
        self.log, self.name, self.abort_error = log, name, abort_error

    async def abort_transaction(self) -> None:
        self.log.append(f"{self.name}: abort")
        if self.abort_error is not None:
            raise self.abort_error

    async def begin_transaction(self) -> None:
        self.log.append(f"{self.name}: begin")

    async def start(self) -> None:
        self.log.append(f"{self.name}: start")

    async def stop(self) -> None:
        self.log.append(f"{self.name}: stop")


def restart_with(abort_error: Exception | None) -> tuple[list[str], bool]:
    """What :func:`restart_transaction` asks of Faust's real producer, whose
    transactional clients are recorded stand-ins; and whether a client remains."""
    log: list[str] = []

    async def run() -> bool:
        app = plain_app()
        producer: Any = faust_aiokafka.Producer(app.transport)
        producer._transaction_producers["t-0"] = TransactionalClient(log, "old", abort_error)
        producer._trn_locks["t-0"] = asyncio.Lock()
        producer._new_producer = lambda transactional_id=None: TransactionalClient(log, "new")
        producer._ensure_producer = lambda: None
        await restart_transaction(producer, "t-0")
        return "t-0" in producer._transaction_producers

    return log, asyncio.run(run())


def test_a_failed_batchs_transaction_is_aborted_then_a_new_one_begins() -> None:
    assert restart_with(None) == (["old: abort", "old: begin"], True)


def test_a_refused_abort_replaces_the_producer() -> None:
    log, kept = restart_with(RuntimeError("Invalid state transition"))
    assert log == ["old: abort", "old: stop", "new: start", "new: begin"] and kept


class FatalState:
    """aiokafka's transaction manager after a send found the producer fenced."""

    def is_fatal_error(self) -> bool:
        return True


def test_a_refused_abort_after_a_fenced_send_is_left_to_the_new_owner() -> None:
    log: list[str] = []

    async def run() -> bool:
        app = plain_app()
        producer: Any = faust_aiokafka.Producer(app.transport)
        client = TransactionalClient(log, "old", AssertionError("FATAL_ERROR -> ABORTING"))
        client._txn_manager = FatalState()  # type: ignore[attr-defined]
        producer._transaction_producers["t-0"] = client
        producer._trn_locks["t-0"] = asyncio.Lock()
        producer._new_producer = lambda transactional_id=None: TransactionalClient(log, "new")
        producer._ensure_producer = lambda: None
        await restart_transaction(producer, "t-0")
        return "t-0" in producer._transaction_producers

    kept = asyncio.run(run())
    assert log == ["old: abort", "old: stop"] and not kept  # no new producer fences the owner


def test_a_fenced_transaction_is_left_to_its_new_owner() -> None:
    from aiokafka.errors import ProducerFenced

    log, kept = restart_with(ProducerFenced())
    assert log == ["old: abort", "old: stop"] and not kept  # Faust dropped it; none begins


# 14. Transactions over a rebalance ------------------------------------------------


class CommittingClient(TransactionalClient):
    """A transactional client that also commits, or finds itself fenced."""

    def __init__(self, log: list[str], name: str, fenced: bool = False) -> None:
        super().__init__(log, name)
        self.fenced = fenced

    async def send_offsets_to_transaction(self, offsets: Any, group_id: str) -> None:
        from aiokafka.errors import ProducerFenced

        self.log.append(f"{self.name}: offsets")
        if self.fenced:
            raise ProducerFenced()

    async def commit_transaction(self) -> None:
        self.log.append(f"{self.name}: commit")


def transaction_manager(cls: type, log: list[str]) -> tuple[Any, Any, Any]:
    """A transaction manager of class ``cls`` over Faust's real producer, whose
    transactional clients for input partitions 0 and 1 are recorded stand-ins."""
    app = plain_app()
    app.conf.processing_guarantee = "exactly_once"
    producer: Any = faust_aiokafka.Producer(app.transport)
    producer._transaction_producers.clear()  # a class attribute in Faust: shared
    producer._ensure_producer = lambda: None
    producer._new_producer = lambda transactional_id=None: CommittingClient(log, "new")
    consumer = consumer_of(app)
    manager = cls(app.transport, consumer=consumer, producer=producer)
    app.topic("articles")  # the assignor files it under group 0
    app.assignor.group_for_topic = lambda topic: 0  # type: ignore[method-assign]
    app.assignor.is_standby = lambda tp: False  # type: ignore[method-assign]
    return app, producer, manager


def rebalance_keeping_a_partition(cls: type) -> tuple[list[str], Any]:
    log: list[str] = []

    async def run() -> Any:
        app, producer, manager = transaction_manager(cls, log)
        tid = f"{app.conf.id}-0-0"
        producer._transaction_producers[tid] = CommittingClient(log, "old")
        producer._trn_locks[tid] = asyncio.Lock()
        await manager.on_rebalance({ARTICLES}, set(), set())
        return producer._transaction_producers[tid]

    return log, asyncio.run(run())


def test_plain_faust_keeps_a_kept_partitions_producer_and_its_open_transaction() -> None:
    log, client = rebalance_keeping_a_partition(faust_consumer.TransactionManager)
    assert log == ["old: begin"] and client.name == "old"  # on aiokafka: refused, swallowed


def test_with_the_fix_a_rebalance_gives_a_kept_partition_a_new_producer() -> None:
    log, client = rebalance_keeping_a_partition(FreshTransactions)
    assert log == ["old: stop", "new: start", "new: begin"] and client.name == "new"


def commit_with_second_fenced(cls: type) -> tuple[list[str], list[str], dict[Any, Any]]:
    log: list[str] = []
    crashes: list[str] = []

    async def run() -> dict[Any, Any]:
        app, producer, manager = transaction_manager(cls, log)

        async def crash(reason: BaseException) -> None:
            crashes.append(type(reason).__name__)

        app.crash = crash  # type: ignore[method-assign]
        for partition, fenced in ((0, False), (1, True)):
            tid = f"{app.conf.id}-0-{partition}"
            producer._transaction_producers[tid] = CommittingClient(log, f"p{partition}", fenced)
            producer._trn_locks[tid] = asyncio.Lock()
        offsets = {TP("articles", 0): 5, TP("articles", 1): 7}
        with contextlib.suppress(TransactionFenced):
            await manager.commit(offsets)
        return dict(manager.consumer._committed_offset)

    committed = asyncio.run(run())
    return log, crashes, committed


def test_plain_faust_crashes_the_worker_on_a_fenced_commit() -> None:
    _log, crashes, _ = commit_with_second_fenced(faust_consumer.TransactionManager)
    assert crashes == ["ProducerFenced"]  # faust-streaming #323


def test_with_the_fix_a_fenced_commit_fails_its_batch_and_keeps_what_committed() -> None:
    log, crashes, committed = commit_with_second_fenced(FreshTransactions)
    assert crashes == []
    assert log[:3] == ["p0: offsets", "p0: commit", "p0: begin"] and "p1: offsets" in log
    assert committed == {TP("articles", 0): 5}  # partition 0 must not be retried


def table_write_to_a_topic_the_assignment_left_out(cls: type) -> str:
    """A changelog write for partition 2 of a topic the last assignment did not have
    (created just after it, on a fresh cluster): which transaction does it go into?"""

    async def run() -> str:
        app, producer, manager = transaction_manager(cls, [])
        del app.assignor.group_for_topic  # the real lookup, over the assignment's groups
        app.assignor._topic_groups = {"articles": 1, "app-__assignor-__leader": 0}
        manager.consumer.key_partition = lambda topic, key, partition=None: partition
        sent: list[str] = []

        async def send(*args: Any, transactional_id: str | None = None) -> None:
            sent.append(str(transactional_id))

        producer.send = send
        try:
            await manager.send("app-seen-articles-changelog", b"k", b"v", 2, None, None)
        except KeyError as error:
            return f"KeyError {error}"
        return sent[0].removeprefix(f"{app.conf.id}-")

    return asyncio.run(run())


def test_plain_faust_cannot_send_to_a_topic_the_assignment_left_out() -> None:
    # raised inside Faust's producer buffer, this crashed the worker (chaos drill)
    outcome = table_write_to_a_topic_the_assignment_left_out(faust_consumer.TransactionManager)
    assert outcome == "KeyError 'app-seen-articles-changelog'"


def test_with_the_fix_such_a_write_goes_into_its_source_partitions_transaction() -> None:
    class Transactions(FreshTransactions):
        source_topic = "articles"

    assert table_write_to_a_topic_the_assignment_left_out(Transactions) == "1-2"


class SendingClient(CommittingClient):
    async def send(self, topic: str, value: Any, **kwargs: Any) -> Any:
        self.log.append(f"{self.name}: send")
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def send_during_a_replacement(cls: type) -> list[str]:
    """A table write queued while the partition's client is being replaced: which
    client does it go to?"""
    log: list[str] = []

    async def run() -> None:
        app = plain_app()
        producer: Any = cls(app.transport)
        producer._transaction_producers.clear()
        producer._ensure_producer = lambda: None
        producer._trn_locks["t-0"] = asyncio.Lock()
        producer._transaction_producers["t-0"] = SendingClient(log, "old")
        async with producer._trn_locks["t-0"]:  # a replacement under way
            send = asyncio.ensure_future(
                producer.send("changelog", b"k", b"v", None, None, None, transactional_id="t-0")
            )
            await asyncio.sleep(0.01)  # the send is waiting for the lock
            await producer._transaction_producers.pop("t-0").stop()
            producer._transaction_producers["t-0"] = SendingClient(log, "new")
        await send

    asyncio.run(run())
    return log


def test_plain_faust_sends_to_the_client_it_picked_before_the_lock() -> None:
    assert send_during_a_replacement(faust_aiokafka.Producer) == ["old: stop", "old: send"]


def test_with_the_fix_a_send_goes_to_the_client_in_place_once_it_has_the_lock() -> None:
    assert send_during_a_replacement(TransactionalSends) == ["old: stop", "new: send"]


def send_without_a_client(cls: type) -> str:
    async def run() -> str:
        app = plain_app()
        producer: Any = cls(app.transport)
        producer._transaction_producers.clear()
        producer._ensure_producer = lambda: None
        try:
            sent = await producer.send(
                "changelog", b"k", b"v", None, None, None, transactional_id="t-9"
            )
        except Exception as error:
            return f"raised {type(error).__name__}"
        try:
            await sent
        except Exception as error:
            return f"failed future {type(error).__name__}"
        return "sent"

    return asyncio.run(run())


def test_plain_faust_raises_from_send_which_crashes_its_producer_buffer() -> None:
    assert send_without_a_client(faust_aiokafka.Producer) == "raised ProducerSendError"


def test_with_the_fix_a_send_without_a_client_returns_a_failed_future() -> None:
    assert send_without_a_client(TransactionalSends) == "failed future ProducerSendError"


class ReplacedWhileFlushing(SendingClient):
    """A client whose flush lets another task replace a client of the same producer."""

    def __init__(self, log: list[str], name: str, clients: dict[str, Any]) -> None:
        super().__init__(log, name)
        self.clients = clients

    async def flush(self) -> None:
        self.log.append(f"{self.name}: flush")
        self.clients["t-1"] = SendingClient(self.log, "replacement")  # a batch abandoning


def flush_during_a_replacement(cls: type) -> str:
    log: list[str] = []

    async def run() -> str:
        app = plain_app()
        producer: Any = cls(app.transport)
        producer._transaction_producers.clear()
        producer._transaction_producers["t-0"] = ReplacedWhileFlushing(
            log, "t-0", producer._transaction_producers
        )
        try:
            await producer.flush()
        except RuntimeError as error:
            return f"RuntimeError {error}"
        return "flushed"

    return asyncio.run(run())


def test_plain_faust_flush_breaks_when_a_client_is_replaced_meanwhile() -> None:
    assert flush_during_a_replacement(faust_aiokafka.Producer) == (
        "RuntimeError dictionary changed size during iteration"
    )


def test_with_the_fix_flush_goes_over_a_snapshot_of_the_clients() -> None:
    assert flush_during_a_replacement(TransactionalSends) == "flushed"


# 15. The seek to the committed offsets after a rebalance

NEVER_COMMITTED = TP("articles", 1)


class SeekingThread:
    """Stands in for Faust's consumer thread and the aiokafka consumer in it: the
    group's committed offsets (None: never committed), each partition's first
    offset, and the seeks asked of it."""

    def __init__(self, committed: dict[Any, int | None], first: dict[Any, int]) -> None:
        self.committed, self.first = committed, first
        self.sought: dict[Any, int] = {}

    def assignment(self) -> set[Any]:
        return set(self.committed)

    async def seek_to_committed(self) -> dict[Any, int | None]:
        # aiokafka seeks only the partitions with a committed offset
        self.sought.update({tp: o for tp, o in self.committed.items() if o})
        return dict(self.committed)

    async def seek_wait(self, offsets: dict[Any, int]) -> None:
        self.sought.update(offsets)

    async def beginning_offsets(self, tps: list[Any]) -> dict[Any, int]:
        return {tp: self.first[tp] for tp in tps}

    def _ensure_consumer(self) -> SeekingThread:
        return self

    async def call_thread(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        return await fn(*args)


def seek_after_a_rebalance(cls: type) -> tuple[Any, ...]:
    """A partition revoked and assigned again (committed at 86), one the group never
    committed (first offset 3); then Faust's seek to the committed offsets in
    generation 4. What the consumer knows of where each starts, before and after."""

    async def run() -> tuple[Any, ...]:
        app = plain_app()
        app.consumer_generation_id = 4
        consumer = consumer_of(app, cls, on_revoked=True)
        consumer.source_topic = "articles"
        thread = SeekingThread({ARTICLES: 86, NEVER_COMMITTED: None}, {NEVER_COMMITTED: 3})
        consumer._thread = thread
        consumer._committed_offset[ARTICLES] = 86
        await consumer.on_partitions_revoked({ARTICLES})
        before = consumer._committed_offset.get(ARTICLES)
        await consumer.perform_seek()
        after = {tp: consumer._committed_offset.get(tp) for tp in (ARTICLES, NEVER_COMMITTED)}
        sought = (sought_committed(consumer, 4), sought_committed(consumer, 5))
        return before, after, thread.sought, sought

    return asyncio.run(run())


def test_plain_faust_knows_no_start_between_a_revoke_and_its_seek() -> None:
    # and a partition never committed has none after it, nor is it sought anywhere
    before, after, sought, _ = seek_after_a_rebalance(faust_aiokafka.Consumer)
    assert before is None
    assert after == {ARTICLES: 86, NEVER_COMMITTED: None}
    assert sought == {ARTICLES: 86}


def test_with_the_fix_the_seek_says_its_generation_and_starts_every_partition() -> None:
    before, after, sought, generations = seek_after_a_rebalance(ReadCommittedConsumer)
    assert before is None  # the agent admits nothing of generation 4 until the seek
    assert after == {ARTICLES: 86, NEVER_COMMITTED: 3}
    assert sought == {ARTICLES: 86, NEVER_COMMITTED: 3}
    assert generations == (True, False)


def test_a_consumer_without_the_fix_never_counts_as_sought() -> None:
    assert not sought_committed(SimpleNamespace(), 4)


class BufferedFetcher:
    """Stands in for aiokafka's consumer and fetcher holding records of two
    partitions: hands them out as aiokafka's ``fetched_records`` picks them."""

    _closed = False

    def __init__(self) -> None:
        self._fetcher = self
        self._subscriptions = SimpleNamespace(fetch_context=contextlib.nullcontext)
        self._records = {ARTICLES: ["a"], NEVER_COMMITTED: ["b"]}

    async def fetched_records(self, partitions: Any, timeout: Any = None, **_: Any) -> Any:
        # aiokafka's test, as in Fetcher.fetched_records
        picked = [tp for tp in self._records if not (partitions and tp not in partitions)]
        return {tp: self._records[tp] for tp in picked}


def fetch_with_none_active(cls: type) -> Any:
    """What a fetch hands out once a rebalance has paused every partition."""
    thread = consumer_of(plain_app(), cls)._new_consumer_thread()
    thread.consumer.flow_active = True
    return asyncio.run(thread._fetch_records(BufferedFetcher(), set(), timeout=0))


def test_plain_faust_fetch_hands_out_paused_partitions_when_none_is_active() -> None:
    import inspect

    from aiokafka.consumer.fetcher import Fetcher

    assert "if partitions and tp not in partitions" in inspect.getsource(Fetcher.fetched_records)
    assert fetch_with_none_active(faust_aiokafka.Consumer) == {
        ARTICLES: ["a"],
        NEVER_COMMITTED: ["b"],
    }


def test_with_the_fix_a_fetch_with_none_active_hands_out_nothing() -> None:
    assert fetch_with_none_active(ReadCommittedConsumer) == {}
    assert not OnlyThese(set()).tps

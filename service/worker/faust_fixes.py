"""Every place where the worker departs from Faust's own behaviour, in one module.

Checked against faust-streaming 0.15 (pinned in ``pyproject.toml``). Each departure
says what Faust does, why we do otherwise, and the upstream report where there is
one; ``tests/unit/service/test_faust_fixes.py`` shows each Faust behaviour on the
unpatched classes, so after an upgrade a failing "plain Faust" test says that a fix
may no longer be needed, and a failing "with the fix" test that it no longer works.

1. :class:`ReadCommittedConsumer` — read only committed articles in both guarantees,
   and :func:`use_claimwatch_consumer` — a batch the client cannot decode stops its
   partition, not the worker (with :func:`locate_decode_errors`); a recovery's
   changelog highwaters come from the broker, never from a fetch not made yet; and a
   commit whose partitions a rebalance has just revoked commits nothing, not a crash.
2. :class:`RereadAfterSeek` — never drop an articles message as "already read".
3. :func:`manual_offsets` and :func:`commit_offsets` — the agent, not Faust's acks,
   commits the articles topic.
4. :func:`seek_partition` — seek in the consumer's own thread (``seek_wait``).
5. :func:`committed_offset` and :func:`kafka_client` — read-only looks at Faust's
   consumer state (no public accessor exists).
6. :func:`event_context` — write a table under a chosen event's partition.
7. :func:`wall_clock_windows` — windowed tables filed by the wall clock.
8. :func:`locate_decode_errors` — aiokafka's decode errors say which partition and
   offset they come from.
9. :func:`no_current_event` — read a table across all its partitions.
10. :func:`delete_in_partition` and :func:`forget_locally` — delete a table key outside
   any event.
11. :func:`rocksdb_store` — a table on disk while the others stay in memory.
12. :func:`use_claimwatch_recovery` — a changelog partition with nothing persisted is
   read from its start, also when a rebalance lands in the middle of a recovery.
13. :func:`restart_transaction` — a failed batch's transaction is aborted before the
   batch is retried.
14. :class:`FreshTransactions` and :class:`TransactionalSends` (installed by
   :func:`use_claimwatch_consumer`) — every rebalance gives each assigned partition a
   new transactional producer, a fenced commit fails its batch instead of crashing
   the worker, a transactional send neither slips past a replacement nor crashes
   Faust's producer buffer, and a table write to a topic the last assignment left out
   (created just after it) goes into its source partition's transaction.
15. :meth:`ReadCommittedConsumer.perform_seek` and :func:`sought_committed` — the agent
   admits a generation's articles only once Faust has sought that generation's
   partitions to their committed offsets (a partition never committed: to its start).

Everything else that reaches into Faust or aiokafka internals belongs here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import faust
from aiokafka.consumer import fetcher as aiokafka_fetcher
from aiokafka.errors import ProducerFenced
from faust.exceptions import ProducerSendError
from faust.streams import _current_event
from faust.tables import recovery as faust_recovery
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka

log = logging.getLogger("claimwatch.faust_fixes")

# 1. Isolation level ---------------------------------------------------------------


class ReadCommittedConsumer(faust_aiokafka.Consumer):
    """Faust's Kafka consumer, reading only committed messages in either guarantee.

    Faust reads ``read_committed`` only with exactly-once
    (``AIOKafkaConsumerThread._create_worker_consumer``); there is no setting. An
    upstream that writes articles in Kafka transactions and aborts one means those
    articles never happened; read uncommitted, they would be scored and flagged.
    Tested end to end by ``test_articles_of_an_aborted_upstream_transaction_are_never_scored``.
    """

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ReadCommittedThread(self, loop=self.loop, beacon=self.beacon)

    source_topic: str = ""  # set by use_claimwatch_consumer
    # The consumer generation whose partitions perform_seek last sought (departure 15).
    sought_generation: int | None = None

    async def perform_seek(self) -> None:
        """Faust's seek of every assigned partition to its committed offset, remembering
        the generation it sought; an articles partition the group never committed is
        sought to its start, which is filed as where it starts (:func:`committed_offset`).

        After a rebalance Faust's recovery resumes the stream partitions *before* it
        awaits this seek (``Recovery.on_recovery_completed``), and Faust forgot their
        committed offsets when they were revoked (``Consumer.on_partitions_revoked``)
        and files them only when this seek returns. In between, the fetcher hands out
        records from wherever the consumer's position was left, which after a
        rebalance can be past records Faust fetched and then dropped (around a
        rebalance its fetch loop stops at a stopped flow or a new generation, and its
        stream skips events while flow control is suspended). The gap guard, with no
        committed offset to start from, admitted the first of them whatever its
        offset; the batch committed past the dropped ones, and when the seek read
        them again the guard took them for a re-read of what it had admitted (issue
        20: a survivor of the at-least-once CI drill admitted offset 150 of a
        partition committed at 86 and lost 86-149). So the agent admits nothing of a
        generation until this seek has returned in it (:func:`sought_committed`):
        what it leaves is read again from the committed offset by this very seek.

        aiokafka seeks only partitions with a committed offset, so a partition the
        group never committed would stay past what the agent left: it is sought to
        its first offset (``consumer_auto_offset_reset`` is earliest), and that
        offset is filed as its start, so that the guard never admits a later one.
        """
        generation = self.app.consumer_generation_id
        await super().perform_seek()
        fresh = [
            tp
            for tp in self.assignment()
            if tp.topic == self.source_topic and self._committed_offset.get(tp) is None
        ]
        if fresh:
            client = self._thread._ensure_consumer()
            starts = await self._thread.call_thread(client.beginning_offsets, fresh)
            await self.seek_wait(starts)
            self._committed_offset.update(starts)
        self.sought_generation = generation


class _ReadCommittedThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka hands this to its fetcher when the consumer starts, which is later
        consumer._isolation_level = "read_committed"
        return consumer

    async def _fetch_records(
        self,
        consumer: Any,
        active_partitions: Any,
        timeout: float | None = None,
        max_records: int | None = None,
    ) -> Any:
        """Faust's fetch, except that an undecodable batch pauses its partition.

        Faust lets the decode error of one partition's batch (a codec library
        missing, a bad CRC, corrupt compressed data) out of the fetcher, which
        crashes the worker; restarted, it reads the same batch and crashes again
        (seen here with snappy, lz4 and zstd batches from librdkafka before their
        codec was a dependency). Here the partition is paused where the batch starts
        (it is not skipped: its offsets are never committed past it), the app's
        ``undecodable`` callback is told, and every other partition goes on. Records
        other partitions had handed to the failed fetch are read again: the gap guard
        (:mod:`service.worker.gaps`) sees the hole and seeks back over it.

        And the fetch asks aiokafka only for the active partitions even when none is
        left (:class:`OnlyThese`).
        """
        only: Any = active_partitions if active_partitions is None else OnlyThese(active_partitions)
        try:
            return await super()._fetch_records(
                consumer, only, timeout=timeout, max_records=max_records
            )
        except UndecodableBatch as error:
            consumer.pause(error.tp)
            self.consumer.undecodable(error)  # type: ignore[attr-defined]
            return {}

    async def _commit(self, offsets: Any) -> bool:
        """Faust's commit, except that nothing left to commit is not a crash.

        Faust filters the offsets by the assignment twice: in the agent's thread and
        again here, in the consumer's thread. A rebalance that revokes the partitions
        in between leaves nothing, and aiokafka refuses to commit an empty mapping
        (``ValueError: {}`` from ``commit_structure_validate``), which crashes the
        consumer thread and the worker (seen once in the at-least-once CI drill,
        issue 20). Those offsets belong to the partitions' new owner: commit nothing.
        """
        assignment = self.assignment()
        if not any(tp in assignment for tp in offsets):
            return False
        committed: bool = await super()._commit(offsets)
        return committed

    async def _highwaters(self, partitions: list[Any]) -> Any:
        """The end of each partition as the broker says, read committed in both guarantees.

        Under exactly-once Faust answers with aiokafka's ``last_stable_offset``, which
        is what the last *fetch* response of that partition said: None for a
        partition not fetched yet, which is every changelog partition a recovery has
        just assigned. Faust's recovery turns None into a highwater of -1, and its
        consistency check then crashes the worker for any table it has on disk
        ("The persisted offset for changelog topic partition … is higher than the
        last offset in that topic (highwater) (3 > -1)", faust-streaming #158; seen
        here on the worker that took over from a paused one, issue 20). aiokafka's
        ``end_offsets`` asks the broker with the consumer's isolation level, which
        is read committed here (:class:`ReadCommittedConsumer`): the last stable
        offset, known before any fetch.
        """
        return await self._ensure_consumer().end_offsets(partitions)


class OnlyThese:
    """Faust's live set of active partitions as aiokafka's ``fetched_records`` reads
    it, except that an empty set means none rather than all.

    Faust hands its own set to the fetch waiting in the consumer thread, and a
    rebalance empties it meanwhile (``pause_partitions`` of the whole assignment).
    aiokafka reads ``partitions and tp not in partitions``: an empty set lets it hand
    out the buffered records of every partition, the paused articles partitions
    included, moving their positions past them, and Faust's ``getmany`` then drops
    them as not active (issue 20: seen in the at-least-once drill as articles
    fetched while paused and never delivered; the likely way a survivor's positions
    came to stand 64 and 41 articles past what it had delivered, see departure 15).
    """

    def __init__(self, tps: Any) -> None:
        self.tps = tps

    def __bool__(self) -> bool:
        return True

    def __contains__(self, tp: Any) -> bool:
        return tp in self.tps


UndecodableCallback = Callable[["UndecodableBatch"], None]


def use_claimwatch_consumer(
    app: faust.App, undecodable: UndecodableCallback, source_topic: str
) -> None:
    """Make ``app`` (this app only, not Faust's class) build :class:`ReadCommittedConsumer`,
    telling ``undecodable`` (in the consumer's thread) of each batch it cannot decode.
    ``source_topic``: the topic whose partitions every table write belongs to (the
    articles), for :class:`FreshTransactions`."""
    locate_decode_errors()

    class Consumer(ReadCommittedConsumer):
        pass

    class Transactions(FreshTransactions):
        pass

    Consumer.undecodable = staticmethod(undecodable)  # type: ignore[attr-defined]
    Consumer.source_topic = source_topic
    Transactions.source_topic = source_topic
    app.transport.Consumer = Consumer  # type: ignore[misc]
    app.transport.TransactionManager = Transactions  # type: ignore[misc]
    app.transport.Producer = TransactionalSends  # type: ignore[misc]


# 2. Read offsets ------------------------------------------------------------------


class RereadAfterSeek(defaultdict[Any, Any]):
    """Faust's per-partition read offsets, except that no articles message is ever
    dropped as "already read".

    Faust's fetcher (``Consumer._drain_messages``) drops a message whose offset is
    below the partition's read offset. After a rebalance it seeks back to the
    committed offset and resets the read offset, but a fetch still being drained
    can set it forward again, and the messages read again after the seek are then
    dropped: seen here as articles never scored (with our commits) or a commit
    stuck forever (with Faust's). We found no upstream report. We would rather read a
    message twice (the gap guard, dedupe and at-least-once cover that) than not at
    all, so for the articles topic the read offset always answers None.
    """

    def __init__(self, topic: str, offsets: Any) -> None:
        super().__init__(lambda: None, offsets)
        self.topic = topic

    def __getitem__(self, tp: Any) -> Any:
        if tp.topic == self.topic:
            return None
        return super().__getitem__(tp)

    @classmethod
    def install(cls, consumer: Any, topic: str) -> None:
        """Put into ``consumer`` before its fetcher starts (the agent does this when it
        starts: creating the consumer any earlier, before Faust's worker marks the app
        as running in a worker, would build it without transactions)."""
        if not isinstance(consumer._read_offset, cls):
            consumer._read_offset = cls(topic, consumer._read_offset)


# 3. Offsets are ours --------------------------------------------------------------


def manual_offsets(stream: Any) -> Any:
    """The stream without Faust's acks: nothing it reads is committed by Faust.

    Faust commits what it has acked, and it acks messages it skips around a
    rebalance or a shutdown (the stream iterator "acks the filtered out message")
    and, in ``take_events``, a batch in ``finally`` even when processing failed or
    was cancelled; both committed offsets of articles never published (seen here as
    lost articles when one worker of two stopped; faust-streaming #315 reports the
    same skipped offset after a failure, and #606 and #596 wrong or blocked commits
    around gaps in the acks). The articles topic is also subscribed with
    ``acks=False`` (``app.py``), so Faust's commit loop never touches it;
    :func:`commit_offsets` commits instead.
    """
    return stream.noack()


async def commit_offsets(consumer: Any, offsets: dict[Any, int]) -> None:
    """Commit ``offsets`` (partition → next offset to read) through Faust's consumer.

    Faust's ``_commit_offsets`` flushes the producer first (at-least-once) or
    commits the partitions' transactions with the offsets (exactly-once), and drops
    partitions no longer assigned. Faust's public ``commit`` only commits what was
    acked, which is nothing here. One commit at a time, like Faust's own: we take
    its ``_commit_fut`` slot.

    A commit that did not happen raises :class:`CommitNotDone`. Faust only returns
    False (the partitions were revoked meanwhile, or the group "already rebalanced")
    and still files the offsets as committed (``_committed_offset``), which the
    agent reads to know what it must not process again and where a partition must
    start: what the broker holds is filed instead (:func:`refile_committed`).
    """
    while consumer._commit_fut is not None:
        await consumer.maybe_wait_for_commit_to_finish()
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    consumer._commit_fut = done
    try:
        committed = await consumer._commit_offsets(offsets)
        if not committed:
            await refile_committed(consumer, list(offsets))
            raise CommitNotDone(sorted(str(tp) for tp in offsets))
    finally:
        if consumer._commit_fut is done:
            consumer._commit_fut = None
        done.set_result(None)


class CommitNotDone(Exception):
    """Faust did not commit the offsets (revoked partitions, a rebalanced group)."""


# How long a commit that did not happen waits for the broker's committed offsets.
REFILE_WITHIN_S = 10.0


async def refile_committed(consumer: Any, tps: list[Any]) -> None:
    """File the broker's committed offsets of ``tps`` after a commit that did not happen.

    Faust wrote the refused offsets over what it had, and often over the committed
    offset a rebalance had just read from the broker for a partition that stayed
    assigned. Merely forgetting them (as this did before) left such a partition
    without a start until the next rebalance: the gap guard then admitted whatever
    offset came first, so a message fetched past a hole let a later commit pass
    articles never published, and the stall watch, with no offset to expect, never
    read the partition again (issue 20: articles lost from a survivor's partitions
    after a takeover, and a resumed worker's partitions left silent). Partitions no
    longer assigned, or a broker that does not answer in time, are forgotten: the
    next rebalance's seek files the broker's offsets again.
    """
    for tp in tps:
        consumer._committed_offset.pop(tp, None)
    assigned = [tp for tp in tps if tp in consumer.assignment()]
    if not assigned:
        return
    try:
        found = await asyncio.wait_for(broker_committed(consumer, assigned), REFILE_WITHIN_S)
    except Exception as error:  # a rebalance or the broker itself: the next seek files them
        log.warning("reading the committed offsets of %s failed: %s", assigned, describe(error))
        return
    for tp, offset in found.items():
        if offset is not None and tp in consumer.assignment():
            consumer._committed_offset[tp] = offset


async def broker_committed(consumer: Any, tps: list[Any]) -> dict[Any, int | None]:
    """The group's committed offset of each of ``tps``, asked of the group coordinator
    in Faust's consumer thread (None: never committed)."""
    thread = consumer._thread
    client = thread._ensure_consumer()

    async def look() -> dict[Any, int | None]:
        return {tp: await client.committed(tp) for tp in tps}

    found: dict[Any, int | None] = await thread.call_thread(look)
    return found


# 4. Seeking -----------------------------------------------------------------------


async def seek_partition(consumer: Any, tp: Any, offset: int) -> None:
    """Make the consumer read ``tp`` again from ``offset``.

    Through Faust's ``seek_wait``, which seeks in the consumer's own thread. Faust's
    ``seek`` calls aiokafka from the caller's thread instead, where it can race the
    fetcher handing out records in the consumer thread: the fetcher then moves the
    position back past the records it hands out and the seek is lost (the takeover
    stall of an earlier release).
    """
    await consumer.seek_wait({tp: offset})


# 5. Read-only looks ---------------------------------------------------------------


def committed_offset(consumer: Any, tp: Any) -> int | None:
    """The offset Faust last committed (or found committed) for ``tp``, if any; for a
    partition the group never committed, its start once sought there (departure 15)."""
    offset = consumer._committed_offset.get(tp)
    return None if offset is None else int(offset)


def sought_committed(consumer: Any, generation: int) -> bool:
    """Whether Faust has sought the partitions of consumer ``generation`` to their
    committed offsets (:meth:`ReadCommittedConsumer.perform_seek`): until then a
    message of that generation may come from before the seek, and where its
    partition starts is not known yet."""
    return getattr(consumer, "sought_generation", None) == generation


def kafka_client(app: faust.App) -> Any:
    """aiokafka's client inside Faust's consumer thread (for the brokers it knows)."""
    consumer: Any = app.consumer
    return consumer._thread._ensure_consumer()._client


# 6. Table writes under a chosen partition -----------------------------------------


@contextlib.contextmanager
def event_context(event: Any) -> Iterator[None]:
    """Make ``event`` Faust's current event: table writes go to its partition's changelog.

    Faust finds the partition of a table write from the event being processed (a
    context variable its stream iterator sets). The agent writes after a whole
    batch is published, outside the iterator, so it sets the variable itself.
    """
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


# 7. Windowed tables ---------------------------------------------------------------


def wall_clock_windows(app: faust.App, name: str, window_s: float) -> Any:
    """A per-source counter table over tumbling windows of the wall clock.

    Not ``relative_to_now()``: inside an event context Faust takes "now" from the
    partition's latest window end, which starts at 0, so every write lands in a
    1970 window while ``items().now()`` reads today's (robinhood/faust PR #199).
    """
    size = timedelta(seconds=window_s)
    # Faust's changelog of a windowed table deletes records older than ``expires``,
    # but Kafka deletes only whole closed segments, and at the default segment.ms
    # (7 days) the open one holds every write of the week: a restart would replay it
    # all. Segments of one window bound the replay to about three windows.
    rolled = {"segment.ms": str(int(window_s * 1000))}
    table: Any = app.Table(name, default=int, extra_topic_configs=rolled)
    table = table.tumbling(size, expires=size * 2, key_index=True)
    return table.relative_to(wall_clock)


def wall_clock(event: Any = None) -> float:
    """The time a windowed count is filed under: when the worker counted it."""
    return time.time()


# 8. Decode errors with their place --------------------------------------------------


class UndecodableBatch(Exception):
    """A record batch the client could not decode, with where it starts."""

    def __init__(self, tp: Any, offset: int, cause: BaseException) -> None:
        super().__init__(f"{tp.topic}[{tp.partition}] at offset {offset}: {describe(cause)}")
        self.tp = tp
        self.offset = offset
        self.cause = cause


def describe(error: BaseException) -> str:
    """``Type: message`` on one line, without aiokafka's doubled class name."""
    message = str(error).splitlines()[0] if str(error) else ""
    if message.startswith("[Error ") and "] " in message:  # aiokafka's "[Error 2] Name: …"
        message = message.split("] ", 1)[1]
    name = type(error).__name__
    message = message.removeprefix(f"{name}: ")
    return f"{name}: {message}"[:300] if message else name


class _LocatedRecords(aiokafka_fetcher.PartitionRecords):
    """aiokafka's records of one fetched partition, whose decode errors say where.

    aiokafka decodes a batch while its records are iterated, and the error it raises
    (``UnsupportedCodecError``, ``CorruptRecordException``, a decompressor's own) names
    neither the partition nor the offset. ``next_fetch_offset`` is then the first
    offset not handed out: where the batch that failed starts. Records of the same
    fetch before that batch are handed out first (the fetch ends early there, and the
    next fetch starts at the bad batch and raises): raising at once would have thrown
    them away with the fetch, and the partition would stop before them.
    """

    handed_out = False

    def __next__(self) -> Any:
        try:
            record = super().__next__()
        except StopIteration:
            raise
        except Exception as error:
            if self.handed_out:
                raise StopIteration from error
            raise UndecodableBatch(self._tp, self.next_fetch_offset, error) from error
        self.handed_out = True
        return record


def locate_decode_errors() -> None:
    """Make aiokafka's fetcher build :class:`_LocatedRecords` (process-wide; idempotent).

    The fetcher names the class at module level when it parses a fetch response; a
    subclass that only re-raises with a location changes nothing else.
    """
    aiokafka_fetcher.PartitionRecords = _LocatedRecords


# 9. Table reads across partitions --------------------------------------------------


@contextlib.contextmanager
def no_current_event() -> Iterator[None]:
    """Run without a current event, so that a table read looks in every partition.

    Inside an event, Faust's RocksDB store (``faust.stores.rocksdb.Store._get``)
    looks a key up only in the database of the current event's partition. The
    agent dedupes a whole batch at once, after the stream iterator has set the
    current event to the batch's last message, so the other partitions' articles
    would be looked up in the wrong database and never found: duplicates scored
    again. Without a current event the store asks every partition's bloom filter.
    The in-memory store has one dictionary and is indifferent.
    """
    token = _current_event.set(None)
    try:
        yield
    finally:
        _current_event.reset(token)


# 10. Deleting outside an event -------------------------------------------------------


def delete_in_partition(table: Any, key: Any, partition: int | None) -> None:
    """Remove ``key`` from ``table`` here and tombstone it in changelog ``partition``.

    Faust's ``del table[key]`` takes the changelog partition from the current
    event (``Table.on_key_del`` → ``partition_for_key``) and raises outside a
    stream. The dedupe window's sweep runs in a timer, so it removes the key from
    the store and sends the tombstone (value None: compaction then drops the key
    from the changelog topic) to the partition it names. With ``partition`` None,
    the partition the in-memory store recorded when it recovered the key is used;
    if there is none, the key is only forgotten here.
    """
    if partition is None:
        partition = getattr(table.data, "_key_partition", {}).get(key)
    forget_locally(table, key)
    if partition is not None:
        table.send_changelog(partition, key, None, value_serializer="raw")


def forget_locally(table: Any, key: Any) -> None:
    """Remove ``key`` from this worker's copy of ``table`` only (no changelog record).

    The in-memory store also remembers the partition of every key it recovered
    (``_key_partition``), which only a tombstone read from the changelog would
    clear: cleared here as well, or it would keep every recovered id.
    """
    store = table.data
    with no_current_event(), contextlib.suppress(KeyError):
        del store[key]
    key_partition = getattr(store, "_key_partition", None)
    if key_partition is not None:
        key_partition.pop(key, None)


# 11. A table's own store ------------------------------------------------------------


# Truthy (it has a query), and without a path, so each table's store names its
# databases after the table, as Faust's app-wide ``rocksdb://`` does.
ROCKSDB_STORE = "rocksdb:?driver=rocksdict"


def rocksdb_store() -> str:
    """The ``store=`` URL that puts a table in Faust's RocksDB store (its ``options``
    pick the driver), in an app whose other tables stay in its default store.

    Faust ignores ``app.Table(..., store="rocksdb://")``: yarl's URL of it is
    falsy, so ``Collection._new_store`` falls back to ``app.conf.store``. A URL
    with a path (``rocksdb:NAME``) names the databases, and a clone of the table
    (a windowed table's key index is one) would open the same ones (RocksDB: "lock
    hold by current process"); a host (``rocksdb://x``) makes Faust put them at the
    root of the file system. A URL with only a query has neither problem: the
    databases are ``tabledir/<table name>-<partition>.db``, as with an app-wide
    ``rocksdb://``.
    """
    return ROCKSDB_STORE


# 12. Recovery's start offsets -------------------------------------------------------


class ClaimwatchRecovery(faust_recovery.Recovery):
    """Faust's table recovery, except that it never seeks a changelog to ``None``.

    Faust files a changelog partition that has nothing persisted locally under
    offset ``None`` (``Recovery._add``) and replaces that with the partition's
    earliest offset only while it builds the offsets of a recovery. When a rebalance
    lands while a recovery is under way (a worker SIGKILLed, its replacement
    joining), the restarted recovery can reach its standby seek with such a ``None``
    left in place, and aiokafka's ``seek`` crashes the worker ("ValueError: Offset
    must be a positive integer", seen in the exactly-once chaos drill, issue 20).
    ``None`` means "nothing of this partition here yet", so the seek goes to the
    start of the partition, as Faust does for its own "-1".
    """

    async def _seek_offsets(self, consumer: Any, tps: Any, offsets: Any, title: str) -> None:
        for tp in tps:
            if offsets.get(tp, 0) is None:
                offsets[tp] = -1  # Faust's own "from the start"
        await super()._seek_offsets(consumer, tps, offsets, title)


def use_claimwatch_recovery(app: faust.App) -> None:
    """Make ``app``'s table manager recover with :class:`ClaimwatchRecovery`."""
    tables: Any = app.tables
    tables._recovery = ClaimwatchRecovery(app, tables, beacon=tables.beacon, loop=tables.loop)


# 13. A failed batch's transaction -------------------------------------------------


async def restart_transaction(producer: Any, transactional_id: str) -> None:
    """Abort the open transaction ``transactional_id`` and begin a new one.

    Faust never aborts a transaction: a batch whose publish or commit fails part-way
    leaves the outputs that got through in the open transaction, and a retry adds
    the batch's outputs again, so both copies commit together (the duplicates the
    exactly-once chaos drill found after a broker restart, issue 20). Before a retry
    the agent abandons the batch's transactions here.

    - Aborted: a new transaction begins for the retry.
    - Fenced (another worker owns the partition now): the producer is dropped, as
      Faust does on a fenced abort, and nothing new begins here, since a new producer would
      fence the rightful owner back; the retry fails until the rebalance reaches
      this worker and hands the batch back.
    - Refused by aiokafka because a send already found the fence (its fatal state):
      as fenced.
    - Refused by aiokafka otherwise (no transaction open, or one caught mid-commit):
      the producer is replaced by a new one, whose ``InitProducerId`` has the
      coordinator abort whatever the old one left open.

    All of it under the partition's transaction lock, which every transactional send
    takes first (:class:`TransactionalSends`): no table write queued in Faust's
    producer buffer slips in between the abort and the new begin.
    """
    transactions = producer._transaction_producers
    if transactions.get(transactional_id) is None:  # fenced before, or never assigned here
        return
    with contextlib.suppress(RuntimeError):  # "Cannot flush: Producer not Running"
        await producer.buffer.flush()  # queued table writes of this batch: into what is aborted
    async with _lock(producer, transactional_id):
        client = transactions.get(transactional_id)
        if client is None:
            return
        try:
            await client.abort_transaction()  # aiokafka's own: Faust's hides every error
        except ProducerFenced:
            log.warning("transaction %s is fenced: left to the new owner", transactional_id)
            await _drop(transactions, transactional_id)
            return
        except Exception as error:  # aiokafka's IllegalStateError and kin
            if _fatal(client):  # a send found the fence first: as above
                log.warning(
                    "transaction %s is fenced (%r): left to the new owner", transactional_id, error
                )
                await _drop(transactions, transactional_id)
                return
            log.warning(
                "abort of transaction %s refused (%r); replacing its producer",
                transactional_id,
                error,
            )
            await _new_producer(producer, transactional_id)
            return
        await client.begin_transaction()


def _fatal(client: Any) -> bool:
    """Whether aiokafka put the client's transactions in its fatal state, which a send
    that found the producer fenced does: the abort is then refused, not fenced, yet a
    new producer here would fence the partition's new owner (a paused worker did, and
    committed its stale batch a second time: 1 duplicate in the full drill)."""
    manager = getattr(client, "_txn_manager", None)
    return bool(manager is not None and manager.is_fatal_error())


def _lock(producer: Any, transactional_id: str) -> asyncio.Lock:
    """The partition's transaction lock, made once and never replaced (Faust makes a new
    one whenever it makes a producer, which would let a waiting sender through)."""
    lock: asyncio.Lock = producer._trn_locks.setdefault(transactional_id, asyncio.Lock())
    return lock


async def _new_producer(producer: Any, transactional_id: str) -> None:
    """Replace the client of ``transactional_id`` by a new one in a transaction (the
    caller holds its lock). Its ``InitProducerId`` fences every older holder of the id
    and has the coordinator abort what they left open."""
    transactions = producer._transaction_producers
    await _drop(transactions, transactional_id)
    client = producer._new_producer(transactional_id=transactional_id)
    await client.start()
    transactions[transactional_id] = client
    await client.begin_transaction()


async def _drop(transactions: dict[str, Any], transactional_id: str) -> None:
    stale = transactions.pop(transactional_id, None)
    if stale is not None:
        with contextlib.suppress(Exception):
            await stale.stop()


# 14. Transactions over a rebalance ------------------------------------------------


class TransactionFenced(Exception):
    """A commit found its transaction fenced: another producer took the partition's
    transactional id, so the batch's outputs and offsets did not commit."""


class FreshTransactions(faust_consumer.TransactionManager):
    """Faust's transaction manager, with a new producer per partition at each rebalance.

    Faust keeps the producer of a partition that stays assigned over a rebalance and
    asks it to begin again, which fails ("Invalid state transition IN_TRANSACTION ->
    IN_TRANSACTION") and is swallowed, so the open transaction carries over. Two
    things then go wrong under exactly-once (issue 20):

    - After every rebalance Faust's recovery seeks the partitions back to their
      committed offsets, so the messages whose outputs sit in that open transaction
      are read and scored again into it, and both copies commit together (1
      duplicate in a short exactly-once drill with pauses).
    - A worker paused past its session timeout comes back with producers that the
      partition's owner in between has fenced. The first begin after a fence checks
      nothing on the broker, so a partition it gets back stays on a dead producer:
      its sends fail with ``IllegalOperation: Can't send messages while not in
      transaction`` until some later rebalance, possibly never (the stall of the
      issue), and a commit that finds the fence crashes the worker: Faust answers
      ``ProducerFenced`` with ``app.crash`` (faust-streaming #323).

    So each rebalance stops the producer of every assigned partition and starts a new
    one. Its ``InitProducerId`` makes it the partition's only producer: the
    coordinator aborts whatever the old one left open and fences any other holder of
    the id, which after this rebalance is never the rightful owner. What the old
    transaction held is read again from the committed offset. A commit that finds its
    transaction fenced raises :class:`TransactionFenced`: the batch is retried or
    handed back, and the worker lives on.
    """

    source_topic: str = ""  # set by use_claimwatch_consumer

    async def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: Any,
        *,
        transactional_id: str | None = None,
    ) -> Any:
        """Faust's transactional send, except for a topic the group's assignment left out.

        Faust names a send's transaction after the topic's co-partitioned group in the
        last assignment, and the assignor leaves out topics the cluster did not have
        yet ("Ignoring missing topic"). A changelog topic created just after the
        assignment, on a fresh cluster, then had no group, and the table write's
        ``KeyError`` crashed Faust's producer buffer and the worker (full exactly-once
        chaos drill, a worker started 10 s before its neighbour was SIGKILLed). Every
        table of this app is written in the partitions of ``source_topic``, so such a
        topic takes that topic's group; the next rebalance (the new topic changes the
        subscription's metadata) files it properly.
        """
        assignor: Any = self.app.assignor
        p = self.consumer.key_partition(topic, key, partition)
        if p is None or topic in assignor._topic_groups:
            return await super().send(
                topic, key, value, partition, timestamp, headers, transactional_id=transactional_id
            )
        try:
            group = assignor.group_for_topic(self.source_topic)
        except KeyError as error:  # nothing assigned yet: fail this write, not the worker
            return _failed(ProducerSendError(f"no transaction for {topic}: {error}"))
        return await self.producer.send(
            topic, key, value, p, timestamp, headers,
            transactional_id=f"{self.app.conf.id}-{group}-{p}",
        )

    async def on_rebalance(self, assigned: Any, revoked: Any, newly_assigned: Any) -> None:
        await super().on_rebalance(set(), revoked, newly_assigned)  # stops the revoked
        producer: Any = self.producer
        tids = sorted(self._tps_to_transactional_ids(assigned))
        if tids:
            await producer.buffer.flush()  # queued table writes: into the old transactions
        for transactional_id in tids:
            async with _lock(producer, transactional_id):
                try:
                    await _new_producer(producer, transactional_id)
                except Exception:  # the broker away: the batch's sends fail until it is back
                    log.exception("no new producer for transaction %s", transactional_id)
        if tids:
            log.info("began %d fresh transactions for %d partitions", len(tids), len(assigned))

    async def commit(self, offsets: Any, start_new_transaction: bool = True) -> bool:
        producer: Any = self.producer
        group_id = self.app.conf.id
        by_transactional_id: dict[str, dict[Any, int]] = defaultdict(dict)
        for tp, offset in offsets.items():
            group = self.app.assignor.group_for_topic(tp.topic)
            by_transactional_id[f"{group_id}-{group}-{tp.partition}"][tp] = offset
        for transactional_id, committed in sorted(by_transactional_id.items()):
            try:
                await producer.commit_transactions(
                    {transactional_id: committed},
                    group_id,
                    start_new_transaction=start_new_transaction,
                )
            except ProducerFenced as fenced:
                raise TransactionFenced(transactional_id) from fenced
            # Committed, whatever happens to the next: the agent must not retry these.
            consumer: Any = self.consumer
            consumer._committed_offset.update(committed)
        return True


def _failed(error: BaseException) -> asyncio.Future[Any]:
    """A send's answer that fails what awaits it, instead of raising inside Faust's
    producer buffer (which crashes the worker)."""
    failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    failed.set_exception(error)
    return failed


class TransactionalSends(faust_aiokafka.Producer):
    """Faust's producer, except that a transactional send waits for the partition's lock
    *before* it picks the client, and never raises: a send that fails returns a failed
    future instead.

    Faust picks the client first, then waits for the lock, so a send queued while the
    client is being replaced goes to the stopped one; and an error raised by ``send``
    (no client, not in a transaction) inside Faust's producer buffer, which sends the
    tables' changelog writes, crashes the whole worker ("ProducerBuffer: Crashed
    reason=IllegalOperation('Can't send messages while not in transaction')", seen in
    the exactly-once chaos drill). A failed future fails what waits for it: the agent's
    batch (retried), or Faust's own callback for a buffered table write, which logs it;
    that write belonged to a transaction that does not commit.
    """

    async def flush(self) -> None:
        """Faust's flush over a snapshot of the transactional clients: Faust iterates the
        live dict across awaits, and a client replaced meanwhile (a batch abandoning
        its transaction during a rebalance) crashed the worker with "dictionary changed
        size during iteration" (exactly-once CI drill)."""
        await self.buffer.flush()
        if self._producer is not None:
            await self._producer.flush()
        for client in list(self._transaction_producers.values()):
            await client.flush()

    async def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: Any,
        *,
        transactional_id: str | None = None,
    ) -> Any:
        if not transactional_id:
            return await super().send(topic, key, value, partition, timestamp, headers)
        try:
            async with _lock(self, transactional_id):
                client = self._transaction_producers.get(transactional_id)
                if client is None:
                    raise ProducerSendError(f"no transaction producer for {transactional_id}")
                if isinstance(headers, dict):
                    headers = list(headers.items())
                self._send_on_produce_message(
                    key=key, value=value, partition=partition, timestamp=timestamp, headers=headers
                )
                timestamp_ms = int(timestamp * 1000.0) if timestamp else None
                return await client.send(
                    topic,
                    value,
                    key=key,
                    partition=partition,
                    timestamp_ms=timestamp_ms,
                    headers=headers if self.allow_headers else None,
                )
        except Exception as error:
            return _failed(error)

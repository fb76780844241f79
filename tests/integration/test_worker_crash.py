"""A worker SIGKILLed mid-stream and restarted loses nothing (DESIGN.md invariant 1).

At-least-once may repeat outputs after the crash; exactly-once (Kafka transactions)
must not: a ``read_committed`` reader sees every article exactly once. The restarted
worker takes the killed one's data directory, so it finds the local tables as the
kill left them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from worker_proc import (
    TopicReader,
    WorkerProcess,
    article,
    produce,
    synthetic_articles,
    wait_until,
)

from service.settings import Settings

STREAM = 2000
KILL_AFTER = 400


def read_every_article(
    reader: TopicReader, ids: set[str], worker: WorkerProcess, what: str = "every article"
) -> None:
    """Read until every id has an outcome (120 s), then to the end of the topics; on a
    timeout say how many are missing, which come first, and how ``worker`` is doing."""
    try:
        reader.read_until(lambda: reader.accounted() >= ids, 120, what)
    except AssertionError as timeout:
        missing = sorted(ids - reader.accounted())
        raise AssertionError(
            f"{timeout}: {len(missing)} of {len(ids)} missing (first: {missing[:5]});\n"
            f"{worker.describe()}"
        ) from None
    reader.read_to_end()


def group_state(settings: Settings) -> str | None:
    """The consumer group's state as the broker reports it ("Empty" = no members)."""
    admin = KafkaAdminClient(**settings.kafka_client_config())
    try:
        [group] = admin.describe_consumer_groups([settings.app_id])
        return str(group.state)
    finally:
        admin.close()


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
def test_sigkill_mid_stream_then_restart_loses_nothing(
    guarantee: str,
    delivery_settings: Settings,
    create_topics: Callable[..., list[str]],
    tmp_path: Path,
) -> None:
    create_topics(partitions=2)
    settings = replace(
        delivery_settings,
        topic_partitions=2,
        processing_guarantee=guarantee,
        session_timeout_s=6.0,  # the killed worker's partitions come back quickly
    )
    committed_only = guarantee == "exactly_once"
    articles = synthetic_articles(STREAM, "k")
    ids = {article_id for article_id, _ in articles}
    outputs = [settings.topic_scored, settings.topic_deadletter]
    reader = TopicReader(settings, outputs, read_committed=committed_only)

    first = WorkerProcess(settings, tmp_path, "first").start()
    second = WorkerProcess(settings, tmp_path, "second")
    try:
        first.wait_ready()
        produce(settings, [article(i, text) for i, text in articles])
        reader.read_until(
            lambda: len(reader.accounted()) >= KILL_AFTER, 60, f"{KILL_AFTER} outputs"
        )
        first.kill()
        reader.poll()
        assert len(reader.accounted()) < STREAM, "the worker finished before it was killed"

        # Restart once the group has let go of the killed member: the new worker then
        # starts from the killed one's last commit (rebalances while busy are
        # test_worker_group.py's subject).
        wait_until(lambda: group_state(settings) == "Empty", 60, "the dead member to expire")
        second.start()
        read_every_article(reader, ids, second, "every article after the restart")
    finally:
        first.ensure_stopped()
        second.ensure_stopped()
        reader.close()

    assert reader.accounted() == ids
    if committed_only:
        repeats = {i: n for i, n in Counter(reader.ids(settings.topic_scored)).items() if n > 1}
        assert repeats == {}, f"{len(repeats)} articles decided twice under exactly-once"


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
def test_killed_between_table_writes_and_commit_then_restarted_loses_nothing(
    guarantee: str,
    delivery_settings: Settings,
    create_topics: Callable[..., list[str]],
    tmp_path: Path,
) -> None:
    """The kill lands after the dedupe entries of a batch are written, before its commit.

    Under exactly-once the local store then marks as decided articles whose outputs
    were aborted with the transaction; the restarted worker must score them again,
    not skip them as repeats (the loss the chaos drill found).
    """
    create_topics(partitions=1)
    settings = replace(
        delivery_settings,
        topic_partitions=1,
        processing_guarantee=guarantee,
        session_timeout_s=6.0,
        batch_size=50,
    )
    committed_only = guarantee == "exactly_once"
    articles = synthetic_articles(400, "t")
    ids = {article_id for article_id, _ in articles}
    outputs = [settings.topic_scored, settings.topic_deadletter]
    reader = TopicReader(settings, outputs, read_committed=committed_only)
    first = WorkerProcess(settings, tmp_path, "dying", module="worker_killed_before_commit")
    second = WorkerProcess(settings, tmp_path, "second")
    try:
        first.start({"KILL_AT_BATCH": "2"})
        first.wait_ready()
        produce(settings, [article(i, text) for i, text in articles])
        assert first.wait_exit(120) == -9, first.log_tail()
        assert "test fault: killed after the tables of batch 2" in first.log_tail()
        wait_until(lambda: group_state(settings) == "Empty", 60, "the dead member to expire")
        second.start()
        read_every_article(reader, ids, second)
    finally:
        first.ensure_stopped()
        second.ensure_stopped()
        reader.close()

    assert reader.accounted() == ids
    if committed_only:
        repeats = {i: n for i, n in Counter(reader.ids(settings.topic_scored)).items() if n > 1}
        assert repeats == {}, f"{len(repeats)} articles decided twice under exactly-once"


def test_exactly_once_batch_failing_half_way_is_retried_without_duplicates(
    delivery_settings: Settings,
    create_topics: Callable[..., list[str]],
    tmp_path: Path,
) -> None:
    """Half of a batch's outputs reach the broker, then its publish fails; the retry
    must not commit that half a second time (the batch's transaction is aborted
    first) nor skip the batch as already decided."""
    create_topics(partitions=1)
    settings = replace(
        delivery_settings, topic_partitions=1, processing_guarantee="exactly_once", batch_size=50
    )
    articles = synthetic_articles(300, "h")
    ids = {article_id for article_id, _ in articles}
    reader = TopicReader(
        settings, [settings.topic_scored, settings.topic_deadletter], read_committed=True
    )
    worker = WorkerProcess(settings, tmp_path, "failing", module="worker_failing_publish")
    try:
        worker.start({"FAIL_AT_BATCH": "2"})
        worker.wait_ready()
        produce(settings, [article(i, text) for i, text in articles])
        read_every_article(reader, ids, worker)
        worker.assert_alive()
        assert "test fault: batch 2 failed after" in worker.log_tail(400)
    finally:
        worker.ensure_stopped()
        reader.close()

    assert reader.accounted() == ids
    repeats = {i: n for i, n in Counter(reader.ids(settings.topic_scored)).items() if n > 1}
    assert repeats == {}, f"{len(repeats)} articles decided twice under exactly-once"


def test_a_refused_commit_files_the_brokers_offsets_and_loses_nothing(
    delivery_settings: Settings, create_topics: Callable[..., list[str]], tmp_path: Path
) -> None:
    """A commit the consumer refuses (the group rebalanced meanwhile) leaves where each
    partition starts as the broker holds it, not the refused offsets nor nothing
    (issue 20: a partition without a start let the gap guard admit past a hole);
    the batch is then retried and every article decided."""
    create_topics(partitions=2)
    settings = replace(delivery_settings, topic_partitions=2, batch_size=50)
    articles = synthetic_articles(600, "r")
    ids = {article_id for article_id, _ in articles}
    reader = TopicReader(settings, [settings.topic_scored, settings.topic_deadletter])
    worker = WorkerProcess(settings, tmp_path, "refused", module="worker_refused_commit")
    try:
        worker.start({"REFUSE_AT_COMMIT": "3"})
        worker.wait_ready()
        produce(settings, [article(i, text) for i, text in articles])
        read_every_article(reader, ids, worker)
        worker.assert_alive()
        log = worker.log_tail(2000)
    finally:
        worker.ensure_stopped()
        reader.close()

    [line] = [line for line in log.splitlines() if "test fault: commit refused" in line]
    filed, held = line.split("; filed ")[1].split("; broker held ")
    assert filed == held, line
    assert "None" not in held, line  # two commits came first: the broker holds offsets
    assert reader.accounted() == ids

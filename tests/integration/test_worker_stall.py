"""A partition that goes quiet with messages read but never delivered is read again;
an upstream writing articles in Kafka transactions.

The worker runs with a consumer that loses the last messages of partition 0 once
(``worker_losing_tail.py``): its position is past them, nothing later reveals the
hole, and without the stall watch they would stay unscored and uncommitted forever.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from kafka import KafkaProducer
from worker_proc import (
    TopicReader,
    WorkerProcess,
    article,
    produce,
    synthetic_articles,
    wait_until,
)

from service.settings import Settings
from service.worker.stalls import first_message

LOST = 3


def rereads(worker: WorkerProcess) -> float:
    with urllib.request.urlopen(worker.url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    found = re.search(r"^claimwatch_partition_rereads_total (\S+)$", text, re.MULTILINE)
    assert found, "claimwatch_partition_rereads_total is not exported"
    return float(found.group(1))


def test_a_partition_quiet_with_lost_messages_is_read_again(
    delivery_settings: Settings, create_topics: Callable[..., list[str]], tmp_path: Path
) -> None:
    create_topics(partitions=2)
    settings = replace(delivery_settings, topic_partitions=2)
    articles = synthetic_articles(200, "q")
    ids = {i for i, _ in articles}
    # everything is on the broker before the worker reads: the end of partition 0 is final
    produce(settings, [article(i, text) for i, text in articles], partition_of=lambda n: n % 2)
    reader = TopicReader(settings, [settings.topic_scored, settings.topic_deadletter])
    worker = WorkerProcess(settings, tmp_path, "losing", module="worker_losing_tail")

    try:
        worker.start({"LOSE_TAIL_MESSAGES": str(LOST)}).wait_ready()

        def all_accounted() -> bool:
            worker.assert_alive()
            return reader.accounted() >= ids

        reader.read_until(all_accounted, 90, "every article, the lost ones too")
        log = worker.log_path.read_text(errors="replace")
        assert log.count("test fault: lost offset") == LOST, worker.log_tail()
        assert "nothing after" in log and "reading again from" in log, worker.log_tail()
        assert rereads(worker) >= 1
    finally:
        worker.ensure_stopped()
        reader.close()
    assert reader.accounted() == ids


def produce_in_transaction(
    settings: Settings, articles: list[tuple[str, str]], abort: bool = False
) -> None:
    """Send ``articles`` in one Kafka transaction, as a transactional upstream would."""
    producer = KafkaProducer(
        **settings.kafka_client_config(), transactional_id=f"upstream-{settings.app_id}"
    )
    try:
        producer.init_transactions()
        producer.begin_transaction()
        for key, value in (article(i, text) for i, text in articles):
            producer.send(settings.topic_articles, key=key, value=value)
        producer.flush()  # on the broker, in the log, before the outcome is decided
        if abort:
            producer.abort_transaction()
        else:
            producer.commit_transaction()
    finally:
        producer.close(10)


def test_transaction_markers_at_the_end_of_a_partition_are_looked_at_and_passed(
    delivery_settings: Settings, create_topics: Callable[..., list[str]], tmp_path: Path
) -> None:
    # An upstream producer writing in transactions leaves a commit marker after each
    # transaction: at rest the consumer's position is one past the last article, the
    # watch looks once, and the next article (after the marker) must still go through.
    create_topics(partitions=2)
    settings = replace(delivery_settings, topic_partitions=2)
    reader = TopicReader(settings, [settings.topic_scored])
    worker = WorkerProcess(settings, tmp_path, "markers")
    expected: set[str] = set()

    def all_decided() -> bool:
        worker.assert_alive()
        return set(reader.ids(settings.topic_scored)) >= expected

    try:
        worker.start().wait_ready()
        for burst in (synthetic_articles(100, "b1-"), synthetic_articles(100, "b2-")):
            produce_in_transaction(settings, burst)
            expected |= {i for i, _ in burst}
            reader.read_until(all_decided, 90, "the burst")
            wait_until(lambda: rereads(worker) >= 1, 30, "the watch to look at rest")
    finally:
        worker.ensure_stopped()
        reader.close()
    assert set(reader.ids(settings.topic_scored)) == expected


def test_articles_of_an_aborted_upstream_transaction_are_never_scored(
    delivery_settings: Settings, create_topics: Callable[..., list[str]], tmp_path: Path
) -> None:
    # Faust reads uncommitted messages unless it runs exactly-once; the worker reads
    # committed ones in both guarantees (service/worker/app.py: ReadCommittedConsumer).
    create_topics(partitions=2)
    settings = replace(delivery_settings, topic_partitions=2)
    reader = TopicReader(settings, [settings.topic_scored, settings.topic_deadletter])
    worker = WorkerProcess(settings, tmp_path, "aborted")
    aborted, committed = synthetic_articles(60, "abort-"), synthetic_articles(60, "keep-")
    kept = {i for i, _ in committed}

    def all_kept() -> bool:
        worker.assert_alive()
        return reader.accounted() >= kept

    try:
        worker.start().wait_ready()
        produce_in_transaction(settings, aborted, abort=True)
        produce_in_transaction(settings, committed)  # after the aborted ones in each partition
        reader.read_until(all_kept, 90, "the committed articles")
        reader.read_to_end()
    finally:
        worker.ensure_stopped()
        reader.close()
    assert reader.accounted() == kept


def test_the_look_at_a_quiet_partition_finds_its_first_message_past_markers(
    delivery_settings: Settings, create_topics: Callable[..., list[str]]
) -> None:
    # What the stall watch lets the re-read go on at (service/worker/stalls.py): the
    # first committed message the broker holds, never a later one; None past markers.
    create_topics(partitions=1)
    settings = replace(delivery_settings, topic_partitions=1)
    topic = settings.topic_articles
    produce(settings, [article(i, t) for i, t in synthetic_articles(2, "plain-")])  # 0, 1
    produce_in_transaction(settings, synthetic_articles(2, "gone-"), abort=True)  # 2, 3 + 4
    produce_in_transaction(settings, synthetic_articles(1, "kept-"))  # 5 + its marker 6
    assert first_message(settings, topic, 0, 0, 7) == 0
    assert first_message(settings, topic, 0, 1, 7) == 1
    assert first_message(settings, topic, 0, 2, 7) == 5  # aborted messages and a marker
    assert first_message(settings, topic, 0, 2, 5) is None  # nothing committed before 5
    assert first_message(settings, topic, 0, 6, 7) is None  # the commit marker only

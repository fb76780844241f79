"""The dedupe window against the real broker: within the window a repeat is skipped;
after it, the sweep tombstones the id in the compacted changelog and a repeat is
scored again, as new. Both table stores; the worker restarts in between, so the
RocksDB copy on disk and the changelog replay must agree with the tombstone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from worker_proc import TopicReader, WorkerProcess, article, produce, wait_until

from service.settings import Settings

WINDOW_S = 8.0  # long enough for a repeat sent at once to land inside it
TEXT = "The minister reportedly approved the contract. Her office denied it."


def changelog(settings: Settings) -> str:
    return f"{settings.app_id}-seen-articles-changelog"


def changelog_records(settings: Settings) -> list[tuple[str, dict | None]]:
    """Every (id, value) on the dedupe table's changelog, tombstones as None."""
    consumer = KafkaConsumer(**settings.kafka_client_config(), group_id=None)
    try:
        tp = TopicPartition(changelog(settings), 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        end = consumer.end_offsets([tp])[tp]
        records: list[tuple[str, dict | None]] = []
        while consumer.position(tp) < end:
            for batch in consumer.poll(timeout_ms=500).values():
                for r in batch:
                    value = None if r.value is None else json.loads(r.value)
                    records.append((json.loads(r.key), value))
        return records
    finally:
        consumer.close()


def cleanup_policy(settings: Settings) -> str:
    admin = KafkaAdminClient(**settings.kafka_client_config())
    try:
        [response] = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, changelog(settings))]
        )
        resources = response.to_object()["resources"]
        configs = {c["config_names"]: c["config_value"] for c in resources[0]["config_entries"]}
        return str(configs["cleanup.policy"])
    finally:
        admin.close()


def decisions_of(reader: TopicReader, settings: Settings, article_id: str) -> list[dict]:
    records = reader.records[settings.topic_scored]
    return [r.value for r in records if r.value["article_id"] == article_id]


@pytest.mark.parametrize("store", ["rocksdict", "memory"])
def test_a_repeat_is_skipped_within_the_window_and_scored_again_after_it(
    store: str,
    broker_settings: Settings,
    create_topics: Callable[..., list[str]],
    tmp_path: Path,
) -> None:
    create_topics(partitions=1)  # one partition: a marker decided means all before it were
    settings = replace(
        broker_settings, topic_partitions=1, dedupe_window_s=WINDOW_S, table_store=store
    )
    reader = TopicReader(settings, [settings.topic_scored])
    worker = WorkerProcess(settings, tmp_path / "logs").start()
    try:
        worker.wait_ready(120)
        produce(settings, [article("w1", TEXT)])
        reader.read_until(lambda: len(decisions_of(reader, settings, "w1")) == 1, 60, "w1")

        produce(settings, [article("w1", TEXT), article("marker1", TEXT)])
        reader.read_until(lambda: decisions_of(reader, settings, "marker1"), 60, "marker1")
        assert len(decisions_of(reader, settings, "w1")) == 1  # within the window: skipped

        wait_until(lambda: ("w1", None) in changelog_records(settings), 60, "the tombstone of w1")
        assert cleanup_policy(settings) == "compact"
        assert worker.stop() == 0
        worker = WorkerProcess(settings, tmp_path / "logs", "restarted").start()
        worker.wait_ready(120)

        produce(settings, [article("w1", TEXT), article("marker2", TEXT)])
        reader.read_until(lambda: decisions_of(reader, settings, "marker2"), 60, "marker2")
        again = decisions_of(reader, settings, "w1")
        assert [d["version"] for d in again] == [1, 1]  # after the window: scored as new
        assert again[1]["source"]["offset"] == 3
    finally:
        worker.ensure_stopped()
        reader.close()

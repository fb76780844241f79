"""Building the worker's app, without a broker."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from service.settings import Settings
from service.worker.app import build_app, new_metrics
from service.worker.model_reload import ModelHolder


def test_building_the_app_leaves_the_consumer_to_the_faust_worker(tmp_path: Path) -> None:
    # A consumer created before Faust's worker starts is built without transactions,
    # and exactly-once silently becomes at-least-once (seen here once).
    settings = Settings(
        processing_guarantee="exactly_once", home=tmp_path, data_dir=tmp_path / "data"
    )
    worker = build_app(settings, ModelHolder(None), new_metrics(settings))
    assert worker.app._consumer is None
    assert worker.app.conf.processing_guarantee.value == "exactly_once"
    assert worker.articles.acks is False  # the agent commits this topic itself


def test_the_outputs_are_compressed_with_the_configured_codec(tmp_path: Path) -> None:
    for codec, expected in (("lz4", "lz4"), ("zstd", "zstd"), ("none", None)):
        settings = Settings(compression=codec, home=tmp_path, data_dir=tmp_path / codec)
        worker = build_app(settings, ModelHolder(None), new_metrics(settings))
        assert worker.app.conf.producer_compression_type == expected
        # the aiokafka producer Faust builds from it (built, not started: no broker)
        producer = asyncio.run(built(worker.app.producer))
        assert producer._compression_type == expected


def test_a_batch_the_broker_never_answers_fails_within_the_producer_timeout(
    tmp_path: Path,
) -> None:
    # Faust's default (1,200 s) let one batch hold a worker and its group for minutes
    settings = Settings(home=tmp_path, data_dir=tmp_path / "data")
    worker = build_app(settings, ModelHolder(None), new_metrics(settings))
    producer = asyncio.run(built(worker.app.producer))
    assert producer._request_timeout_ms == 20_000
    assert producer._message_accumulator._batch_ttl == 20.0  # held unsent, then failed


async def built(producer: Any) -> Any:
    return producer._new_producer()


def test_the_table_store_setting_picks_the_dedupe_tables_store(tmp_path: Path) -> None:
    from faust.stores import memory, rocksdb

    for store, kind in (("rocksdict", rocksdb.Store), ("memory", memory.Store)):
        settings = Settings(home=tmp_path, data_dir=tmp_path / store, table_store=store)
        worker = build_app(settings, ModelHolder(None), new_metrics(settings))
        assert isinstance(worker.seen.data, kind)
        assert isinstance(worker.source_scored.table.data, memory.Store)
        assert worker.data_dir.path == tmp_path / store / "worker-0"
        worker.data_dir.release()


def test_changelog_segments_roll_so_that_compaction_and_retention_apply(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path, data_dir=tmp_path / "d", dedupe_window_s=600, source_stats_window_s=60
    )
    worker = build_app(settings, ModelHolder(None), new_metrics(settings))
    assert worker.seen.changelog_topic.config["segment.ms"] == "600000"
    assert worker.source_scored.table.changelog_topic.config["segment.ms"] == "60000"
    week = Settings(home=tmp_path, data_dir=tmp_path / "w")
    worker = build_app(week, ModelHolder(None), new_metrics(week))
    assert worker.seen.changelog_topic.config["segment.ms"] == str(24 * 3600 * 1000)

"""Build the Faust app from settings: topics, tables, the agent and the web views.

Tests and the CLI each call :func:`build_app` with their own settings; nothing here
reads the environment.
"""

from __future__ import annotations

import ssl
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import faust
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor

from service.pipeline.language import known_languages
from service.pipeline.records import ERROR_CODES
from service.settings import Settings
from service.worker.agent import register_agent
from service.worker.faust_fixes import (
    rocksdb_store,
    use_claimwatch_consumer,
    use_claimwatch_recovery,
    wall_clock_windows,
)
from service.worker.local_state import claim_data_dir
from service.worker.metrics import ClaimwatchMetrics
from service.worker.model_reload import ModelHolder
from service.worker.scorer import Scorer
from service.worker.state import Worker
from service.worker.undecodable import UndecodableBatches
from service.worker.web import register_views

TIERS = ("high", "medium", "low")
# RocksDB options of the dedupe table, per partition database. Faust's defaults
# (64 MB write buffers, 3 of them, a 2 GB block cache) let one worker's memory grow
# by hundreds of MB before it levels off; entries are ~200 bytes, so small write
# buffers flush often enough, and a bloom filter of 10 bits per key (~1% false
# positives, Faust's default is 3) spares a disk read for almost every new id.
SEEN_SEGMENT_MAX_S = 24 * 3600.0
ROCKSDICT_OPTIONS = {
    "driver": "rocksdict",
    "write_buffer_size": 2 * 1024 * 1024,
    "max_write_buffer_number": 2,
    "block_cache_size": 4 * 1024 * 1024,
    "bloom_filter_size": 10,
}
# Under the broker's default message.max.bytes (~1 MB), which caps a record batch.
PRODUCER_BATCH_BYTES = 512 * 1024
# How long the producer may hold a batch or wait for a broker's answer before failing
# it (aiokafka's request_timeout_ms; Faust's default is 1,200 s). A failed batch is
# published again by the agent's retry; a batch held for 20 minutes stalled the worker
# and the group's rebalances behind it (issue 20: a commit stuck 12 minutes in the
# producer's flush after a broker kill in the full drill; a 30 s+ hang in CI's
# three-node broker-kill drill).
PRODUCER_REQUEST_TIMEOUT_S = 20.0


def broker_credentials(settings: Settings) -> Any:
    """Faust credentials from the SASL/TLS pass-through settings (None = plaintext)."""
    protocol = settings.security_protocol.upper()
    if protocol == "PLAINTEXT":
        return None
    context = None
    if "SSL" in protocol:
        context = ssl.create_default_context(cafile=settings.ssl_cafile)
        if settings.ssl_certfile:
            context.load_cert_chain(settings.ssl_certfile, settings.ssl_keyfile)
    if "SASL" in protocol:
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password,
            mechanism=settings.sasl_mechanism or "PLAIN",
            ssl_context=context,
        )
    return faust.SSLCredentials(context)


def output_compression(settings: Settings) -> str | None:
    """aiokafka's ``compression_type`` for ``CLAIMWATCH_COMPRESSION`` (None = uncompressed)."""
    return None if settings.compression == "none" else settings.compression


def _raw_topic(app: faust.App, name: str, acks: bool) -> Any:
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        acks=acks,
    )


def new_metrics(settings: Settings) -> ClaimwatchMetrics:
    """Metrics with every tier and error code pre-declared, so alerts see the first one."""
    return ClaimwatchMetrics(
        max_sources=settings.metrics_max_sources,
        tiers=TIERS,
        dead_letter_codes=ERROR_CODES,
        languages=(*known_languages(), *settings.supported_languages),
    )


def build_app(settings: Settings, holder: ModelHolder, metrics: ClaimwatchMetrics) -> Worker:
    """A configured Faust app with the scoring agent registered."""
    data_dir = claim_data_dir(settings.data_dir or settings.home / "worker" / settings.app_id)
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{server}" for server in settings.bootstrap_servers.split(",")],
        broker_credentials=broker_credentials(settings),
        store="memory://",
        datadir=str(data_dir.path),
        autodiscover=False,
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        processing_guarantee=settings.processing_guarantee,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 3),
        producer_acks=-1,
        producer_request_timeout=PRODUCER_REQUEST_TIMEOUT_S,
        consumer_auto_offset_reset="earliest",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        stream_wait_empty=False,
        broker_commit_every=max(100, settings.batch_size),
        broker_commit_interval=1.0,
        stream_buffer_maxsize=max(4096, settings.batch_size * 4),
        # The producer sends one request at a time per broker, holding at most one
        # batch per partition: at Faust's 16 KB a batch of decisions took several
        # round trips to publish (publishing 256 took ~35 ms, ~15 ms with large batches).
        producer_max_batch_size=PRODUCER_BATCH_BYTES,
        producer_compression_type=output_compression(settings),
    )
    undecodable = UndecodableBatches(metrics)
    use_claimwatch_consumer(app, undecodable.report, settings.topic_articles)
    use_claimwatch_recovery(app)
    # Faust's own sensors (messages, commits, rebalances, …) in the same registry,
    # under the prefix "faust_", so /metrics shows both.
    app.monitor = PrometheusMonitor(metrics=FaustMetrics.create(metrics.registry, "faust"))
    window = settings.source_stats_window_s
    worker = Worker(
        settings=settings,
        app=app,
        holder=holder,
        metrics=metrics,
        executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix="claimwatch-reload"),
        scorer=Scorer(settings.scoring),
        # acks=False: the agent commits this topic's offsets itself (service/worker/agent.py)
        articles=_raw_topic(app, settings.topic_articles, acks=False),
        seen=seen_table(app, settings),
        source_scored=wall_clock_windows(app, "source-scored", window),
        source_flagged=wall_clock_windows(app, "source-flagged", window),
        undecodable=undecodable,
    )
    worker.data_dir = data_dir
    metrics.watch_failing_batch(worker.failing.seconds)
    register_agent(worker)
    register_views(worker)
    return worker


def seen_table(app: faust.App, settings: Settings) -> Any:
    """The dedupe table, in the store ``CLAIMWATCH_TABLE_STORE`` names.

    ``rocksdict``: on local disk, so a restart replays only the changelog written
    since the worker last ran, and the ids need not fit in memory. ``memory``: the
    whole table is rebuilt from its changelog at every start.
    """
    # Compaction (dropping tombstoned and superseded ids) works on closed segments
    # only; at the default segment.ms (7 days) the open one would keep a week of
    # writes whatever the window.
    segment_s = min(settings.dedupe_window_s, SEEN_SEGMENT_MAX_S)
    topic = {"segment.ms": str(int(segment_s * 1000))}
    if settings.table_store == "rocksdict":
        return app.Table(
            "seen-articles",
            default=None,
            store=rocksdb_store(),
            options=dict(ROCKSDICT_OPTIONS),
            extra_topic_configs=topic,
        )
    return app.Table("seen-articles", default=None, store="memory://", extra_topic_configs=topic)

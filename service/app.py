"""Build the Faust app from settings: topics, tables, the agent and the web views.

Tests and the CLI each call :func:`build_app` with their own settings; nothing here
reads the environment.
"""

from __future__ import annotations

import ssl
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import faust
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.transport.drivers import aiokafka as faust_aiokafka

from service.metrics import ClaimwatchMetrics
from service.model_reload import ModelHolder
from service.records import ERROR_CODES
from service.scorer import Scorer
from service.settings import Settings

TIERS = ("high", "medium", "low")
# Under the broker's default message.max.bytes (~1 MB), which caps a record batch.
PRODUCER_BATCH_BYTES = 512 * 1024


@dataclass
class Worker:
    """Everything the agent and the views share, built once per app."""

    settings: Settings
    app: faust.App
    holder: ModelHolder
    metrics: ClaimwatchMetrics
    executor: ThreadPoolExecutor  # model reloads
    scorer: Scorer
    articles: Any
    seen: Any  # Faust table: article id -> {"hash", "version"}
    source_scored: Any  # windowed Faust tables: source -> count
    source_flagged: Any
    health: dict[str, float] = field(default_factory=dict)


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
        max_sources=settings.metrics_max_sources, tiers=TIERS, dead_letter_codes=ERROR_CODES
    )


def build_app(settings: Settings, holder: ModelHolder, metrics: ClaimwatchMetrics) -> Worker:
    """A configured Faust app with the scoring agent registered."""
    data_dir = settings.data_dir or settings.home / "worker" / settings.app_id
    data_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{server}" for server in settings.bootstrap_servers.split(",")],
        broker_credentials=broker_credentials(settings),
        store="memory://",
        datadir=str(data_dir),
        autodiscover=False,
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        processing_guarantee=settings.processing_guarantee,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 3),
        producer_acks=-1,
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
    )
    app.transport.Consumer = ReadCommittedConsumer  # type: ignore[misc]  # this app only
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
        # acks=False: the agent commits this topic's offsets itself (service/agent.py)
        articles=_raw_topic(app, settings.topic_articles, acks=False),
        seen=app.Table("seen-articles", default=None),
        source_scored=_windowed(app, "source-scored", window),
        source_flagged=_windowed(app, "source-flagged", window),
    )
    from service.agent import register_agent
    from service.web import register_views

    register_agent(worker)
    register_views(worker)
    return worker


class ReadCommittedConsumer(faust_aiokafka.Consumer):
    """Faust's Kafka consumer, reading only committed messages in either guarantee.

    Faust reads ``read_committed`` only with exactly-once. An upstream that writes
    articles in Kafka transactions and aborts one means those articles never
    happened; read uncommitted, they would be scored and flagged all the same.
    """

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ReadCommittedThread(self, loop=self.loop, beacon=self.beacon)


class _ReadCommittedThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka hands this to its fetcher when the consumer starts, which is later
        consumer._isolation_level = "read_committed"
        return consumer


class RereadAfterSeek(defaultdict[Any, Any]):
    """Faust's per-partition read offsets, except that no articles message is ever
    dropped as "already read".

    Faust's fetcher drops a message whose offset is below the partition's read
    offset. After a rebalance it seeks back to the committed offset and resets the
    read offset, but a fetch still being drained can set it forward again, and the
    messages read again after the seek are then dropped: seen here as articles
    never scored (with our commits) or a commit stuck forever (with Faust's). We
    would rather read a message twice (dedupe and at-least-once cover that) than
    not at all, so for the articles topic the read offset always answers None.
    """

    def __init__(self, topic: str, offsets: Any) -> None:
        super().__init__(lambda: None, offsets)
        self.topic = topic

    def __getitem__(self, tp: Any) -> Any:
        if tp.topic == self.topic:
            return None
        return super().__getitem__(tp)

    @classmethod
    def install(cls, worker: Worker) -> None:
        """Put into the worker's consumer, before its fetcher starts (the agent does
        this when it starts: creating the consumer any earlier, before Faust's worker
        marks the app as running in a worker, would build it without transactions)."""
        consumer: Any = worker.app.consumer
        if not isinstance(consumer._read_offset, cls):
            consumer._read_offset = cls(worker.settings.topic_articles, consumer._read_offset)


def _windowed(app: faust.App, name: str, window_s: float) -> Any:
    """A per-source counter over tumbling windows of the wall clock.

    Not ``relative_to_now()``: inside an event context Faust takes "now" from the
    partition's latest window end, which starts at 0, so every write lands in a
    1970 window while ``items().now()`` reads today's (robinhood/faust PR #199).
    """
    size = timedelta(seconds=window_s)
    table: Any = app.Table(name, default=int).tumbling(size, expires=size * 2, key_index=True)
    return table.relative_to(wall_clock)


def wall_clock(event: Any = None) -> float:
    """The time a windowed count is filed under: when the worker counted it."""
    return time.time()

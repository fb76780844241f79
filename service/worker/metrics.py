"""Domain metrics of the worker, exported in Prometheus' text format on ``/metrics``.

One :class:`ClaimwatchMetrics` per worker owns its own ``CollectorRegistry``, so tests
and several apps in one process never collide. The worker calls one method per event
(``article_consumed``, ``decision``, ``dead_letter`` ...) and the web view serves
:meth:`ClaimwatchMetrics.render`. Names follow Prometheus conventions: counters end in
``_total``, durations are in seconds, every name starts with ``claimwatch_``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

OUTCOMES = ("flagged", "passed")
LANGUAGE_OUTCOMES = (*OUTCOMES, "skipped")  # skipped: a language the model does not score
# Label value for a language outside the known set (a producer's own tag, say).
OTHER_LANGUAGE = "other"
RELOAD_RESULTS = ("ok", "failed")
# Label value that receives every source beyond the exported cap (and a source that
# is literally called "other", so one label value never means two things).
OTHER_SOURCE = "other"
UNKNOWN_SOURCE = "unknown"
# Long label values make every sample long; source names longer than this are cut.
MAX_SOURCE_LABEL_CHARS = 100

# Network + queueing + scoring: milliseconds when caught up, minutes under a backlog.
END_TO_END_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
)  # fmt: skip
BATCH_SECONDS_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
ARTICLE_SECONDS_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
)  # fmt: skip
SCORE_BUCKETS = tuple(round(0.05 * i, 2) for i in range(1, 21))  # 0.05, 0.10 ... 1.0
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

#: Every series name the class exports, as written in PromQL. Counters carry their
#: ``_total``; histograms are listed by base name (PromQL adds ``_bucket``, ``_sum``,
#: ``_count``).
DOMAIN_METRICS: tuple[str, ...] = (
    "claimwatch_articles_consumed_total",
    "claimwatch_decisions_total",
    "claimwatch_dead_letters_total",
    "claimwatch_duplicates_skipped_total",
    "claimwatch_dedupe_expired_total",
    "claimwatch_batch_failures_total",
    "claimwatch_events_handed_back_total",
    "claimwatch_offset_gaps_total",
    "claimwatch_partition_rereads_total",
    "claimwatch_language_decisions_total",
    "claimwatch_undecodable_batches_total",
    "claimwatch_undecodable_partitions",
    "claimwatch_article_score",
    "claimwatch_batch_scoring_seconds",
    "claimwatch_article_scoring_seconds",
    "claimwatch_batch_size_articles",
    "claimwatch_end_to_end_latency_seconds",
    "claimwatch_consumer_lag_messages",
    "claimwatch_batch_failing_seconds",
    "claimwatch_model_info",
    "claimwatch_model_loaded_timestamp_seconds",
    "claimwatch_model_reloads_total",
    "claimwatch_source_contested_ratio",
    "claimwatch_source_window_articles",
)
#: Process and interpreter metrics from prometheus_client's own collectors, registered
#: in every registry the class creates (process_* only on Linux, where /proc exists).
RUNTIME_METRICS: tuple[str, ...] = (
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_start_time_seconds",
    "process_open_fds",
    "process_max_fds",
    "python_info",
    "python_gc_objects_collected_total",
    "python_gc_objects_uncollectable_total",
    "python_gc_collections_total",
)
EXPORTED_METRICS: tuple[str, ...] = DOMAIN_METRICS + RUNTIME_METRICS
HISTOGRAMS: frozenset[str] = frozenset(
    {
        "claimwatch_article_score",
        "claimwatch_batch_scoring_seconds",
        "claimwatch_article_scoring_seconds",
        "claimwatch_batch_size_articles",
        "claimwatch_end_to_end_latency_seconds",
    }
)

SourceCounts = tuple[int, int]  # (articles scored, articles flagged) in the window


def fold_sources(rates: Mapping[str, SourceCounts], max_sources: int) -> dict[str, SourceCounts]:
    """Keep the ``max_sources`` busiest sources by name and sum the rest into ``other``.

    Bounds the label cardinality of the per-source metrics whatever upstream sends.
    Ties are broken by name so the same input always exports the same series; sources
    with nothing scored in the window are dropped.
    """
    merged: dict[str, list[int]] = {}
    for raw_name, (scored, flagged) in rates.items():
        if scored <= 0:
            continue
        name = (raw_name or UNKNOWN_SOURCE)[:MAX_SOURCE_LABEL_CHARS]
        totals = merged.setdefault(name, [0, 0])
        totals[0] += scored
        totals[1] += flagged
    other = merged.pop(OTHER_SOURCE, [0, 0])
    ranked = sorted(merged.items(), key=lambda item: (-item[1][0], item[0]))
    kept = dict(ranked[: max(max_sources, 0)])
    for _, (scored, flagged) in ranked[max(max_sources, 0) :]:
        other[0] += scored
        other[1] += flagged
    folded = {name: (scored, flagged) for name, (scored, flagged) in kept.items()}
    if other[0] > 0:
        folded[OTHER_SOURCE] = (other[0], other[1])
    return folded


class ClaimwatchMetrics:
    """The worker's domain metrics, registered in one registry and rendered together.

    ``registry``: where to register; by default a new registry that also carries the
    process, platform and GC collectors. ``max_sources`` caps the per-source series
    (``settings.metrics_max_sources``). Flags of each of ``tiers`` and dead letters of
    each of ``dead_letter_codes`` start at zero, so ``rate()`` sees the first event;
    decisions per language are labelled with one of ``languages`` (the detector's codes
    and the supported ones) or ``other``, so a producer's tags cannot add series.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        max_sources: int = 50,
        tiers: Iterable[str] = (),
        dead_letter_codes: Iterable[str] = (),
        languages: Iterable[str] = (),
    ) -> None:
        if registry is None:
            registry = CollectorRegistry()
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)
            GCCollector(registry=registry)
        self.registry = registry
        self.max_sources = max_sources
        self.languages = frozenset(languages)
        self._build_counters()
        self._build_histograms()
        self._build_gauges()
        for tier in tiers:
            self._decisions.labels(outcome="flagged", tier=tier)
        for code in dead_letter_codes:
            self._dead_letters.labels(code=code)
        for result in RELOAD_RESULTS:
            self._model_reloads.labels(result=result)

    def _build_counters(self) -> None:
        r = self.registry
        self._consumed = Counter(
            "claimwatch_articles_consumed", "Messages read from the articles topic.", registry=r
        )
        self._decisions = Counter(
            "claimwatch_decisions",
            "Articles scored, by outcome (flagged/passed) and tier.",
            ["outcome", "tier"],
            registry=r,
        )
        self._dead_letters = Counter(
            "claimwatch_dead_letters",
            "Messages sent to the dead-letter topic, by error code.",
            ["code"],
            registry=r,
        )
        self._duplicates = Counter(
            "claimwatch_duplicates_skipped",
            "Articles skipped because their id was already decided.",
            registry=r,
        )
        self._dedupe_expired = Counter(
            "claimwatch_dedupe_expired",
            "Article ids the dedupe window forgot (removed from the table and its changelog).",
            registry=r,
        )
        self._batch_failures = Counter(
            "claimwatch_batch_failures",
            "Batches whose outputs could not be published; they stay uncommitted and are retried.",
            registry=r,
        )
        self._handed_back = Counter(
            "claimwatch_events_handed_back",
            "Messages left uncommitted because their partition moved away in a rebalance or the"
            " worker stopped; the partition's owner reads them again.",
            registry=r,
        )
        self._offset_gaps = Counter(
            "claimwatch_offset_gaps",
            "Times a partition's next message skipped offsets; the worker read it again from"
            " the first missing offset before committing past it.",
            registry=r,
        )
        self._partition_rereads = Counter(
            "claimwatch_partition_rereads",
            "Times a partition went quiet with messages read by the consumer but never"
            " delivered to the agent; the worker read it again from the next expected offset.",
            registry=r,
        )
        self._language_decisions = Counter(
            "claimwatch_language_decisions",
            "Decisions by the article's language and outcome (flagged, passed, or skipped:"
            " a language the model does not score).",
            ["language", "outcome"],
            registry=r,
        )
        self._undecodable = Counter(
            "claimwatch_undecodable_batches",
            "Record batches the Kafka client could not decode (missing codec, bad CRC,"
            " corrupt data); each stops its partition until an operator acts.",
            ["topic"],
            registry=r,
        )
        self._model_reloads = Counter(
            "claimwatch_model_reloads",
            "Model (re)load attempts after start, by result (ok/failed).",
            ["result"],
            registry=r,
        )

    def _build_histograms(self) -> None:
        r = self.registry
        self._scores = Histogram(
            "claimwatch_article_score",
            "Calibrated probability that an article carries a contested claim.",
            buckets=SCORE_BUCKETS,
            registry=r,
        )
        self._batch_seconds = Histogram(
            "claimwatch_batch_scoring_seconds",
            "Time to score one micro-batch.",
            buckets=BATCH_SECONDS_BUCKETS,
            registry=r,
        )
        self._article_seconds = Histogram(
            "claimwatch_article_scoring_seconds",
            "Scoring time per article (batch time divided by batch size).",
            buckets=ARTICLE_SECONDS_BUCKETS,
            registry=r,
        )
        self._batch_size = Histogram(
            "claimwatch_batch_size_articles",
            "Articles per scored micro-batch.",
            buckets=BATCH_SIZE_BUCKETS,
            registry=r,
        )
        self._latency = Histogram(
            "claimwatch_end_to_end_latency_seconds",
            "Time from the Kafka record timestamp to the decision.",
            buckets=END_TO_END_BUCKETS,
            registry=r,
        )

    def _build_gauges(self) -> None:
        r = self.registry
        self._undecodable_partitions = Gauge(
            "claimwatch_undecodable_partitions",
            "Partitions this worker owns that are stopped at a record batch it cannot decode.",
            registry=r,
        )
        self._lag = Gauge(
            "claimwatch_consumer_lag_messages",
            "Messages between the consumer's read position and the end of each assigned partition.",
            ["topic", "partition"],
            registry=r,
        )
        self._batch_failing = Gauge(
            "claimwatch_batch_failing_seconds",
            "How long the batch in flight has been failing to publish (0 when none is):"
            " its partitions make no progress meanwhile.",
            registry=r,
        )
        self._model_info = Gauge(
            "claimwatch_model_info",
            "The model in use: always 1, labelled with its version and artifact sha256.",
            ["version", "sha256"],
            registry=r,
        )
        self._model_loaded_at = Gauge(
            "claimwatch_model_loaded_timestamp_seconds",
            "Unix time the model in use was loaded.",
            registry=r,
        )
        self._source_ratio = Gauge(
            "claimwatch_source_contested_ratio",
            "Share of a source's articles flagged over the rolling window "
            '(top sources by volume, the rest folded into source="other").',
            ["source"],
            registry=r,
        )
        self._source_articles = Gauge(
            "claimwatch_source_window_articles",
            "Articles scored per source over the rolling window.",
            ["source"],
            registry=r,
        )

    # -- the path of an article ------------------------------------------------

    def article_consumed(self, n: int = 1) -> None:
        """Count ``n`` messages read from the articles topic, whatever becomes of them."""
        self._consumed.inc(n)

    def duplicate_skipped(self, n: int = 1) -> None:
        """Count articles dropped by dedupe."""
        self._duplicates.inc(n)

    def dedupe_expired(self, n: int) -> None:
        """Count ids the dedupe window's sweep removed."""
        self._dedupe_expired.inc(n)

    def batch_failed(self) -> None:
        """Count one batch whose outputs failed to publish (it will be retried)."""
        self._batch_failures.inc()

    def watch_failing_batch(self, seconds: Callable[[], float]) -> None:
        """Export ``seconds()`` (how long the batch in flight has failed) at each scrape."""
        self._batch_failing.set_function(seconds)

    def handed_back(self, n: int) -> None:
        """Count ``n`` messages left uncommitted for the partition's next reader."""
        self._handed_back.inc(n)

    def offset_gap(self) -> None:
        """Count one gap in a partition's offsets (re-read from its start)."""
        self._offset_gaps.inc()

    def partition_read_again(self) -> None:
        """Count one quiet partition read again from its next expected offset."""
        self._partition_rereads.inc()

    def dead_letter(self, code: str) -> None:
        """Count one dead-lettered message under its stable error code."""
        self._dead_letters.labels(code=code).inc()

    def decision(self, outcome: str, tier: str, n: int = 1) -> None:
        """Count ``n`` decisions; ``outcome`` is ``"flagged"`` or ``"passed"``."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
        self._decisions.labels(outcome=outcome, tier=tier).inc(n)

    def language_decision(self, language: str, outcome: str, n: int = 1) -> None:
        """Count ``n`` decisions on articles in ``language``; ``outcome`` as in
        ``LANGUAGE_OUTCOMES``."""
        if outcome not in LANGUAGE_OUTCOMES:
            raise ValueError(f"outcome must be one of {LANGUAGE_OUTCOMES}, not {outcome!r}")
        label = language if language in self.languages else OTHER_LANGUAGE
        self._language_decisions.labels(language=label, outcome=outcome).inc(n)

    def undecodable_batch(self, topic: str) -> None:
        """Count one record batch of ``topic`` that the client could not decode."""
        self._undecodable.labels(topic=topic).inc()

    def set_undecodable_partitions(self, count: int) -> None:
        """How many owned partitions are stopped at an undecodable batch right now."""
        self._undecodable_partitions.set(count)

    def observe_scores(self, scores: Iterable[float]) -> None:
        """Add each article's score to the score distribution."""
        for score in scores:
            self._scores.observe(score)

    def observe_batch(self, size: int, seconds: float) -> None:
        """Record one scored batch: its size, its scoring time and the time per article."""
        if size <= 0:
            return
        self._batch_size.observe(size)
        self._batch_seconds.observe(seconds)
        per_article = seconds / size
        for _ in range(size):
            self._article_seconds.observe(per_article)

    def observe_latency(self, seconds: float) -> None:
        """Record now minus the record's Kafka timestamp; clock skew never goes below 0."""
        self._latency.observe(max(seconds, 0.0))

    # -- consumer and model state ----------------------------------------------

    def set_lag(self, topic: str, partition: int, lag: int) -> None:
        """Set the lag of one assigned partition (never below 0)."""
        self._lag.labels(topic=topic, partition=str(partition)).set(max(lag, 0))

    def forget_partition(self, topic: str, partition: int) -> None:
        """Drop a revoked partition's lag, so the new owner's value is the only one."""
        with contextlib.suppress(KeyError):
            self._lag.remove(topic, str(partition))

    def model_loaded(self, version: str, sha256: str, loaded_at: float | None = None) -> None:
        """Mark the model now in use; the previous model's info series disappears."""
        self._model_info.clear()
        self._model_info.labels(version=version, sha256=sha256).set(1)
        self._model_loaded_at.set(time.time() if loaded_at is None else loaded_at)

    def model_reload(self, result: str) -> None:
        """Count one reload attempt; ``result`` is ``"ok"`` or ``"failed"``."""
        if result not in RELOAD_RESULTS:
            raise ValueError(f"result must be one of {RELOAD_RESULTS}, not {result!r}")
        self._model_reloads.labels(result=result).inc()

    def update_source_rates(self, rates: Mapping[str, SourceCounts]) -> None:
        """Replace the per-source series with ``rates`` (source -> (scored, flagged)).

        At most ``max_sources`` named sources are exported, the rest as ``other``;
        sources absent from ``rates`` disappear.
        """
        folded = fold_sources(rates, self.max_sources)
        self._source_ratio.clear()
        self._source_articles.clear()
        for source, (scored, flagged) in folded.items():
            self._source_articles.labels(source=source).set(scored)
            self._source_ratio.labels(source=source).set(flagged / scored)

    # -- exposition --------------------------------------------------------------

    def render(self) -> tuple[bytes, str]:
        """The body and content type for a ``/metrics`` response."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


__all__ = [
    "DOMAIN_METRICS",
    "EXPORTED_METRICS",
    "RUNTIME_METRICS",
    "ClaimwatchMetrics",
    "fold_sources",
]

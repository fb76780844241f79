"""The worker's domain metrics: names, counts, buckets, the per-source cap and exposition."""

from __future__ import annotations

import math

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from service.worker.metrics import (
    DOMAIN_METRICS,
    EXPORTED_METRICS,
    HISTOGRAMS,
    OTHER_SOURCE,
    ClaimwatchMetrics,
    fold_sources,
)


def samples(metrics: ClaimwatchMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition, parsed back: (name, sorted labels) -> value."""
    body, _ = metrics.render()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def value(metrics: ClaimwatchMetrics, name: str, **labels: str) -> float | None:
    return samples(metrics).get((name, tuple(sorted(labels.items()))))


@pytest.fixture
def metrics() -> ClaimwatchMetrics:
    return ClaimwatchMetrics(max_sources=3)


def test_each_instance_owns_its_registry() -> None:
    first, second = ClaimwatchMetrics(), ClaimwatchMetrics()
    first.article_consumed(5)
    assert value(first, "claimwatch_articles_consumed_total") == 5
    assert value(second, "claimwatch_articles_consumed_total") == 0


def test_a_given_registry_is_used() -> None:
    registry = CollectorRegistry()
    metrics = ClaimwatchMetrics(registry)
    metrics.duplicate_skipped()
    assert metrics.registry is registry
    assert registry.get_sample_value("claimwatch_duplicates_skipped_total") == 1


def test_exposition_lists_exactly_the_declared_domain_metrics(metrics: ClaimwatchMetrics) -> None:
    # Create one series of every labelled family so each shows up.
    metrics.decision("flagged", "high")
    metrics.dead_letter("invalid_json")
    metrics.set_lag("articles", 0, 1)
    metrics.model_loaded("v1", "abc")
    metrics.update_source_rates({"a": (1, 1)})
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain; version=")
    exported: set[str] = set()
    for family in text_string_to_metric_families(body.decode()):
        # prometheus_client adds a "<name>_created" timestamp next to every counter
        # and histogram; it belongs to its family and is not listed separately.
        if family.name.endswith("_created"):
            continue
        exported.add(family.name + "_total" if family.type == "counter" else family.name)
        if family.type == "histogram":
            assert family.name in HISTOGRAMS
    assert {n for n in exported if n.startswith("claimwatch_")} == set(DOMAIN_METRICS)
    # Runtime collectors (process_* needs /proc, i.e. Linux).
    assert "python_info" in exported
    assert set(EXPORTED_METRICS) >= exported


def test_names_follow_prometheus_conventions() -> None:
    for name in DOMAIN_METRICS:
        assert name.startswith("claimwatch_")
        assert "_ms" not in name and "milliseconds" not in name
    counters = [n for n in DOMAIN_METRICS if n.endswith("_total")]
    assert len(counters) == 12
    for name in HISTOGRAMS:
        assert name in DOMAIN_METRICS


def test_counters(metrics: ClaimwatchMetrics) -> None:
    metrics.article_consumed()
    metrics.article_consumed(9)
    metrics.decision("flagged", "high")
    metrics.decision("passed", "none", n=4)
    metrics.dead_letter("invalid_json")
    metrics.dead_letter("invalid_json")
    metrics.dead_letter("text_too_large")
    metrics.duplicate_skipped(2)
    assert value(metrics, "claimwatch_articles_consumed_total") == 10
    assert value(metrics, "claimwatch_decisions_total", outcome="flagged", tier="high") == 1
    assert value(metrics, "claimwatch_decisions_total", outcome="passed", tier="none") == 4
    assert value(metrics, "claimwatch_dead_letters_total", code="invalid_json") == 2
    assert value(metrics, "claimwatch_dead_letters_total", code="text_too_large") == 1
    assert value(metrics, "claimwatch_duplicates_skipped_total") == 2


def test_known_labels_start_at_zero_so_rate_sees_the_first_event() -> None:
    metrics = ClaimwatchMetrics(tiers=["high", "medium"], dead_letter_codes=["invalid_json"])
    for tier in ("high", "medium"):
        assert value(metrics, "claimwatch_decisions_total", outcome="flagged", tier=tier) == 0
    # Passed articles have their own tier label (e.g. "none"): created on first use.
    assert value(metrics, "claimwatch_decisions_total", outcome="passed", tier="high") is None
    assert value(metrics, "claimwatch_dead_letters_total", code="invalid_json") == 0
    assert value(metrics, "claimwatch_model_reloads_total", result="ok") == 0
    assert value(metrics, "claimwatch_model_reloads_total", result="failed") == 0


def test_unknown_outcome_or_reload_result_is_refused(metrics: ClaimwatchMetrics) -> None:
    with pytest.raises(ValueError, match="outcome"):
        metrics.decision("contested", "high")
    with pytest.raises(ValueError, match="result"):
        metrics.model_reload("maybe")


def test_batch_records_size_batch_time_and_time_per_article(metrics: ClaimwatchMetrics) -> None:
    metrics.observe_batch(4, 0.02)
    metrics.observe_batch(0, 1.0)  # an empty batch scores nothing and records nothing
    assert value(metrics, "claimwatch_batch_size_articles_count") == 1
    assert value(metrics, "claimwatch_batch_size_articles_sum") == 4
    assert value(metrics, "claimwatch_batch_size_articles_bucket", le="4.0") == 1
    assert value(metrics, "claimwatch_batch_size_articles_bucket", le="2.0") == 0
    assert value(metrics, "claimwatch_batch_scoring_seconds_count") == 1
    assert value(metrics, "claimwatch_batch_scoring_seconds_sum") == pytest.approx(0.02)
    assert value(metrics, "claimwatch_article_scoring_seconds_count") == 4
    assert value(metrics, "claimwatch_article_scoring_seconds_sum") == pytest.approx(0.02)
    assert value(metrics, "claimwatch_article_scoring_seconds_bucket", le="0.005") == 4
    assert value(metrics, "claimwatch_article_scoring_seconds_bucket", le="0.0025") == 0


def test_score_histogram_covers_zero_to_one(metrics: ClaimwatchMetrics) -> None:
    metrics.observe_scores([0.0, 0.04, 0.5, 0.97, 1.0])
    assert value(metrics, "claimwatch_article_score_count") == 5
    assert value(metrics, "claimwatch_article_score_bucket", le="0.05") == 2
    assert value(metrics, "claimwatch_article_score_bucket", le="0.5") == 3
    assert value(metrics, "claimwatch_article_score_bucket", le="0.95") == 3
    assert value(metrics, "claimwatch_article_score_bucket", le="1.0") == 5


def test_latency_buckets_span_milliseconds_to_an_hour(metrics: ClaimwatchMetrics) -> None:
    metrics.observe_latency(0.003)
    metrics.observe_latency(-2.0)  # producer clock ahead of ours: counted as 0
    metrics.observe_latency(900.0)
    assert value(metrics, "claimwatch_end_to_end_latency_seconds_bucket", le="0.005") == 2
    assert value(metrics, "claimwatch_end_to_end_latency_seconds_bucket", le="600.0") == 2
    assert value(metrics, "claimwatch_end_to_end_latency_seconds_bucket", le="1800.0") == 3
    assert value(metrics, "claimwatch_end_to_end_latency_seconds_sum") == pytest.approx(900.003)


def test_lag_per_partition_and_forgetting_a_revoked_partition(metrics: ClaimwatchMetrics) -> None:
    metrics.set_lag("articles", 0, 120)
    metrics.set_lag("articles", 1, -3)
    metrics.set_lag("articles", 0, 80)
    lag = "claimwatch_consumer_lag_messages"
    assert value(metrics, lag, topic="articles", partition="0") == 80
    assert value(metrics, lag, topic="articles", partition="1") == 0
    metrics.forget_partition("articles", 1)
    metrics.forget_partition("articles", 7)  # never assigned: no error
    assert value(metrics, lag, topic="articles", partition="1") is None
    assert value(metrics, lag, topic="articles", partition="0") == 80


def test_model_info_shows_only_the_current_model(metrics: ClaimwatchMetrics) -> None:
    metrics.model_loaded("2024.1", "aa11", loaded_at=1000.0)
    metrics.model_reload("ok")
    metrics.model_loaded("2024.2", "bb22", loaded_at=2000.0)
    metrics.model_reload("failed")
    info = {
        labels: v
        for (name, labels), v in samples(metrics).items()
        if name == "claimwatch_model_info"
    }
    assert info == {(("sha256", "bb22"), ("version", "2024.2")): 1.0}
    assert value(metrics, "claimwatch_model_loaded_timestamp_seconds") == 2000.0
    assert value(metrics, "claimwatch_model_reloads_total", result="ok") == 1
    assert value(metrics, "claimwatch_model_reloads_total", result="failed") == 1


def test_fold_sources_keeps_the_busiest_and_folds_the_rest_into_other() -> None:
    rates = {"a": (100, 10), "b": (50, 25), "c": (50, 0), "d": (10, 5), "e": (5, 5)}
    assert fold_sources(rates, 2) == {"a": (100, 10), "b": (50, 25), OTHER_SOURCE: (65, 10)}


def test_fold_sources_edge_cases() -> None:
    # A source literally called "other" merges with the folded rest.
    assert fold_sources({"other": (3, 1), "a": (10, 0), "b": (1, 1)}, 1) == {
        "a": (10, 0),
        OTHER_SOURCE: (4, 2),
    }
    # Under the cap nothing is folded; empty windows and nameless sources are handled.
    assert fold_sources({"a": (1, 0), "idle": (0, 0), "": (2, 2)}, 5) == {
        "unknown": (2, 2),
        "a": (1, 0),
    }
    assert fold_sources({"a": (1, 1)}, 0) == {OTHER_SOURCE: (1, 1)}
    assert fold_sources({}, 3) == {}
    # Very long names are cut so one sample stays small.
    (name,) = fold_sources({"x" * 1000: (1, 0)}, 3)
    assert len(name) == 100


def test_source_rates_cap_label_cardinality(metrics: ClaimwatchMetrics) -> None:
    rates = {f"source-{i:03d}": (1000 - i, i % 7) for i in range(500)}
    metrics.update_source_rates(rates)
    ratio = {
        dict(labels)["source"]: v
        for (name, labels), v in samples(metrics).items()
        if name == "claimwatch_source_contested_ratio"
    }
    assert set(ratio) == {"source-000", "source-001", "source-002", OTHER_SOURCE}
    assert ratio["source-001"] == pytest.approx(1 / 999)
    folded = [(1000 - i, i % 7) for i in range(3, 500)]
    expected_other = sum(f for _, f in folded) / sum(s for s, _ in folded)
    assert ratio[OTHER_SOURCE] == pytest.approx(expected_other)
    articles = value(metrics, "claimwatch_source_window_articles", source=OTHER_SOURCE)
    assert articles == sum(s for s, _ in folded)


def test_source_rates_replace_the_previous_window(metrics: ClaimwatchMetrics) -> None:
    metrics.update_source_rates({"gone": (10, 5), "stays": (4, 1)})
    metrics.update_source_rates({"stays": (8, 2)})
    assert value(metrics, "claimwatch_source_contested_ratio", source="gone") is None
    assert value(metrics, "claimwatch_source_window_articles", source="gone") is None
    assert value(metrics, "claimwatch_source_contested_ratio", source="stays") == 0.25


def test_exposition_parses_and_has_no_nan(metrics: ClaimwatchMetrics) -> None:
    metrics.update_source_rates({"a": (0, 0)})
    metrics.observe_scores([0.3])
    for v in samples(metrics).values():
        assert not math.isnan(v)


def test_decisions_per_language_keep_to_the_known_languages(metrics: ClaimwatchMetrics) -> None:
    counted = ClaimwatchMetrics(languages=("en", "fr"))
    counted.language_decision("en", "flagged")
    counted.language_decision("fr", "skipped", n=3)
    counted.language_decision("xx", "skipped")  # a producer's own tag
    counted.language_decision("yy", "passed", n=2)
    found = {
        labels: value
        for (name, labels), value in samples(counted).items()
        if name == "claimwatch_language_decisions_total"
    }
    assert found == {
        (("language", "en"), ("outcome", "flagged")): 1.0,
        (("language", "fr"), ("outcome", "skipped")): 3.0,
        (("language", "other"), ("outcome", "skipped")): 1.0,
        (("language", "other"), ("outcome", "passed")): 2.0,
    }
    with pytest.raises(ValueError, match="outcome must be one of"):
        counted.language_decision("en", "maybe")


def test_undecodable_batches_and_partitions(metrics: ClaimwatchMetrics) -> None:
    metrics.undecodable_batch("articles")
    metrics.undecodable_batch("articles")
    metrics.set_undecodable_partitions(2)
    found = samples(metrics)
    assert found["claimwatch_undecodable_batches_total", (("topic", "articles"),)] == 2.0
    assert found["claimwatch_undecodable_partitions", ()] == 2.0
    metrics.set_undecodable_partitions(0)
    assert samples(metrics)["claimwatch_undecodable_partitions", ()] == 0.0

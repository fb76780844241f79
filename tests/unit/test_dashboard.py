"""The Grafana dashboard and the alert rules only query metrics the worker exports."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.worker.metrics import DOMAIN_METRICS, EXPORTED_METRICS, HISTOGRAMS

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "claimwatch-dashboard.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"

# Series that exist without the worker exporting them: Prometheus writes ``up`` for
# every scrape target. Faust's own sensor metrics are deliberately not used by the
# dashboard or the alerts: their names depend on the prefix the worker registers them
# under, so anything listed here would have to be checked against that first.
PROMETHEUS_SERIES = frozenset({"up"})
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

# PromQL words that look like metric names: aggregations, operators, modifiers.
PROMQL_WORDS = frozenset({
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "and", "or", "unless", "by", "without", "on",
    "ignoring", "group_left", "group_right", "offset", "bool", "inf", "nan", "atan2",
})  # fmt: skip
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_LABEL_LISTS = re.compile(
    r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.IGNORECASE
)
_GRAFANA_VARIABLES = re.compile(r"\$\{[^}]*\}|\$\w+")
_IDENTIFIER = re.compile(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (Grafana variables allowed)."""
    text = _GRAFANA_VARIABLES.sub("1", expr)
    text = _STRINGS.sub('""', text)
    text = _MATCHERS.sub("", text)
    text = _RANGES.sub("", text)
    text = _LABEL_LISTS.sub("", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        word, call = match.group(1), match.group(2)
        if call or word.lower() in PROMQL_WORDS:
            continue  # a function call, an aggregation or a keyword
        names.add(word)
    return names


def recorded_names() -> set[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}


def is_exported(name: str) -> bool:
    """True for a worker metric, a histogram's series, a recording rule or ``up``."""
    if name in EXPORTED_METRICS or name in PROMETHEUS_SERIES or name in recorded_names():
        return True
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name.removesuffix(suffix) in HISTOGRAMS:
            return True
    return False


def dashboard_queries(node: Any) -> Iterator[str]:
    """Every PromQL expression in the dashboard: targets, annotations, variables."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            elif key == "definition" and isinstance(value, str):
                # label_values(metric, label) is Grafana's, not PromQL: keep the metric.
                found = re.fullmatch(r"label_values\((.*),\s*\w+\)", value)
                yield found.group(1) if found else value
            else:
                yield from dashboard_queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from dashboard_queries(item)


def alert_expressions() -> list[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return [r["expr"] for g in rules["groups"] for r in g["rules"]]


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def test_metric_names_reads_promql() -> None:
    expr = (
        "histogram_quantile(0.95, sum by (le, instance) (rate(claimwatch_x_bucket"
        '{instance=~"$instance", code="a b"}[$__rate_interval]))) / on () group_left '
        "sum(up offset 1d) and claimwatch:flag_ratio:rate1d > 0.5 * topk(3, foo)"
    )
    assert metric_names(expr) == {
        "claimwatch_x_bucket",
        "up",
        "claimwatch:flag_ratio:rate1d",
        "foo",
    }
    assert metric_names('absent(up{job="claimwatch"})') == {"up"}


def test_is_exported_strips_histogram_suffixes_only_from_histograms() -> None:
    assert is_exported("claimwatch_end_to_end_latency_seconds_bucket")
    assert is_exported("claimwatch_article_score_count")
    assert not is_exported("claimwatch_consumer_lag_messages_count")
    assert not is_exported("claimwatch_end_to_end_latency_seconds_total")


def test_dashboard_queries_only_exported_metrics(dashboard: dict[str, Any]) -> None:
    queries = list(dashboard_queries(dashboard))
    assert len(queries) >= 20
    unknown = {n for q in queries for n in metric_names(q) if not is_exported(n)}
    assert not unknown, f"dashboard queries metrics the worker does not export: {unknown}"


def test_alerts_query_only_exported_metrics() -> None:
    expressions = alert_expressions()
    unknown = {n for e in expressions for n in metric_names(e) if not is_exported(n)}
    assert not unknown, f"alert rules query metrics the worker does not export: {unknown}"


def test_dashboard_shows_every_domain_metric(dashboard: dict[str, Any]) -> None:
    used = set()
    for query in dashboard_queries(dashboard):
        for name in metric_names(query):
            for suffix in HISTOGRAM_SUFFIXES:
                name = (
                    name.removesuffix(suffix) if name.removesuffix(suffix) in HISTOGRAMS else name
                )
            used.add(name)
    assert set(DOMAIN_METRICS) <= used, set(DOMAIN_METRICS) - used


def test_dashboard_structure(dashboard: dict[str, Any]) -> None:
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert dashboard["uid"] == "claimwatch"
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "instance"} <= variables
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["title"] and panel["description"]
        assert panel["datasource"]["uid"] == "${datasource}"
        assert panel["targets"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24


def test_latency_panels_show_p50_p95_p99(dashboard: dict[str, Any]) -> None:
    for histogram in (
        "claimwatch_end_to_end_latency_seconds",
        "claimwatch_article_scoring_seconds",
        "claimwatch_batch_scoring_seconds",
    ):
        quantiles = {
            q
            for query in dashboard_queries(dashboard)
            if histogram + "_bucket" in query
            for q in re.findall(r"histogram_quantile\((0\.\d+)", query)
        }
        assert quantiles == {"0.5", "0.95", "0.99"}, histogram

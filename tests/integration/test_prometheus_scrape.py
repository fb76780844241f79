"""A real Prometheus scrapes a real worker: the counters it stores must add up."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service.settings import Settings
from tests.integration.worker_proc import (
    TopicReader,
    WorkerProcess,
    article,
    free_port,
    produce,
    wait_until,
)

VALID = 30
DUPLICATES = 5
INVALID = 5


def _prometheus_binary() -> str:
    binary = shutil.which("prometheus")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("prometheus is not installed; .ci/run installs Debian's prometheus")
        pytest.skip("prometheus is not installed here (CI installs it)")
    return binary


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Callable[[int], str]]:
    """Start Prometheus scraping a worker port every second; yields its base URL."""
    binary = _prometheus_binary()
    processes: list[subprocess.Popen[bytes]] = []

    def start(worker_port: int) -> str:
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: claimwatch\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{worker_port}']\n"
        )
        port = free_port()
        log = (tmp_path / "prometheus.log").open("wb")
        processes.append(
            subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        return f"http://127.0.0.1:{port}"

    yield start
    for process in processes:
        process.terminate()
        process.wait(30)


def query(base: str, promql: str) -> list[dict[str, Any]]:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.loads(response.read())
    except OSError:
        return []
    return body["data"]["result"] if body.get("status") == "success" else []


def scalar(base: str, promql: str) -> float | None:
    result = query(base, promql)
    return float(result[0]["value"][1]) if result else None


def test_prometheus_scrapes_counters_that_add_up(
    broker_settings: Settings,
    create_topics: Callable[..., list[str]],
    tmp_path: Path,
    prometheus: Callable[[int], str],
) -> None:
    create_topics(partitions=broker_settings.topic_partitions)
    worker = WorkerProcess(broker_settings, tmp_path).start()
    try:
        worker.wait_ready(90)
        base = prometheus(worker.port)
        wait_until(
            lambda: scalar(base, 'up{job="claimwatch"}') == 1.0,
            60,
            "Prometheus to scrape the worker",
        )

        messages = [
            article(
                f"p{i}",
                f"Officials allegedly hid report number {i}; the ministry denied it.",
                source=f"src{i % 3}",
            )
            for i in range(VALID)
        ]
        messages += messages[:DUPLICATES]
        messages += [(f"bad{i}".encode(), b"{not json") for i in range(INVALID)]
        produce(broker_settings, messages)

        reader = TopicReader(
            broker_settings, [broker_settings.topic_scored, broker_settings.topic_deadletter]
        )
        try:
            reader.read_until(
                lambda: (
                    reader.count(broker_settings.topic_scored) >= VALID
                    and reader.count(broker_settings.topic_deadletter) >= INVALID
                ),
                90,
                "every decision and dead letter",
            )
        finally:
            reader.close()

        total = VALID + DUPLICATES + INVALID
        wait_until(
            lambda: scalar(base, "claimwatch_articles_consumed_total") == total,
            60,
            f"consumed_total == {total} in Prometheus",
        )
        consumed = scalar(base, "claimwatch_articles_consumed_total")
        decided = scalar(base, "sum(claimwatch_decisions_total)")
        dead = scalar(base, "sum(claimwatch_dead_letters_total)")
        skipped = scalar(base, "claimwatch_duplicates_skipped_total")
        assert (decided, dead, skipped) == (VALID, INVALID, DUPLICATES)
        assert consumed == decided + dead + skipped
        assert scalar(base, 'claimwatch_dead_letters_total{code="invalid_json"}') == INVALID

        assert scalar(base, "claimwatch_end_to_end_latency_seconds_count") == VALID
        p50 = scalar(base, "histogram_quantile(0.5, claimwatch_end_to_end_latency_seconds_bucket)")
        assert p50 is not None and 0 < p50 < 60
        assert scalar(base, "sum(claimwatch_batch_size_articles_count)") >= 1
        assert scalar(base, "count(claimwatch_model_info)") == 1
        # Faust's own sensors are exported beside ours.
        assert (scalar(base, "faust_messages_received_total") or 0) >= total
    finally:
        worker.ensure_stopped()

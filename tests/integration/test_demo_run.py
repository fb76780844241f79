"""`make run` shows the flags of this run, not those an earlier run left on the topic.

The recipe stamps the run's start, gives the sample articles ids of this run (the
worker would skip a repeated id and text as a duplicate, and flag nothing), and
tails the review topic from the start stamp: ``review tail --since``. These tests
check the recipe, and ``--since`` against the real broker with older messages on
the topic.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from kafka import KafkaProducer

from service.kafka.sample import with_id_suffix
from service.settings import PREFIX, Settings
from tests.integration.test_review_tail import record
from tests.integration.worker_proc import ROOT

HOUR_MS = 3_600_000


def test_make_run_tails_the_flags_of_this_run(tmp_path: Path) -> None:
    local = tmp_path / "local"
    result = subprocess.run(
        ["make", "-n", "run", f"LOCAL={local}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    recipe = result.stdout
    assert f"date +%s > {local}/run-started" in recipe
    assert f'--id-suffix "@run-$(cat {local}/run-started)"' in recipe
    assert f"review tail --since $(cat {local}/run-started) --max 3" in recipe
    assert "--from-beginning --max" not in recipe


def test_id_suffix_gives_the_same_articles_new_ids() -> None:
    articles = [{"id": "demo-budget", "text": "t", "source": "s"}]
    assert with_id_suffix(articles, "@run-7") == [
        {"id": "demo-budget@run-7", "text": "t", "source": "s"}
    ]
    assert articles[0]["id"] == "demo-budget"  # the input is left alone


def cli(settings: Settings, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            f"{PREFIX}BOOTSTRAP_SERVERS": settings.bootstrap_servers,
            f"{PREFIX}TOPIC_FLAGGED": settings.topic_flagged,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_tail_since_skips_what_came_before(
    broker_settings: Settings, create_topics: Callable[..., list[str]]
) -> None:
    create_topics(partitions=2)
    now_ms = int(time.time() * 1000)
    earlier = [(f"old-{i}", now_ms - 2 * HOUR_MS + i) for i in range(3)]
    this_run = [(f"new-{i}", now_ms + i) for i in range(2)]
    producer = KafkaProducer(**broker_settings.kafka_client_config(), acks="all")
    for article_id, stamp in [*earlier, *this_run]:
        value = json.dumps(record(article_id, "high", 0.9, "wire", f"Title {article_id}"))
        producer.send(
            broker_settings.topic_flagged,
            key=article_id.encode(),
            value=value.encode(),
            timestamp_ms=stamp,
        )
    producer.flush(30)
    producer.close()
    since = str((now_ms - HOUR_MS) / 1000)

    result = cli(broker_settings, "review", "tail", "--since", since, "--json", "--max", "2")
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    shown = [json.loads(line)["article_id"] for line in result.stdout.splitlines()]
    assert sorted(shown) == ["new-0", "new-1"]

    topic = broker_settings.topic_flagged
    result = cli(broker_settings, "tail", topic, "--since", since, "--json", "--timeout", "3")
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    keys = [json.loads(line)["key"] for line in result.stdout.splitlines()]
    assert sorted(keys) == ["new-0", "new-1"]

    # a start after every message: nothing yet, only what comes next
    later = str((now_ms + HOUR_MS) / 1000)
    result = cli(broker_settings, "tail", topic, "--since", later, "--json", "--timeout", "3")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")

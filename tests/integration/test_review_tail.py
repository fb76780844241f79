"""`claimwatch review tail` against the real broker: filters, highlighting, JSON, bad records,
and the items of one claim grouped (``--group``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka import KafkaProducer

from service.settings import Settings

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]
TEXT = "The senator reportedly took the money. Her spokesman denied it."


def record(article_id: str, tier: str, score: float, source: str, title: str) -> dict[str, object]:
    start = TEXT.index("reportedly")
    denial = TEXT.index("denied")
    return {
        "article_id": article_id,
        "title": title,
        "source": source,
        "text": TEXT,
        "score": score,
        "tier": tier,
        "flagged": True,
        "threshold": 0.5,
        "model": {"name": "m", "version": "1", "artifact_hash": "h"},
        "signals": [
            {
                "text": "reportedly",
                "category": "hedged_attribution",
                "start": start,
                "end": start + 10,
                "sentence": 0,
            },
            {
                "text": "denied",
                "category": "denial",
                "start": denial,
                "end": denial + 6,
                "sentence": 1,
            },
        ],
        "sentences": [
            {"index": 0, "text": TEXT[:38], "start": 0, "end": 38},
            {"index": 1, "text": TEXT[39:], "start": 39, "end": len(TEXT)},
        ],
        "contested_pairs": [],
    }


def tail(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        CLAIMWATCH_BOOTSTRAP_SERVERS=settings.bootstrap_servers,
        CLAIMWATCH_TOPIC_FLAGGED=settings.topic_flagged,
        PYTHONPATH=str(ROOT),
    )
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "service.cli",
            "review",
            "tail",
            "--from-beginning",
            "--timeout",
            "3",
            *args,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_review_tail_filters_and_highlights(
    broker_settings: Settings, create_topics: Callable[..., list[str]]
) -> None:
    create_topics(partitions=1)
    producer = KafkaProducer(**broker_settings.kafka_client_config(), acks="all")
    values = [
        json.dumps(record("a", "high", 0.95, "wire", "Senator \x1b[2Jtook money")).encode(),
        b"{not json",
        json.dumps(record("b", "medium", 0.7, "wire", "Medium item")).encode(),
        json.dumps(record("c", "high", 0.8, "blog", "Blog item")).encode(),
    ]
    for value in values:
        producer.send(broker_settings.topic_flagged, value=value)
    producer.flush(30)
    producer.close()

    result = tail(broker_settings, "--tier", "high", "--no-color", "--group")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # a and c carry the same text: one claim, told by two sources
    (header,) = [line for line in out.splitlines() if line.startswith("== claim ")]
    cluster_id = header.split()[2].rstrip(":")
    assert header == f"== claim {cluster_id}: 2 articles, 2 sources · Senator \ufffd[2Jtook money"
    assert f"  claim {cluster_id} · new" in out
    assert f"  claim {cluster_id} · article 2 · 2 sources · first: Senator" in out
    assert "Senator \ufffd[2Jtook money" in out and "\x1b" not in out
    assert "Blog item" in out and "Medium item" not in out
    assert "The senator [[reportedly]](hedged_attribution) took the money." in out
    assert "Her spokesman [[denied]](denial) it." in out
    assert "score 0.950 · tier high" in out
    assert "skipping offset 1" in result.stderr

    result = tail(broker_settings, "--json", "--min-score", "0.75", "--source", "WIRE")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["article_id"] for line in lines] == ["a"]
    assert lines[0]["cluster_id"] == cluster_id

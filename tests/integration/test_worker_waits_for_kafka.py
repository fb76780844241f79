"""The worker started before its broker (Compose, Kubernetes) waits, then decides everything.

The test plans the broker's ports, starts `claimwatch worker` against them while
nothing listens there, checks that it waits (alive, not ready, one line per
attempt), then starts the broker on those ports, produces articles at once, and
waits until every one of them is decided.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.kafka import cluster as kafka_cluster
from service.kafka.launcher import resolve_jars
from service.kafka.topics import TopicSpec, admin_client, ensure_topics
from service.settings import Settings
from tests.conftest import _home
from tests.integration.worker_proc import (
    TopicReader,
    WorkerProcess,
    article,
    free_port,
    produce,
    synthetic_text,
    wait_until,
)

ARTICLES = 300
WAITING = re.compile(
    r" WARNING claimwatch\.startup: waiting for Kafka at 127\.0\.0\.1:\d+: connection refused "
    r"\(attempt (\d+); next try in \d+s; giving up in \d+s\)$"
)


@pytest.fixture
def libs() -> Path:
    return resolve_jars(_home(), progress=lambda _m: None)


@pytest.fixture
def planned_ports() -> tuple[int, int]:
    """A listener and a controller port for a broker that is not there yet."""
    ports: set[int] = set()
    while len(ports) < 2:
        ports.add(free_port())
    listener, controller = sorted(ports)
    return listener, controller


@pytest.fixture
def settings(planned_ports: tuple[int, int], unique: str, tmp_path: Path) -> Settings:
    prefix = f"t{unique}."
    # One partition: should the worker's consumer ask for the articles topic before
    # the test creates it, the broker creates it with its default, which is also 1.
    return Settings(
        bootstrap_servers=f"127.0.0.1:{planned_ports[0]}",
        startup_timeout_s=300,
        home=tmp_path / "home",
        app_id=f"claimwatch-{unique}",
        data_dir=tmp_path / "worker-data",
        topic_articles=prefix + "articles",
        topic_flagged=prefix + "articles.flagged",
        topic_scored=prefix + "articles.scored",
        topic_deadletter=prefix + "articles.deadletter",
        topic_verdicts=prefix + "articles.verdicts",
        topic_claims=prefix + "articles.claims",
        topic_partitions=1,
    )


@pytest.fixture
def late_broker(
    libs: Path, planned_ports: tuple[int, int], tmp_path: Path
) -> Iterator[list[kafka_cluster.Cluster]]:
    """Where the test puts the cluster it starts; stopped at the end."""
    started: list[kafka_cluster.Cluster] = []
    yield started
    for cluster in started:
        kafka_cluster.stop(cluster, progress=lambda _m: None)


def test_worker_started_before_its_broker_waits_then_decides_every_article(
    settings: Settings,
    libs: Path,
    planned_ports: tuple[int, int],
    late_broker: list[kafka_cluster.Cluster],
    tmp_path: Path,
) -> None:
    worker = WorkerProcess(settings, tmp_path).start()
    reader = None
    try:
        # 1. no broker: alive, not ready, and it has been waiting for two attempts
        wait_until(lambda: _attempts_on_readyz(worker) >= 2, 120, "two failed attempts")
        assert worker.get("/healthz") == (200, {"status": "ok", "phase": "waiting_for_kafka"})
        # 2. the broker comes up on the planned ports, and articles go in at once
        listener, controller = planned_ports
        cluster = kafka_cluster.up(
            tmp_path / "kafka",
            libs,
            port=listener,
            controller_port=controller,
            progress=lambda _m: None,
        )
        late_broker.append(cluster)
        assert cluster.bootstrap_servers == settings.bootstrap_servers
        _create_topics(settings)
        messages = [article(f"late-{i}", synthetic_text(i)) for i in range(ARTICLES)]
        produce(settings, messages)
        # 3. every article is decided, and the worker is ready
        reader = TopicReader(settings, [settings.topic_scored, settings.topic_deadletter])
        expected = {f"late-{i}" for i in range(ARTICLES)}
        reader.read_until(
            lambda: expected <= set(reader.ids(settings.topic_scored)),
            240,
            f"{ARTICLES} decisions after the broker came up",
        )
        assert reader.count(settings.topic_deadletter) == 0
        assert worker.wait_ready(120)["status"] == "ready"
        assert worker.stop() == 0, worker.log_tail()
    finally:
        worker.ensure_stopped()
        if reader:
            reader.close()
    lines = worker.log_path.read_text().splitlines()
    attempts = [int(m[1]) for m in (WAITING.search(line) for line in lines) if m]
    assert len(attempts) >= 2 and attempts == list(range(1, len(attempts) + 1)), lines
    answered = [line for line in lines if "claimwatch.startup: Kafka at" in line]
    assert len(answered) == 1 and answered[0].endswith(
        f"claimwatch.startup: Kafka at {settings.bootstrap_servers} answers "
        f"after {len(attempts)} failed attempts"
    )
    assert not any("Traceback" in line for line in lines), "\n".join(lines)


def _attempts_on_readyz(worker: WorkerProcess) -> int:
    """The number of the last failed attempt /readyz names (0 before the first)."""
    worker.assert_alive()
    answer = worker.get("/readyz")
    if not answer or answer[0] != 503:
        return 0
    found = re.search(r"\(attempt (\d+);", " ".join(answer[1].get("problems", [])))
    return int(found[1]) if found else 0


def _create_topics(settings: Settings) -> None:
    admin = admin_client(settings.kafka_client_config())
    try:
        specs = [TopicSpec(name, 1, 1) for name in settings.topics.all()]
        ensure_topics(admin, specs)
    finally:
        admin.close()

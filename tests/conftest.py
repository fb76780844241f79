"""Session fixtures: a real Apache Kafka broker started for the test session.

Set CLAIMWATCH_BOOTSTRAP_SERVERS to run the broker tests against a broker you
already have; otherwise the session starts one on free ports (jars from the
per-user cache that `claimwatch kafka fetch` fills) and stops it at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from models.artifact import v1_artifact
from service.kafka import cluster as kafka_cluster
from service.kafka.launcher import Cluster, resolve_jars
from service.kafka.topics import TopicSpec, admin_client, ensure_topics
from service.settings import Settings, default_home


def _home() -> Path:
    configured = os.environ.get("CLAIMWATCH_HOME")
    return Path(configured) if configured else default_home()


@pytest.fixture(scope="session")
def local_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster | None]:
    """The broker this session started, or None when CLAIMWATCH_BOOTSTRAP_SERVERS names one."""
    if os.environ.get("CLAIMWATCH_BOOTSTRAP_SERVERS"):
        yield None
        return
    libs = resolve_jars(_home(), progress=lambda _m: None)
    directory = tmp_path_factory.mktemp("kafka")
    cluster = kafka_cluster.up(directory, libs, nodes=1, free_ports=True, progress=lambda _m: None)
    try:
        yield cluster
    finally:
        kafka_cluster.stop(cluster, progress=lambda _m: None)


@pytest.fixture(scope="session")
def kafka_bootstrap(local_kafka: Cluster | None) -> str:
    """``host:port`` of a real broker for the whole test session."""
    if local_kafka is None:
        return os.environ["CLAIMWATCH_BOOTSTRAP_SERVERS"]
    return local_kafka.bootstrap_servers


@pytest.fixture(scope="session")
def kafka_data_dirs(local_kafka: Cluster | None) -> list[Path]:
    """The log directories of the session's own broker (none for a broker of yours)."""
    if local_kafka is None:
        return []
    return [local_kafka.node_dir(node) / "data" for node in local_kafka.nodes]


@pytest.fixture
def delivery_settings(broker_settings: Settings) -> Settings:
    """:func:`broker_settings` with the article model v1 (cues + word n-grams).

    For the tests whose subject is delivery (kills, rebalances, stalls, broker
    restarts), not the model: their thousands of articles cost about a quarter of
    the CPU v2 takes, as in the chaos drill (``bench/chaos.py``). The shipped model
    goes through a real worker in ``test_worker.py``, ``test_worker_model.py``, the
    upstream, demo, scrape and secure-cluster tests.
    """
    return replace(broker_settings, model_path=v1_artifact())


@pytest.fixture
def unique() -> str:
    """A short random suffix that keeps each test's topics and groups apart."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def broker_settings(kafka_bootstrap: str, unique: str, tmp_path: Path) -> Settings:
    """Settings pointing at the session broker, with topic names private to this test."""
    prefix = f"t{unique}."
    return Settings(
        bootstrap_servers=kafka_bootstrap,
        home=tmp_path / "home",
        app_id=f"claimwatch-{unique}",
        data_dir=tmp_path / "worker-data",
        topic_articles=prefix + "articles",
        topic_flagged=prefix + "articles.flagged",
        topic_scored=prefix + "articles.scored",
        topic_deadletter=prefix + "articles.deadletter",
        topic_verdicts=prefix + "articles.verdicts",
        topic_claims=prefix + "articles.claims",
    )


@pytest.fixture
def create_topics(broker_settings: Settings) -> Callable[..., list[str]]:
    """Create this test's topics (DESIGN.md's six) with the given partition count."""

    def create(partitions: int = 1, replication: int = 1) -> list[str]:
        admin = admin_client(broker_settings.kafka_client_config())
        try:
            names = broker_settings.topics.all()
            ensure_topics(admin, [TopicSpec(n, partitions, replication) for n in names])
            return names
        finally:
            admin.close()

    return create

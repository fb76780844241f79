"""Failure drills: brokers and workers die mid-stream, bad input floods in; nothing is lost.

Every drill produces articles with known ids and then waits (with a deadline) until
each id has its outcome on ``articles.scored`` or ``articles.deadletter``. The
worker runs as a real `claimwatch worker` subprocess configured by environment.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from service.kafka import cluster as kafka_cluster
from service.kafka.launcher import Cluster, resolve_jars
from service.kafka.topics import TopicSpec, admin_client, ensure_topics, partition_leader
from service.settings import Settings
from tests.conftest import _home
from tests.integration.worker_proc import (
    TopicReader,
    WorkerProcess,
    article,
    id_of,
    produce,
    stop_all,
    wait_until,
)

pytestmark = pytest.mark.drill

TEXT = (
    "The minister reportedly approved the contract, according to unnamed sources. "
    "A spokesperson denied the report on Tuesday and called it false. "
)
RSS_BOUND_MB = 600.0


# ------------------------------------------------------------------ helpers


def articles(prefix: str, count: int) -> list[tuple[bytes, bytes]]:
    return [article(f"{prefix}-{n}", TEXT * (1 + n % 20), title=f"Story {n}") for n in range(count)]


def ids(messages: list[tuple[bytes, bytes]]) -> set[str]:
    return {key.decode() for key, _ in messages}


def create(settings: Settings, replication: int, config: tuple[tuple[str, str], ...] = ()) -> None:
    admin = admin_client(settings.kafka_client_config())
    try:
        specs = [
            TopicSpec(name, settings.topic_partitions, replication, config)
            for name in settings.topics.all()
        ]
        ensure_topics(admin, specs)
    finally:
        admin.close()


class Outcomes:
    """Everything the workers wrote to scored and dead-letter, read as it arrives."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.reader = TopicReader(settings, [settings.topic_scored, settings.topic_deadletter])

    def scored(self) -> list[str]:
        return [id_of(r, "scored") for r in self.reader.records[self.settings.topic_scored]]

    def dead(self) -> dict[str, str]:
        letters = self.reader.records[self.settings.topic_deadletter]
        return {id_of(r, "deadletter"): r.value["error"] for r in letters}

    def accounted(self) -> set[str]:
        return set(self.scored()) | set(self.dead())

    def wait_for(self, expected: set[str], timeout_s: float, what: str) -> None:
        self.reader.read_until(lambda: expected <= self.accounted(), timeout_s, what)

    def wait_for_count(self, count: int, timeout_s: float) -> None:
        self.reader.read_until(
            lambda: len(self.accounted()) >= count, timeout_s, f"{count} outcomes"
        )

    def missing(self, expected: set[str]) -> list[str]:
        return sorted(expected - self.accounted())[:20]

    def close(self) -> None:
        self.reader.close()


def wait_balanced(workers: list[WorkerProcess], partitions: int, timeout_s: float = 90) -> None:
    """Until every worker is ready and together they own each input partition once."""

    def balanced() -> bool:
        owned: list[str] = []
        for worker in workers:
            body = worker.readiness()
            worker.assert_alive()
            if body.get("status") != "ready":
                return False
            owned += body["partitions"]
        return len(owned) == len(set(owned)) == partitions

    wait_until(balanced, timeout_s, f"{len(workers)} workers sharing {partitions} partitions", 0.5)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class RssSampler:
    """Samples a process's VmRSS in the background; ``peak_mb`` is the largest seen."""

    def __init__(self, pid: int, every_s: float = 0.2) -> None:
        self.pid, self.every_s, self.peak_mb = pid, every_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.peak_mb = max(self.peak_mb, rss_mb(self.pid))
            except OSError:
                return

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.fixture
def libs() -> Path:
    return resolve_jars(_home(), progress=lambda _m: None)


def own_cluster(libs: Path, directory: Path, nodes: int) -> Iterator[Cluster]:
    cluster = kafka_cluster.up(
        directory, libs, nodes=nodes, free_ports=True, progress=lambda _m: None
    )
    try:
        yield cluster
    finally:
        kafka_cluster.stop(cluster, progress=lambda _m: None)


@pytest.fixture
def three_brokers(libs: Path, tmp_path: Path) -> Iterator[Cluster]:
    yield from own_cluster(libs, tmp_path / "kafka3", nodes=3)


@pytest.fixture
def one_broker(libs: Path, tmp_path: Path) -> Iterator[Cluster]:
    yield from own_cluster(libs, tmp_path / "kafka1", nodes=1)


def on_cluster(settings: Settings, cluster: Cluster, **changes: Any) -> Settings:
    return replace(settings, bootstrap_servers=cluster.bootstrap_servers, **changes)


# ------------------------------------------------------------------ drills


def test_broker_killed_in_three_node_cluster_loses_nothing(
    delivery_settings: Settings, three_brokers: Cluster, libs: Path, tmp_path: Path
) -> None:
    """Also the three-node launcher's own check: up with every broker answering, and
    down with every process gone (once test_kafka_foundation.py's, which started a
    cluster of its own for it)."""
    pids = [node.pid for node in three_brokers.nodes]
    assert kafka_cluster.count_brokers(three_brokers.bootstrap_servers) == 3
    report = kafka_cluster.status(three_brokers.directory)
    assert report["state"] == "running" and report["brokers_answering"] == 3
    settings = on_cluster(delivery_settings, three_brokers, topic_partitions=4, topic_replication=3)
    create(settings, replication=3, config=(("min.insync.replicas", "2"),))
    before, during, after = articles("b1", 1500), articles("b2", 1000), articles("b3", 500)
    worker = WorkerProcess(settings, tmp_path).start()
    outcomes = None
    try:
        worker.wait_ready(90)
        outcomes = Outcomes(settings)
        produce(settings, before)
        outcomes.wait_for_count(200, 60)  # mid-stream: the worker is still on the backlog
        victim = leader_of_partition_zero(settings, three_brokers)
        kafka_cluster.stop_node(three_brokers, victim, kill=True)
        produce(settings, during)  # acks=all with 2 of 3 replicas: min.insync.replicas holds
        kafka_cluster.start_node(libs, three_brokers, victim)
        kafka_cluster.wait_ready(three_brokers, 90)
        produce(settings, after)
        expected = ids(before) | ids(during) | ids(after)
        outcomes.wait_for(expected, 120, "every article after the broker came back")
        worker.assert_alive()
        assert set(outcomes.scored()) == expected
        assert outcomes.dead() == {}
    finally:
        if outcomes:
            outcomes.close()
        stop_all([worker])
    pids += [node.pid for node in three_brokers.nodes]  # with the restarted node
    kafka_cluster.stop(three_brokers, progress=lambda _m: None)
    assert not any(kafka_cluster.is_running(pid) for pid in pids)
    assert kafka_cluster.status(three_brokers.directory)["state"] == "stopped"


def leader_of_partition_zero(settings: Settings, cluster: Cluster) -> kafka_cluster.Node:
    """The node leading partition 0 of the input topic: the one whose loss hurts."""
    leader = partition_leader(settings.kafka_client_config(), settings.topic_articles, 0)
    return next(node for node in cluster.nodes if node.node_id == leader)


def test_worker_killed_the_other_takes_over(
    delivery_settings: Settings, create_topics: Callable[..., list[str]], tmp_path: Path
) -> None:
    # A dead worker's partitions move after the session timeout (Faust's default: 60 s).
    settings = replace(delivery_settings, topic_partitions=4, session_timeout_s=10.0)
    create_topics(partitions=4)
    messages = articles("w", 3000)
    workers = [WorkerProcess(settings, tmp_path, f"w{i}").start() for i in range(2)]
    outcomes = None
    try:
        wait_balanced(workers, 4)
        outcomes = Outcomes(settings)
        produce(settings, messages)
        outcomes.wait_for_count(300, 60)
        workers[0].kill()
        killed_at = time.monotonic()
        outcomes.wait_for(ids(messages), 150, "the survivor to finish the dead worker's share")
        takeover_s = time.monotonic() - killed_at
        workers[1].assert_alive()
        assert set(outcomes.scored()) == ids(messages)
        wait_balanced(workers[1:], 4, timeout_s=30)
        print(f"takeover after SIGKILL: all decided {takeover_s:.1f}s after the kill")
    finally:
        if outcomes:
            outcomes.close()
        stop_all(workers)


def test_worker_reconnects_after_broker_restart(
    delivery_settings: Settings, one_broker: Cluster, libs: Path, tmp_path: Path
) -> None:
    settings = on_cluster(delivery_settings, one_broker, topic_partitions=2)
    create(settings, replication=1)
    before, after = articles("r1", 1000), articles("r2", 1000)
    worker = WorkerProcess(settings, tmp_path).start()
    outcomes = None
    try:
        worker.wait_ready(90)
        outcomes = Outcomes(settings)
        produce(settings, before)
        outcomes.wait_for_count(100, 60)
        [node] = one_broker.nodes
        port = node.port
        kafka_cluster.stop_node(one_broker, node)
        kafka_cluster.start_node(libs, one_broker, node)
        kafka_cluster.wait_ready(one_broker, 90)
        assert node.port == port
        produce(settings, after)
        outcomes.wait_for(ids(before) | ids(after), 120, "every article across the restart")
        worker.assert_alive()
        worker.wait_ready(60)
        assert set(outcomes.scored()) == ids(before) | ids(after)
    finally:
        if outcomes:
            outcomes.close()
        stop_all([worker])


# ------------------------------------------------------------------ malformed flood

MAX_TEXT_BYTES = 20_000


def malformed(n: int) -> tuple[bytes | None, bytes | None, str]:
    """The n-th bad message: (key, value, the dead-letter code it must get)."""
    key = f"bad-{n}"
    body = {"id": key, "text": "Some text."}
    if n % 500 == 0:
        return (
            key.encode(),
            json.dumps({**body, "text": "x" * 90_000}).encode(),
            "message_too_large",
        )
    if n % 500 == 250:
        return key.encode(), json.dumps({**body, "text": "y" * 25_000}).encode(), "text_too_large"
    kinds: list[tuple[bytes | None, str]] = [
        (b'{"id": "' + key.encode() + b'", "text": ', "invalid_json"),
        (b'{"id": "' + key.encode() + b'", "text": "\xff\xfe"}', "invalid_utf8"),
        (b"[1, 2, 3]", "not_an_object"),
        (None, "invalid_json"),  # a tombstone
        (json.dumps({"text": "no id"}).encode(), "missing_id"),
        (json.dumps({"id": "   ", "text": "t"}).encode(), "empty_id"),
        (json.dumps({"id": "i" * 300, "text": "t"}).encode(), "id_too_long"),
        (json.dumps({"id": key}).encode(), "missing_text"),
        (json.dumps({"id": key, "text": " \n "}).encode(), "empty_text"),
        (json.dumps({"id": key, "text": 42}).encode(), "wrong_type"),
        (json.dumps({**body, "title": ["not", "a", "string"]}).encode(), "wrong_type"),
        (json.dumps({**body, "id": f"other-{n}"}).encode(), "key_mismatch"),
    ]
    value, code = kinds[n % len(kinds)]
    return key.encode(), value, code


def test_malformed_flood_is_dead_lettered_with_bounded_memory(
    delivery_settings: Settings, create_topics: Callable[..., list[str]], tmp_path: Path
) -> None:
    settings = replace(delivery_settings, topic_partitions=4, max_text_bytes=MAX_TEXT_BYTES)
    create_topics(partitions=4)
    bad = [malformed(n) for n in range(10_000)]
    good = articles("good", 1000)
    mixed: list[tuple[bytes | None, bytes | None]] = []
    for n, (key, value, _code) in enumerate(bad):
        mixed.append((key, value))
        if n % 10 == 9:
            mixed.append(good[n // 10])
    expected_codes = {key.decode(): code for key, _value, code in bad if key}
    worker = WorkerProcess(settings, tmp_path).start()
    outcomes = None
    try:
        worker.wait_ready(90)
        assert worker.process is not None
        outcomes = Outcomes(settings)
        with RssSampler(worker.process.pid) as sampler:
            produce(settings, mixed)
            outcomes.wait_for(set(expected_codes) | ids(good), 180, "the whole flood")
        peak_mb = max(sampler.peak_mb, rss_mb(worker.process.pid, "VmHWM"))
        worker.assert_alive()
        dead = outcomes.dead()
        wrong = {k: (dead.get(k), c) for k, c in expected_codes.items() if dead.get(k) != c}
        assert wrong == {}
        assert set(outcomes.scored()) == ids(good)
        print(f"malformed flood: worker peak RSS {peak_mb:.0f} MB (bound {RSS_BOUND_MB:.0f})")
        assert peak_mb < RSS_BOUND_MB
    finally:
        if outcomes:
            outcomes.close()
        stop_all([worker])

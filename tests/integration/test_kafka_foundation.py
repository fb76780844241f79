"""The foundation against a real broker: round trips, topics, the CLI tools, the launcher."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaConsumer, KafkaProducer

from service.cli.main import main
from service.kafka import cluster as kafka_cluster
from service.kafka.launcher import BrokerExitedError, JarsMissingError, PortBusyError, resolve_jars
from service.kafka.topics import TopicSpec, admin_client, ensure_topics
from service.settings import Settings, default_home
from tests.conftest import _home


def _consume_all(bootstrap: str, topic: str, expected: int) -> list[tuple[bytes, bytes]]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        consumer_timeout_ms=15000,
    )
    try:
        received = []
        for record in consumer:
            received.append((record.key, record.value))
            if len(received) >= expected:
                break
        return received
    finally:
        consumer.close()


def test_kafka_python_round_trip(broker_settings: Settings, create_topics) -> None:
    create_topics(partitions=3)
    topic = broker_settings.topic_articles
    producer = KafkaProducer(bootstrap_servers=broker_settings.bootstrap_servers, acks="all")
    sent = {
        f"id-{i}".encode(): json.dumps({"id": f"id-{i}", "text": "é" * i}).encode()
        for i in range(50)
    }
    for key, value in sent.items():
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()
    assert dict(_consume_all(broker_settings.bootstrap_servers, topic, 50)) == sent


def test_aiokafka_round_trip(broker_settings: Settings, create_topics) -> None:
    create_topics(partitions=2)
    topic = broker_settings.topic_scored

    async def run() -> list[tuple[bytes, bytes]]:
        producer = AIOKafkaProducer(
            bootstrap_servers=broker_settings.bootstrap_servers, acks="all", enable_idempotence=True
        )
        await producer.start()
        try:
            for i in range(20):
                await producer.send_and_wait(topic, key=b"k%d" % i, value=b"v%d" % i)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=broker_settings.bootstrap_servers,
            auto_offset_reset="earliest",
            group_id=None,
        )
        await consumer.start()
        received: list[tuple[bytes, bytes]] = []
        try:
            while len(received) < 20:
                batch = await asyncio.wait_for(consumer.getmany(timeout_ms=500), 15)
                received += [(r.key, r.value) for rs in batch.values() for r in rs]
        finally:
            await consumer.stop()
        return received

    received = asyncio.run(run())
    assert sorted(received) == sorted((b"k%d" % i, b"v%d" % i) for i in range(20))


def test_topic_creation_is_idempotent(broker_settings: Settings) -> None:
    specs = [TopicSpec(name, 2, 1) for name in broker_settings.topics.all()]
    admin = admin_client(broker_settings.kafka_client_config())
    try:
        first = ensure_topics(admin, specs)
        second = ensure_topics(admin, specs)
        described = admin.describe_topics([broker_settings.topic_articles])
    finally:
        admin.close()
    assert sorted(first.created) == sorted(broker_settings.topics.all())
    assert second.created == []
    assert sorted(second.existing) == sorted(broker_settings.topics.all())
    assert len(described[0]["partitions"]) == 2


def _env_for(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("CLAIMWATCH_BOOTSTRAP_SERVERS", settings.bootstrap_servers)
    for field in ("articles", "flagged", "scored", "deadletter", "verdicts", "claims"):
        monkeypatch.setenv(f"CLAIMWATCH_TOPIC_{field.upper()}", getattr(settings, f"topic_{field}"))


def test_cli_topics_produce_and_tail(
    broker_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _env_for(monkeypatch, broker_settings)
    assert main(["topics", "create", "--partitions", "2"]) == 0
    assert main(["topics", "create"]) == 0
    out = capsys.readouterr().out
    assert out.count("created") == 6 and out.count("exists") == 6

    articles = tmp_path / "articles.jsonl"
    lines = [json.dumps({"id": f"a{i}", "text": f"text {i}"}) for i in range(30)]
    articles.write_text("\n".join([*lines, "not json", ""]) + "\n")
    assert main(["produce", str(articles), "--rate", "500"]) == 0
    err = capsys.readouterr().err
    assert "sent 30 to" in err and "skipped 1" in err

    assert (
        main(["tail", broker_settings.topic_articles, "--from-beginning", "--max", "30", "--json"])
        == 0
    )
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(m["key"] for m in printed) == sorted(f"a{i}" for i in range(30))
    assert all(m["value"]["id"] == m["key"] for m in printed)


def test_launcher_refuses_a_busy_port(tmp_path: Path) -> None:
    libs = resolve_jars(_home(), progress=lambda _m: None)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        with pytest.raises(PortBusyError, match=f"port {busy}"):
            kafka_cluster.up(
                tmp_path / "k", libs, port=busy, controller_port=busy + 1, progress=lambda _m: None
            )


def test_launcher_refuses_a_missing_jar_directory(tmp_path: Path) -> None:
    with pytest.raises(JarsMissingError, match="no Kafka jars"):
        kafka_cluster.up(
            tmp_path / "k", tmp_path / "no-such-libs", free_ports=True, progress=lambda _m: None
        )


def test_launcher_reports_a_broker_that_exits_during_start(tmp_path: Path) -> None:
    libs = resolve_jars(_home(), progress=lambda _m: None)
    with pytest.raises(BrokerExitedError, match="exited during start") as info:
        kafka_cluster.up(tmp_path / "k", libs, free_ports=True, heap="1k", progress=lambda _m: None)
    assert "heap" in str(info.value).lower()  # the JVM's own complaint, from the log tail


def test_default_home_is_per_user() -> None:
    assert default_home().parts[-1] == "claimwatch"

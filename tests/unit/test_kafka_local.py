from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from service.kafka.launcher import (
    Cluster,
    JavaError,
    MavenError,
    Node,
    PortBusyError,
    check_java,
    plan_nodes,
    resolve_jars,
    server_properties,
)


def _properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def test_single_node_uses_a_standalone_quorum(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, "cid", [Node(1, 9092, 19093)])
    props = _properties(server_properties(cluster, cluster.nodes[0]))
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.bootstrap.servers"] == "127.0.0.1:19093"
    assert "controller.quorum.voters" not in props
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["share.coordinator.state.topic.replication.factor"] == "1"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:19093"


def test_three_nodes_share_static_voters(tmp_path: Path) -> None:
    nodes = [Node(1, 1001, 2001), Node(2, 1002, 2002), Node(3, 1003, 2003)]
    cluster = Cluster(tmp_path, "cid", nodes)
    voters = "1@127.0.0.1:2001,2@127.0.0.1:2002,3@127.0.0.1:2003"
    for node in nodes:
        props = _properties(server_properties(cluster, node))
        assert props["node.id"] == str(node.node_id)
        assert props["controller.quorum.voters"] == voters
        assert props["offsets.topic.replication.factor"] == "3"
        assert props["log.dirs"] == str(tmp_path / f"node-{node.node_id}" / "data")
    assert cluster.bootstrap_servers == "127.0.0.1:1001,127.0.0.1:1002,127.0.0.1:1003"


def test_free_ports_are_distinct() -> None:
    nodes = plan_nodes(3, 0, 0, find_free=True)
    ports = [p for n in nodes for p in (n.port, n.controller_port)]
    assert len(set(ports)) == 6 and [n.node_id for n in nodes] == [1, 2, 3]


def test_a_busy_port_is_named() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(PortBusyError, match=f"port {port} on 127.0.0.1 is already in use"):
            plan_nodes(1, port, port + 1, find_free=False)


def test_cluster_state_round_trips(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, "cid", [Node(1, 1, 2, pid=42)])
    cluster.save()
    loaded = Cluster.load(tmp_path)
    assert loaded == cluster


def _fake_java(tmp_path: Path, version_line: str) -> str:
    script = tmp_path / "java"
    script.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_missing_java_is_a_clear_error() -> None:
    with pytest.raises(JavaError, match="not found on PATH"):
        check_java("no-such-java-binary")


def test_old_java_is_refused(tmp_path: Path) -> None:
    java = _fake_java(tmp_path, 'openjdk version "1.8.0_392"')
    with pytest.raises(JavaError, match="needs Java 17 or newer; found Java 8"):
        check_java(java)


def test_current_java_is_accepted(tmp_path: Path) -> None:
    assert check_java(_fake_java(tmp_path, 'openjdk version "21.0.2" 2024-01-16')) == 21


def test_maven_failure_is_reported_with_its_output(tmp_path: Path) -> None:
    pom = tmp_path / "pom.xml"
    pom.write_text("<project><modelVersion>4.0.0</modelVersion><broken></project>")
    with pytest.raises(MavenError, match="Maven could not resolve"):
        resolve_jars(tmp_path / "home", pom=pom, progress=lambda _m: None)
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").rglob(".complete"))


def test_no_maven_on_path_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MavenError, match="'mvn' not found"):
        resolve_jars(tmp_path / "home", progress=lambda _m: None)
    assert os.environ["PATH"] == str(tmp_path)


def test_the_launcher_finds_the_checkouts_pom() -> None:
    # `claimwatch kafka fetch` on a clean machine resolves the jars with this file.
    from service.kafka.launcher import POM

    assert POM.is_file()
    assert POM.parent == Path(__file__).resolve().parents[2] / "deploy" / "kafka"

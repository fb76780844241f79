"""A real Apache Kafka broker (KRaft mode) on this machine, run from Maven Central jars.

There is no Docker engine and no Kafka package on our machines, so the project owns
this launcher: it resolves ``org.apache.kafka:kafka_2.13`` with Maven into a per-user
cache (``deploy/kafka/pom.xml``), writes ``server.properties`` for one node or a
three-node cluster on 127.0.0.1, formats storage, starts the JVMs, waits until the
cluster really answers metadata requests, and stops it cleanly. With ``--secure``
clients get SASL_SSL and mutual-TLS listeners instead of PLAINTEXT
(:mod:`service.kafka.secure` makes the CA, certificates and users).

A cluster lives in one directory: ``cluster.json`` (ports, pids, cluster id) and one
``node-N/`` per node with its ``server.properties``, ``data/`` and ``broker.log``.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from service.errors import ClaimwatchError

KAFKA_VERSION = "4.3.1"
HOST = "127.0.0.1"
MIN_JAVA = 17
POM = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "pom.xml"
LOG4J2_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="out" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Logger name="kafka" level="INFO"/>
    <Logger name="org.apache.kafka" level="INFO"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Root level="WARN"><AppenderRef ref="out"/></Root>
  </Loggers>
</Configuration>
"""


class LauncherError(ClaimwatchError):
    code = "kafka_launcher"


class JavaError(LauncherError):
    code = "java_missing"


class MavenError(LauncherError):
    code = "maven_failed"


class JarsMissingError(LauncherError):
    code = "kafka_jars_missing"


class PortBusyError(LauncherError):
    code = "port_busy"


class BrokerExitedError(LauncherError):
    code = "broker_exited"


class BrokerTimeoutError(LauncherError):
    code = "broker_timeout"


@dataclass
class Node:
    """One KRaft node acting as broker and controller."""

    node_id: int
    port: int  # the client listener: PLAINTEXT, or SASL_SSL in a secure cluster
    controller_port: int
    pid: int | None = None
    tls_port: int | None = None  # a secure cluster's mutual-TLS listener

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"


@dataclass
class Cluster:
    """What ``cluster.json`` records about a local cluster."""

    directory: Path
    cluster_id: str
    nodes: list[Node] = field(default_factory=list)
    kafka_version: str = KAFKA_VERSION
    secure: bool = False  # SASL_SSL and mutual TLS instead of PLAINTEXT (service/kafka/secure.py)

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    @property
    def mtls_bootstrap_servers(self) -> str:
        """The mutual-TLS listeners of a secure cluster ('' for a plain one)."""
        return ",".join(f"{HOST}:{n.tls_port}" for n in self.nodes if n.tls_port)

    def node_dir(self, node: Node) -> Path:
        return self.directory / f"node-{node.node_id}"

    def log_path(self, node: Node) -> Path:
        return self.node_dir(node) / "broker.log"

    def save(self) -> None:
        data = asdict(self)
        data["directory"] = str(self.directory)
        (self.directory / "cluster.json").write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> Cluster | None:
        path = directory / "cluster.json"
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        nodes = [Node(**n) for n in data.pop("nodes")]
        data["directory"] = directory
        return cls(nodes=nodes, **data)


# ---------------------------------------------------------------- prerequisites


def java_major_version(java: str = "java") -> int:
    """The major version of ``java`` on PATH; :class:`JavaError` when absent or unreadable."""
    if shutil.which(java) is None:
        raise JavaError(f"'{java}' not found on PATH: install a Java {MIN_JAVA}+ runtime")
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if not match:
        raise JavaError(f"could not read the version of '{java}': {result.stderr.strip()[:200]}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java(java: str = "java") -> int:
    major = java_major_version(java)
    if major < MIN_JAVA:
        raise JavaError(f"Kafka {KAFKA_VERSION} needs Java {MIN_JAVA} or newer; found Java {major}")
    return major


def jar_dir(home: Path) -> Path:
    return home / f"kafka-{KAFKA_VERSION}" / "libs"


def check_jars(libs: Path) -> Path:
    """Refuse a directory that does not hold the Kafka server jar, saying how to fix it."""
    if not libs.is_dir() or not any(libs.glob("kafka_2.13-*.jar")):
        raise JarsMissingError(
            f"no Kafka jars in {libs}: run `claimwatch kafka fetch` "
            "(or set CLAIMWATCH_HOME to where they were resolved)"
        )
    return libs


def resolve_jars(home: Path, pom: Path = POM, progress: Callable[[str], None] = print) -> Path:
    """Copy Kafka and its runtime dependencies from Maven into ``home``; cached after once."""
    libs = jar_dir(home)
    if (libs / ".complete").exists():
        return libs
    if shutil.which("mvn") is None:
        raise MavenError("'mvn' not found on PATH: install Maven to resolve the Kafka jars")
    if not pom.exists():
        raise MavenError(f"missing {pom}: run from a claimwatch checkout")
    staging = libs.with_name("libs.partial")
    shutil.rmtree(staging, ignore_errors=True)
    progress(f"resolving Apache Kafka {KAFKA_VERSION} from Maven Central into {libs} ...")
    command = [
        "mvn",
        "-q",
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise MavenError(f"Maven could not resolve Kafka {KAFKA_VERSION}:\n{tail}")
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    (libs / ".complete").write_text(KAFKA_VERSION + "\n")
    return libs


# ---------------------------------------------------------------- ports and configs


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    """A port the OS says is free right now (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def plan_nodes(
    count: int, port: int, controller_port: int, find_free: bool, tls_port: int | None = None
) -> list[Node]:
    """Node ids 1..count with listener ports ``port+i`` and controller ports ``controller_port+i``
    (and mutual-TLS ports ``tls_port+i`` when ``tls_port`` is given, for a secure cluster).

    With ``find_free`` every port is chosen by the OS instead; otherwise a busy port
    is an error naming it.
    """
    if count < 1:
        raise LauncherError("--nodes must be at least 1")
    per_node = 2 if tls_port is None else 3
    if find_free:
        ports: set[int] = set()
        while len(ports) < per_node * count:
            ports.add(free_port())
        chosen = sorted(ports)
        return [
            Node(
                i + 1,
                chosen[per_node * i],
                chosen[per_node * i + 1],
                tls_port=chosen[per_node * i + 2] if tls_port is not None else None,
            )
            for i in range(count)
        ]
    nodes = [
        Node(
            i + 1,
            port + i,
            controller_port + i,
            tls_port=tls_port + i if tls_port is not None else None,
        )
        for i in range(count)
    ]
    check_ports_free(nodes)
    return nodes


def check_ports_free(nodes: list[Node]) -> None:
    """:class:`PortBusyError` naming the first port of ``nodes`` that something else holds."""
    for node in nodes:
        for p in (node.port, node.controller_port, node.tls_port):
            if p is not None and not port_is_free(p):
                raise PortBusyError(
                    f"port {p} on {HOST} is already in use; choose other ports "
                    "(--port/--controller-port/--tls-port) or pass --free-ports"
                )


def server_properties(
    cluster: Cluster, node: Node, security: Mapping[str, object] | None = None
) -> str:
    """The broker+controller configuration of one node.

    With ``security`` (:func:`service.kafka.secure.broker_properties`) clients get a
    SASL_SSL listener on ``node.port`` and a mutual-TLS one on ``node.tls_port``
    instead of PLAINTEXT, and those lines are added.
    """
    single = len(cluster.nodes) == 1
    replication = min(3, len(cluster.nodes))
    lines = {
        "process.roles": "broker,controller",
        "node.id": node.node_id,
        **_listeners(node, secure=security is not None),
        "controller.listener.names": "CONTROLLER",
        "log.dirs": cluster.node_dir(node) / "data",
        "num.partitions": 1,
        "default.replication.factor": replication,
        "offsets.topic.replication.factor": replication,
        "transaction.state.log.replication.factor": replication,
        "transaction.state.log.min.isr": 1 if single else 2,
        "share.coordinator.state.topic.replication.factor": replication,
        "share.coordinator.state.topic.min.isr": 1 if single else 2,
        "group.initial.rebalance.delay.ms": 0,
        "log.retention.hours": 24,
        "log.segment.bytes": 64 * 1024 * 1024,
        **(security or {}),
    }
    if single:
        lines["controller.quorum.bootstrap.servers"] = f"{HOST}:{node.controller_port}"
    else:
        lines["controller.quorum.voters"] = ",".join(
            f"{n.node_id}@{HOST}:{n.controller_port}" for n in cluster.nodes
        )
    return "".join(f"{key}={value}\n" for key, value in lines.items())


def _listeners(node: Node, secure: bool) -> dict[str, object]:
    controller = f"CONTROLLER://{HOST}:{node.controller_port}"
    if not secure:
        return {
            "listeners": f"PLAINTEXT://{HOST}:{node.port},{controller}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{node.port}",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        }
    if node.tls_port is None:
        raise LauncherError(f"node {node.node_id} of a secure cluster has no mutual-TLS port")
    clients = f"SASL_SSL://{HOST}:{node.port},SSL://{HOST}:{node.tls_port}"
    return {
        "listeners": f"{clients},{controller}",
        "advertised.listeners": clients,
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL",
    }

"""Start, watch and stop a local KRaft cluster described by :mod:`service.kafka.launcher`.

``up`` formats storage (once), starts one JVM per node, and returns only when the
cluster answers a metadata request listing every broker. ``down`` sends SIGTERM,
waits, then SIGKILLs what is left. A node that dies during start is reported with
the tail of its log.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from service.kafka import secure
from service.kafka.launcher import (
    KAFKA_VERSION,
    LOG4J2_XML,
    BrokerExitedError,
    BrokerTimeoutError,
    Cluster,
    LauncherError,
    Node,
    check_jars,
    check_java,
    check_ports_free,
    plan_nodes,
    server_properties,
)

DEFAULT_HEAP = "512m"


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a text file ('' if it does not exist)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def is_running(pid: int | None, directory: Path | None = None) -> bool:
    """True if ``pid`` is alive; with ``directory``, also that it is that cluster's JVM.

    A dead child of ours is reaped here. The identity check reads
    ``/proc/PID/cmdline``, which some sandboxes update a moment after ``exec``, so
    a command line that is not yet Kafka's is read again for up to a second before
    the pid is taken for someone else's.
    """
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    if directory is None:
        return True
    deadline = time.monotonic() + 1.0
    while True:
        cmdline = _cmdline(pid)
        if cmdline is None:
            return True  # cannot tell: alive is all we know
        if "kafka.Kafka" in cmdline:
            return str(directory) in cmdline
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _cmdline(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None


def _java(
    libs: Path,
    cluster: Cluster,
    main: str,
    *args: str,
    heap: str = DEFAULT_HEAP,
    quick: bool = False,
) -> list[str]:
    """The command line of one JVM. ``quick``: a tool that runs for a second, where
    the optimising JIT (C2) costs more than it saves (StorageTool's format: 1.2 s of
    CPU instead of 2.0 on the build machine)."""
    return [
        "java",
        *(["-XX:TieredStopAtLevel=1"] if quick else []),
        f"-Xmx{heap}",
        f"-Xms{heap}",  # all of it from the start: fewer GC cycles than growing into it
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={cluster.directory / 'log4j2.xml'}",
        "-cp",
        f"{libs}/*",
        main,
        *args,
    ]


def _format(libs: Path, cluster: Cluster, node: Node, extra: list[str]) -> None:
    properties = cluster.node_dir(node) / "server.properties"
    args = ["format", "-t", cluster.cluster_id, "-c", str(properties), "--ignore-formatted"]
    if len(cluster.nodes) == 1:
        args.append("--standalone")
    args.extend(extra)
    result = subprocess.run(
        _java(libs, cluster, "kafka.tools.StorageTool", *args, heap="256m", quick=True),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-2000:]
        raise LauncherError(f"formatting storage of node {node.node_id} failed:\n{output}")


def _new_cluster_id(libs: Path, directory: Path) -> str:
    result = subprocess.run(
        ["java", "-cp", f"{libs}/*", "kafka.tools.StorageTool", "random-uuid"],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise LauncherError(f"could not create a cluster id: {result.stderr.strip()[-500:]}")
    return lines[-1].strip()


def start_node(libs: Path, cluster: Cluster, node: Node, heap: str = DEFAULT_HEAP) -> int:
    """Start one node's JVM in its own session, logging to ``node-N/broker.log``."""
    properties = cluster.node_dir(node) / "server.properties"
    with cluster.log_path(node).open("ab") as log:
        process = subprocess.Popen(
            _java(libs, cluster, "kafka.Kafka", str(properties), heap=heap),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=cluster.node_dir(node),
        )
    node.pid = process.pid
    cluster.save()
    return process.pid


def count_brokers(
    bootstrap: str, timeout_s: float = 2.0, security: Mapping[str, Any] | None = None
) -> int:
    """How many brokers a metadata request through ``bootstrap`` lists (0 if none answer);
    ``security`` holds kafka-python's SASL/TLS settings for a secure cluster."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            request_timeout_ms=int(timeout_s * 1000),
            api_version_auto_timeout_ms=int(timeout_s * 1000),
            client_id="claimwatch-launcher",
            **(security or {}),
        )
    except (KafkaError, OSError, ValueError):
        return 0
    try:
        return len(admin.describe_cluster()["brokers"])
    except (KafkaError, OSError, ValueError, KeyError):
        return 0
    finally:
        admin.close()


def _last_words(node: Node, log: Path) -> str:
    """The log tail of a node that died (is_running has reaped it)."""
    deadline = time.monotonic() + 2.0
    while not tail(log) and time.monotonic() < deadline:
        time.sleep(0.1)  # the kernel may not have flushed the dying JVM's last write
    return tail(log)


def wait_ready(cluster: Cluster, timeout_s: float) -> float:
    """Block until all nodes are up and registered; return the seconds it took."""
    started = time.monotonic()
    security = secure.client_security(cluster)
    while True:
        for node in cluster.nodes:
            if not is_running(node.pid):
                raise BrokerExitedError(
                    f"Kafka node {node.node_id} exited during start; last lines of "
                    f"{cluster.log_path(node)}:\n{_last_words(node, cluster.log_path(node))}"
                )
        if count_brokers(cluster.bootstrap_servers, security=security) >= len(cluster.nodes):
            return time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            node = cluster.nodes[0]
            raise BrokerTimeoutError(
                f"Kafka did not answer within {timeout_s:.0f}s; last lines of "
                f"{cluster.log_path(node)}:\n{tail(cluster.log_path(node))}"
            )
        time.sleep(0.25)


def up(
    directory: Path,
    libs: Path,
    *,
    nodes: int = 1,
    port: int = 9092,
    controller_port: int = 9093,
    free_ports: bool = False,
    timeout_s: float = 90.0,
    heap: str = DEFAULT_HEAP,
    progress: Callable[[str], None] = print,
    secure_listeners: bool = False,
    tls_port: int = 9094,
) -> Cluster:
    """Start (or find already running) a local cluster in ``directory``.

    With ``secure_listeners`` clients get SASL_SSL on ``port`` and mutual TLS on
    ``tls_port`` (:mod:`service.kafka.secure`) instead of PLAINTEXT.
    """
    existing = Cluster.load(directory)
    if existing and existing.secure != secure_listeners:
        kind = "secure" if existing.secure else "plain"
        raise LauncherError(
            f"{directory} holds a {kind} cluster; start it "
            f"{'with' if existing.secure else 'without'} --secure, or delete it first "
            "with `claimwatch kafka down --purge`"
        )
    if existing and all(is_running(n.pid, directory) for n in existing.nodes):
        if len(existing.nodes) != nodes:
            raise LauncherError(
                f"a {len(existing.nodes)}-node cluster is already running in {directory}; "
                "run `claimwatch kafka down` first"
            )
        progress(f"Kafka already running at {existing.bootstrap_servers}")
        return existing
    if existing:
        stop(existing, progress=lambda _msg: None)
        if len(existing.nodes) != nodes:
            progress(f"replacing the stopped {len(existing.nodes)}-node cluster in {directory}")
            shutil.rmtree(directory)
            existing = None
    check_java()
    check_jars(libs)
    directory.mkdir(parents=True, exist_ok=True)
    if existing:  # restart with its data, on the same ports
        cluster = existing
        check_ports_free(cluster.nodes)
    else:
        cluster = Cluster(
            directory,
            _new_cluster_id(libs, directory),
            plan_nodes(
                nodes, port, controller_port, free_ports, tls_port if secure_listeners else None
            ),
            secure=secure_listeners,
        )
    (directory / "log4j2.xml").write_text(LOG4J2_XML)
    security, format_args = secure.cluster_security(cluster)
    for node in cluster.nodes:
        cluster.node_dir(node).mkdir(parents=True, exist_ok=True)
        properties = cluster.node_dir(node) / "server.properties"
        if security is None:
            properties.write_text(server_properties(cluster, node))
        else:  # it holds the SASL/PLAIN passwords
            secure.write_private(properties, server_properties(cluster, node, security))
        _format(libs, cluster, node, format_args)
    cluster.save()
    progress(f"starting Kafka {KAFKA_VERSION}: {nodes} node(s) at {cluster.bootstrap_servers}")
    for node in cluster.nodes:
        start_node(libs, cluster, node, heap)
    try:
        seconds = wait_ready(cluster, timeout_s)
    except LauncherError:
        stop(cluster, progress=lambda _msg: None)
        raise
    progress(f"Kafka ready in {seconds:.1f}s at {cluster.bootstrap_servers}")
    return cluster


def stop_node(cluster: Cluster, node: Node, timeout_s: float = 30.0, kill: bool = False) -> None:
    """SIGTERM (or SIGKILL with ``kill``) one node and wait until it is gone."""
    if not is_running(node.pid, cluster.directory):
        node.pid = None
        return
    assert node.pid is not None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(node.pid, signal.SIGKILL if kill else signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while is_running(node.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if is_running(node.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.pid, signal.SIGKILL)
        while is_running(node.pid):
            time.sleep(0.05)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(node.pid, os.WNOHANG)
    node.pid = None


def stop(
    cluster: Cluster, timeout_s: float = 30.0, progress: Callable[[str], None] = print
) -> None:
    """Stop every node: all get SIGTERM together, stragglers SIGKILL after ``timeout_s``."""
    running = [n for n in cluster.nodes if is_running(n.pid, cluster.directory)]
    for node in running:
        assert node.pid is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.pid, signal.SIGTERM)
    for node in running:
        stop_node(cluster, node, timeout_s)
    for node in cluster.nodes:
        node.pid = None
    cluster.save()
    progress(f"stopped {len(running)} Kafka node(s)" if running else "Kafka was not running")


def status(directory: Path) -> dict[str, object]:
    """What is known about the cluster in ``directory``, for `kafka status`."""
    cluster = Cluster.load(directory)
    if cluster is None:
        return {"state": "absent", "directory": str(directory)}
    alive = [n for n in cluster.nodes if is_running(n.pid, directory)]
    security = secure.client_security(cluster)
    brokers = count_brokers(cluster.bootstrap_servers, security=security) if alive else 0
    state = "running" if brokers == len(cluster.nodes) else ("degraded" if alive else "stopped")
    return {
        "state": state,
        "directory": str(directory),
        "kafka_version": cluster.kafka_version,
        "cluster_id": cluster.cluster_id,
        "bootstrap_servers": cluster.bootstrap_servers,
        "brokers_answering": brokers,
        "secure": cluster.secure,
        **secure.status(cluster),
        "nodes": [
            {
                "node_id": n.node_id,
                "port": n.port,
                "tls_port": n.tls_port,
                "controller_port": n.controller_port,
                "pid": n.pid,
                "alive": n in alive,
                "log": str(cluster.log_path(n)),
            }
            for n in cluster.nodes
        ],
    }

"""`claimwatch kafka up|down|status|logs|fetch`: the project's own local Apache Kafka."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from service.kafka import cluster as kafka_cluster
from service.kafka.launcher import KAFKA_VERSION, check_java, resolve_jars
from service.kafka.secure import secure_files
from service.settings import Settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "kafka", help=f"run a local Apache Kafka {KAFKA_VERSION} (KRaft) from Maven Central jars"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    up = actions.add_parser("up", help="resolve jars (once), format storage, start and wait")
    up.add_argument("--nodes", type=int, default=1, help="1 (default) or 3 for a local cluster")
    up.add_argument("--port", type=int, default=9092, help="first listener port (default 9092)")
    up.add_argument(
        "--controller-port", type=int, default=19093, help="first controller port (default 19093)"
    )
    up.add_argument("--free-ports", action="store_true", help="let the OS pick free ports")
    up.add_argument(
        "--secure",
        action="store_true",
        help="SASL_SSL (PLAIN, SCRAM-SHA-512) on --port and mutual TLS on --tls-port, "
        "with a throwaway CA; prints the client settings",
    )
    up.add_argument(
        "--tls-port", type=int, default=9094, help="first mutual-TLS port with --secure (9094)"
    )
    up.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for readiness")
    up.add_argument("--heap", default=kafka_cluster.DEFAULT_HEAP, help="JVM heap per node")
    up.set_defaults(handler=_up)

    down = actions.add_parser("down", help="stop the cluster (SIGTERM, then SIGKILL)")
    down.add_argument("--timeout", type=float, default=30.0, help="seconds before SIGKILL")
    down.add_argument("--purge", action="store_true", help="also delete its data and logs")
    down.set_defaults(handler=_down)

    status = actions.add_parser("status", help="report nodes, ports and the bootstrap address")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=_status)

    logs = actions.add_parser("logs", help="print the tail of a node's broker log")
    logs.add_argument("--node", type=int, default=1)
    logs.add_argument("-n", "--lines", type=int, default=50)
    logs.add_argument("-f", "--follow", action="store_true")
    logs.set_defaults(handler=_logs)

    fetch = actions.add_parser("fetch", help="only resolve the Kafka jars with Maven")
    fetch.set_defaults(handler=_fetch)

    for sub in (up, down, status, logs, fetch):
        sub.add_argument(
            "--dir",
            type=Path,
            default=None,
            help="cluster directory (default: $CLAIMWATCH_HOME/kafka)",
        )


def cluster_dir(args: argparse.Namespace, settings: Settings) -> Path:
    return Path(args.dir) if args.dir else settings.home / "kafka"


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _fetch(args: argparse.Namespace, settings: Settings) -> int:
    check_java()
    started = time.monotonic()
    libs = resolve_jars(settings.home, progress=_progress)
    _progress(f"Kafka {KAFKA_VERSION} jars in {libs} ({time.monotonic() - started:.1f}s)")
    return 0


def _up(args: argparse.Namespace, settings: Settings) -> int:
    check_java()
    libs = resolve_jars(settings.home, progress=_progress)
    cluster = kafka_cluster.up(
        cluster_dir(args, settings),
        libs,
        nodes=args.nodes,
        port=args.port,
        controller_port=args.controller_port,
        free_ports=args.free_ports,
        timeout_s=args.timeout,
        heap=args.heap,
        progress=_progress,
        secure_listeners=args.secure,
        tls_port=args.tls_port,
    )
    if cluster.secure:
        settings_file = secure_files(cluster.directory).client_env
        print(settings_file.read_text(), end="")
        _progress(f"client settings (also in {settings_file}): eval them or `. {settings_file}`")
        return 0
    print(cluster.bootstrap_servers)
    _progress(f"use it with: export CLAIMWATCH_BOOTSTRAP_SERVERS={cluster.bootstrap_servers}")
    return 0


def _down(args: argparse.Namespace, settings: Settings) -> int:
    directory = cluster_dir(args, settings)
    cluster = kafka_cluster.Cluster.load(directory)
    if cluster is None:
        _progress(f"no cluster in {directory}")
        return 0
    kafka_cluster.stop(cluster, args.timeout, progress=_progress)
    if args.purge:
        import shutil

        shutil.rmtree(directory)
        _progress(f"deleted {directory}")
    return 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    report = kafka_cluster.status(cluster_dir(args, settings))
    if args.json:
        print(json.dumps(report, indent=2))
    elif report["state"] == "absent":
        where = report["directory"]
        print(f"state: absent  ({where}): no local cluster; start one with: claimwatch kafka up")
    else:
        print(f"state: {report['state']}  ({report['directory']})")
        if "bootstrap_servers" in report:
            print(f"kafka: {report['kafka_version']}  cluster id: {report['cluster_id']}")
            print(f"bootstrap servers: {report['bootstrap_servers']}")
            print(f"brokers answering: {report['brokers_answering']}")
            if report.get("secure"):
                print(f"mutual TLS: {report['mtls_bootstrap_servers']}")
                print(f"client settings (SASL_SSL): {report['client_settings']}")
            for node in report["nodes"]:  # type: ignore[attr-defined]
                alive = "up" if node["alive"] else "down"
                print(
                    f"  node {node['node_id']}: {alive:4} port {node['port']} "
                    f"controller {node['controller_port']} pid {node['pid']}  log {node['log']}"
                )
    return 0 if report["state"] == "running" else 1


def _logs(args: argparse.Namespace, settings: Settings) -> int:
    directory = cluster_dir(args, settings)
    path = directory / f"node-{args.node}" / "broker.log"
    if not path.exists():
        _progress(f"no log at {path}")
        return 1
    print(kafka_cluster.tail(path, args.lines))
    if args.follow:
        with path.open() as handle:
            handle.seek(0, 2)
            while True:
                line = handle.readline()
                if line:
                    print(line, end="", flush=True)
                else:
                    time.sleep(0.5)
    return 0

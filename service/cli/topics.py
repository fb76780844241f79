"""`claimwatch topics create|list`: the topics of DESIGN.md, created idempotently."""

from __future__ import annotations

import argparse
from typing import Any

from service.kafka.topics import TopicSpec, admin_client, ensure_topics
from service.settings import Settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("topics", help="create or list claimwatch's Kafka topics")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create missing topics (existing ones are kept)")
    create.add_argument(
        "--partitions",
        type=int,
        default=None,
        help="partitions per topic (default CLAIMWATCH_TOPIC_PARTITIONS, 4)",
    )
    create.add_argument(
        "--replication",
        type=int,
        default=None,
        help="replication factor (default CLAIMWATCH_TOPIC_REPLICATION, 1)",
    )
    create.add_argument(
        "--min-insync-replicas",
        type=int,
        default=None,
        help="set min.insync.replicas on the created topics",
    )
    create.add_argument("--prefix", default="", help="prefix every topic name (isolated runs)")
    create.set_defaults(handler=_create)
    listing = actions.add_parser("list", help="list the topics in the cluster")
    listing.set_defaults(handler=_list)


def _create(args: argparse.Namespace, settings: Settings) -> int:
    partitions = args.partitions or settings.topic_partitions
    replication = args.replication or settings.topic_replication
    config: tuple[tuple[str, str], ...] = ()
    if args.min_insync_replicas:
        config = (("min.insync.replicas", str(args.min_insync_replicas)),)
    specs = [
        TopicSpec(args.prefix + name, partitions, replication, config)
        for name in settings.topics.all()
    ]
    admin = admin_client(settings.kafka_client_config())
    try:
        report = ensure_topics(admin, specs)
    finally:
        admin.close()
    for name in report.created:
        print(f"created  {name} (partitions={partitions}, replication={replication})")
    for name in report.existing:
        print(f"exists   {name}")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    admin = admin_client(settings.kafka_client_config())
    try:
        for name in sorted(admin.list_topics()):
            print(name)
    finally:
        admin.close()
    return 0

"""`claimwatch tail TOPIC`: print a topic's messages, pretty or as JSON lines."""

from __future__ import annotations

import argparse
import json
from typing import Any

from service.kafka.tail import Message, read_topic
from service.settings import Settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("tail", help="print the messages of a topic")
    parser.add_argument("topic", help="topic name, e.g. articles.flagged")
    parser.add_argument("--from-beginning", action="store_true", help="start at the oldest message")
    parser.add_argument(
        "--since",
        type=float,
        default=None,
        metavar="UNIX_TIME",
        help="start at the first message stamped at or after this time (seconds, e.g. date +%%s)",
    )
    parser.add_argument("--max", type=int, default=None, help="stop after N messages")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="stop after this many idle seconds (default: follow)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(handler=_tail)


def pretty(message: Message) -> str:
    head = (
        f"--- {message.topic}[{message.partition}]@{message.offset} "
        f"key={message.key} ts={message.timestamp_ms}"
    )
    body = (
        json.dumps(message.value, indent=2, ensure_ascii=False)
        if isinstance(message.value, dict | list)
        else str(message.value)
    )
    return f"{head}\n{body}"


def since_ms(since_s: float | None) -> int | None:
    """``--since`` (Unix seconds) as Kafka's timestamp unit, milliseconds."""
    return None if since_s is None else int(since_s * 1000)


def _tail(args: argparse.Namespace, settings: Settings) -> int:
    for message in read_topic(
        settings.kafka_client_config(),
        args.topic,
        from_beginning=args.from_beginning,
        max_messages=args.max,
        idle_timeout_s=args.timeout,
        since_ms=since_ms(args.since),
    ):
        if args.json:
            print(json.dumps(message.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(pretty(message), flush=True)
    return 0

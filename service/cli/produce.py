"""`claimwatch produce FILE.jsonl`: send articles to the input topic."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from service.kafka.produce import produce_lines, read_lines
from service.progress import Progress
from service.reach import check_access, unreachable
from service.settings import Settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("produce", help="send articles (JSONL, key = id) to Kafka")
    parser.add_argument("file", type=Path, help="JSONL file, one article object per line")
    parser.add_argument("--topic", default=None, help="target topic (default: the articles topic)")
    parser.add_argument(
        "--rate", type=float, default=None, help="messages per second (default: max)"
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        help="send every line byte-for-byte, even invalid JSON (for testing)",
    )
    parser.set_defaults(handler=_produce)


def make_producer(settings: Settings) -> KafkaProducer:
    check_access(settings.kafka_client_config())  # kafka-python would retry a refused login
    try:
        return KafkaProducer(
            acks="all",
            linger_ms=5,
            client_id="claimwatch-produce",
            **settings.kafka_client_config(),
        )
    except KafkaError as error:
        raise unreachable(settings.kafka_client_config(), error) from None


def _produce(args: argparse.Namespace, settings: Settings) -> int:
    topic = args.topic or settings.topic_articles
    lines = read_lines(args.file)
    producer = make_producer(settings)
    progress = Progress(f"producing to {topic}", total=len(lines))
    try:
        summary = produce_lines(
            producer, topic, lines, raw=args.raw, rate=args.rate, progress=progress
        )
    finally:
        progress.close()
        producer.close()
    for problem in summary.problems:
        print(f"  {problem}", file=sys.stderr)
    print(summary.describe(topic), file=sys.stderr)
    return 1 if summary.failed else 0

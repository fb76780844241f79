"""The ``claimwatch`` command line: one entry point, one subcommand per module.

Each module in :mod:`service.cli` exposes ``register(subparsers)``; the
subcommand's handler receives the parsed arguments and the settings object.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from models.errors import ModelError
from service.errors import ClaimwatchError
from service.settings import Settings

# Subcommand modules under service/cli/, in the order `--help` lists them.
COMMAND_MODULES = [
    "kafka",
    "topics",
    "produce",
    "tail",
    "worker",
    "sample",
    "model",
    "review",
    "verdicts",
    "claims",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claimwatch",
        description="Flag news articles that carry contested claims, on Apache Kafka.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"service.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.debug:
        # kafka-python logs every refused connection at ERROR; our commands report
        # failures themselves, as one line.
        logging.getLogger("kafka").setLevel(logging.CRITICAL)
    try:
        settings = Settings.from_env()
        result = args.handler(args, settings)
    except (ClaimwatchError, ModelError) as error:
        if args.debug:
            raise
        print(f"claimwatch: error [{error.code}]: {error}", file=sys.stderr)
        return getattr(error, "exit_code", 2)
    except KeyboardInterrupt:
        print("claimwatch: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


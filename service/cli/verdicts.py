"""`claimwatch verdicts export`: reviewers' verdicts joined with their articles, as JSONL.

The output is the extra labelled data ``claimwatch train --extra`` reads: one
line per decided article with ``id``, ``text``, ``label`` and the verdict's
provenance. Unsure verdicts carry no label and are skipped (and counted).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from service.cli.review import review_db_path
from service.errors import ConfigError
from service.review.kafka_io import read_to_end
from service.review.records import Verdict
from service.review.store import ReviewStore
from service.review.verdicts import (
    ArticleText,
    ExportCounts,
    articles_from_store,
    articles_from_topic,
    latest_verdicts,
    write_export,
)
from service.settings import Settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("verdicts", help="work with reviewers' verdicts")
    commands = parser.add_subparsers(dest="verdicts_command", metavar="SUBCOMMAND", required=True)
    export = commands.add_parser(
        "export", help="write verdicts joined with their articles as labelled JSONL"
    )
    export.add_argument(
        "--out", "-o", type=Path, default=None, help="output file (default: standard output)"
    )
    export.add_argument(
        "--db",
        type=Path,
        default=None,
        help="review store to take article text from (CLAIMWATCH_REVIEW_DB)",
    )
    export.add_argument(
        "--from-store",
        action="store_true",
        help="take the verdicts from the review store, not articles.verdicts",
    )
    export.add_argument(
        "--scan-articles",
        action="store_true",
        help="look up text missing from the store on the articles topic",
    )
    export.add_argument(
        "--timeout", type=float, default=60.0, help="seconds allowed for reading each topic"
    )
    export.set_defaults(handler=verdicts_export)


def verdicts_export(args: argparse.Namespace, settings: Settings) -> int:
    db_path = review_db_path(settings, args.db)
    if args.from_store and not db_path.exists():
        raise ConfigError(f"no review store at {db_path} (give --db or CLAIMWATCH_REVIEW_DB)")
    store = ReviewStore(db_path) if db_path.exists() else None
    try:
        verdicts = _collect_verdicts(args, settings, store)
        articles = articles_from_store(store, verdicts) if store else {}
    finally:
        if store:
            store.close()
    if args.scan_articles:
        missing = {i for i in verdicts if i not in articles}
        if missing:
            messages = read_to_end(
                settings.kafka_client_config(), settings.topic_articles, args.timeout
            )
            articles.update(articles_from_topic(messages, missing))
    counts = _write(verdicts, articles, args.out)
    print(f"claimwatch: {counts.summary()}", file=sys.stderr)
    if counts.missing_ids:
        shown = ", ".join(counts.missing_ids[:5])
        more = " …" if len(counts.missing_ids) > 5 else ""
        hint = "" if args.scan_articles else " (try --scan-articles)"
        print(f"claimwatch: no text for {shown}{more}{hint}", file=sys.stderr)
    return 0


def _collect_verdicts(
    args: argparse.Namespace, settings: Settings, store: ReviewStore | None
) -> dict[str, Verdict]:
    if args.from_store:
        assert store is not None
        return {v.article_id: v for v in store.verdicts()}
    messages = read_to_end(settings.kafka_client_config(), settings.topic_verdicts, args.timeout)
    verdicts, invalid = latest_verdicts(messages)
    if invalid:
        print(f"claimwatch: {invalid} invalid verdict records ignored", file=sys.stderr)
    return verdicts


def _write(
    verdicts: dict[str, Verdict], articles: dict[str, ArticleText], out: Path | None
) -> ExportCounts:
    """Write to stdout, or atomically to ``out`` (a reader never sees half a file)."""
    if out is None:
        return write_export(verdicts, articles, sys.stdout)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            counts = write_export(verdicts, articles, handle)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return counts

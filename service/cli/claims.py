"""`claimwatch claims cluster FILE.jsonl`: claim clusters of a file of articles, offline;
`claimwatch claims splits`: reviewers' corrections of the clusters, as training data.

The same clusterer as the service (:mod:`models.claims`), so anyone can measure it
on their own labelled articles: one JSON line out per article in, in order.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from models.claims.cluster import DEFAULT_THRESHOLD, ClaimClusterer
from models.claims.represent import claim_terms
from service.cli.review import review_db_path
from service.errors import ConfigError, InputFileError
from service.review.claims_store import ClaimStore
from service.review.records import ReviewRecord
from service.review.store import ReviewStore
from service.settings import Settings

# A line longer than this is refused before it is parsed (bounded memory per line).
MAX_LINE_BYTES = 4 * 1024 * 1024


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("claims", help="claim clusters (offline)")
    commands = parser.add_subparsers(dest="claims_command", metavar="ACTION", required=True)
    cluster = commands.add_parser(
        "cluster",
        help="cluster a JSONL file of articles; prints {article_id, cluster_id} per line",
    )
    cluster.add_argument("file", type=Path, help="JSONL: id, text, optional title and source")
    cluster.add_argument(
        "--threshold",
        type=float,
        help="similarity needed to join a cluster (default CLAIMWATCH_CLAIM_THRESHOLD "
        f"or {DEFAULT_THRESHOLD})",
    )
    cluster.set_defaults(handler=_cluster)
    splits = commands.add_parser(
        "splits",
        help="export reviewers' cluster corrections (and confirmations) as JSONL, to tune "
        "the clustering threshold",
    )
    splits.add_argument("--db", type=Path, default=None, help="review store (CLAIMWATCH_REVIEW_DB)")
    splits.add_argument(
        "--out", "-o", type=Path, default=None, help="output file (default: standard output)"
    )
    splits.set_defaults(handler=_splits)


def _splits(args: argparse.Namespace, settings: Settings) -> int:
    db_path = review_db_path(settings, args.db)
    if not db_path.exists():
        raise ConfigError(f"no review store at {db_path} (give --db or CLAIMWATCH_REVIEW_DB)")
    store = ReviewStore(db_path)
    try:
        lines = threshold_examples(store)
    finally:
        store.close()
    text = "".join(orjson.dumps(line).decode() + "\n" for line in lines)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    same = sum(1 for line in lines if line["same_claim"])
    print(
        f"claimwatch: exported {len(lines) - same} splits and {same} confirmed memberships",
        file=sys.stderr,
    )
    return 0


def threshold_examples(store: ReviewStore) -> list[dict[str, Any]]:
    """Labelled memberships for the clustering threshold, splits first.

    A split says "this article joined at ``similarity`` but does not carry the
    cluster's claim" (``same_claim`` false); a member still in a cluster when the
    cluster got its verdict says it does (true). The threshold should lie above the
    first kind and below the second.
    """
    claims = ClaimStore(store)
    splits = claims.splits()
    confirmed = claims.confirmed()
    records = store.records([s.article_id for s in splits] + [a for a, _, _ in confirmed])
    verdicts = {v.article_id: v for v in store.verdicts()}
    lines: list[dict[str, Any]] = []
    for split in splits:
        line = {
            "article_id": split.article_id,
            "cluster_id": split.from_cluster,
            "similarity": split.similarity,
            "same_claim": False,
            "reviewer": split.reviewer,
            "decided_at": split.split_at,
        }
        lines.append(line | _article(records.get(split.article_id)))
    for article_id, cluster_id, similarity in confirmed:
        verdict = verdicts[article_id]
        line = {
            "article_id": article_id,
            "cluster_id": cluster_id,
            "similarity": similarity,
            "same_claim": True,
            "reviewer": verdict.reviewer,
            "decided_at": verdict.decided_at,
        }
        lines.append(line | _article(records.get(article_id)))
    return lines


def _article(record: ReviewRecord | None) -> dict[str, Any]:
    if record is None:
        return {}
    return {"title": record.title, "text": record.text, "source": record.source}


def read_articles(handle: IO[bytes], max_text_bytes: int) -> Iterator[dict[str, Any]]:
    """Validated articles of a JSONL stream, in order; a bad line stops with its number."""
    for number, line in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), 1):
        if len(line) > MAX_LINE_BYTES:
            raise InputFileError(f"line {number}: longer than {MAX_LINE_BYTES} bytes")
        if not line.strip():
            continue
        try:
            article = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            raise InputFileError(f"line {number}: not JSON ({error})") from None
        if not isinstance(article, dict):
            raise InputFileError(f"line {number}: not a JSON object")
        if not isinstance(article.get("id"), str) or not article["id"]:
            raise InputFileError(f"line {number}: needs a non-empty string id")
        if not isinstance(article.get("text"), str):
            raise InputFileError(f"line {number}: needs a string text")
        for optional in ("title", "source"):
            if article.get(optional) is not None and not isinstance(article[optional], str):
                raise InputFileError(f"line {number}: {optional} must be a string")
        if len(article["text"].encode("utf-8")) > max_text_bytes:
            raise InputFileError(f"line {number}: text longer than {max_text_bytes} bytes")
        yield article


def _cluster(args: argparse.Namespace, settings: Settings) -> int:
    threshold = args.threshold
    if threshold is None:
        threshold = settings.claim_threshold or DEFAULT_THRESHOLD
    if not 0.0 < threshold <= 1.0:
        raise InputFileError(f"--threshold must be more than 0 and at most 1, not {threshold}")
    clusterer = ClaimClusterer(threshold=threshold, window_s=settings.claim_window_s)
    try:
        handle = args.file.open("rb")
    except OSError as error:
        raise InputFileError(f"cannot read {args.file}: {error.strerror}") from None
    with handle:
        # A file is one window: its articles carry no arrival time, so none expires.
        for article in read_articles(handle, settings.max_text_bytes):
            terms = claim_terms(article["text"], article.get("title"))
            membership = clusterer.add(article["id"], terms, now=0.0, source=article.get("source"))
            line = {"article_id": membership.article_id, "cluster_id": membership.cluster_id}
            sys.stdout.buffer.write(orjson.dumps(line) + b"\n")
    sys.stdout.flush()
    return 0

"""`claimwatch sample --out FILE.jsonl`: sample articles for a demo or a smoke test."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from service.kafka.sample import sample_articles, with_id_suffix, write_jsonl
from service.settings import Settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sample", help="write sample articles (JSONL) for a demo")
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSONL")
    parser.add_argument("--limit", type=int, default=500, help="how many articles (default 500)")
    parser.add_argument(
        "--data",
        type=Path,
        default=Path("../shared/data"),
        help="team data directory with fnc-1/ and ordinary-news/",
    )
    parser.add_argument(
        "--id-suffix",
        default="",
        help="append this to every id (make run: new ids each run, decided afresh)",
    )
    parser.set_defaults(handler=_sample)


def _sample(args: argparse.Namespace, settings: Settings) -> int:
    articles = with_id_suffix(sample_articles(args.data, args.limit), args.id_suffix)
    write_jsonl(articles, args.out)
    print(f"wrote {len(articles)} articles to {args.out}", file=sys.stderr)
    return 0

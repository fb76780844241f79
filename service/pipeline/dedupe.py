"""Stage 3 — dedupe: skip an article already decided with the same content.

Same id and same content hash → duplicate (skipped, counted). Same id with new
content → scored again as the next version. The memory is any mutable mapping of
id → ``{"hash", "version"}``: a Faust table in the worker (changelog-backed, so it
survives restarts and rebalances), a dict in tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from service.pipeline.records import Article


def content_hash(article: Article) -> str:
    """sha256 over the text and the title: what a reviewer would call the content."""
    digest = hashlib.sha256()
    digest.update(article.text.encode("utf-8"))
    digest.update(b"\0")
    digest.update(str(article.get("title") or "").encode("utf-8"))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Fresh:
    """An article to score, with its content hash and version (1 = first seen)."""

    article: Article
    content_hash: str
    version: int


def split_duplicates(
    articles: list[Article], seen: MutableMapping[str, Any]
) -> tuple[list[Fresh], list[Article]]:
    """Partition a batch into (to score, duplicates); repeats inside the batch count too."""
    fresh: list[Fresh] = []
    duplicates: list[Article] = []
    pending: dict[str, tuple[str, int]] = {}
    for article in articles:
        digest = content_hash(article)
        previous = pending.get(article.id) or _known(seen.get(article.id))
        if previous and previous[0] == digest:
            duplicates.append(article)
            continue
        version = previous[1] + 1 if previous else 1
        pending[article.id] = (digest, version)
        fresh.append(Fresh(article, digest, version))
    return fresh, duplicates


def remember(fresh: list[Fresh], seen: MutableMapping[str, Any]) -> None:
    """Record decided articles; call only after their outputs are acknowledged."""
    for item in fresh:
        seen[item.article.id] = {"hash": item.content_hash, "version": item.version}


def _known(entry: Any) -> tuple[str, int] | None:
    if isinstance(entry, dict) and "hash" in entry:
        return str(entry["hash"]), int(entry.get("version", 1))
    return None

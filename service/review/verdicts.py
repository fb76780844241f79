"""Verdicts out: produced to ``articles.verdicts``, and exported as labelled training data.

Producing uses the store as an outbox (:mod:`service.review.outbox`): a decision is
committed to SQLite first, then sent (key = article id, acks=all) and marked as
produced once Kafka has acknowledged it, so a broker outage delays verdicts but never
loses them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from service.review.kafka_io import Message
from service.review.outbox import OutboxPublisher, Pending
from service.review.records import InvalidRecordError, Verdict, read_verdict
from service.review.store import ReviewStore

LABELS = {"contested": "contested", "not_contested": "not_contested"}


class VerdictPublisher(OutboxPublisher):
    """Sends the store's pending verdicts to Kafka (key = article id), oldest first."""

    what = "verdict for"

    def __init__(
        self,
        store: ReviewStore,
        kafka_config: Mapping[str, Any],
        topic: str,
        timeout_s: float = 10.0,
    ) -> None:
        super().__init__(kafka_config, topic, timeout_s)
        self.store = store

    def pending(self) -> list[Pending]:
        return [(v.article_id, v.article_id, v.to_json()) for v in self.store.pending_verdicts()]

    def mark_produced(self, handle: Any) -> None:
        self.store.mark_produced(handle)


def latest_verdicts(messages: Iterable[Message]) -> tuple[dict[str, Verdict], int]:
    """The last verdict per article (a later decision supersedes), and the invalid count."""
    latest: dict[str, Verdict] = {}
    invalid = 0
    for message in messages:
        try:
            verdict = read_verdict(message.value)
        except InvalidRecordError:
            invalid += 1
            continue
        latest[verdict.article_id] = verdict
    return latest, invalid


@dataclass(frozen=True)
class ArticleText:
    text: str
    title: str = ""


def articles_from_topic(messages: Iterable[Message], wanted: set[str]) -> dict[str, ArticleText]:
    """Text and title of the wanted ids from raw ``articles`` values (invalid ones ignored)."""
    found: dict[str, ArticleText] = {}
    for message in messages:
        try:
            value = json.loads(message.value)
        except (ValueError, TypeError):
            continue
        if not isinstance(value, dict):
            continue
        article_id, text = value.get("id"), value.get("text")
        if article_id in wanted and isinstance(text, str) and text:
            title = value.get("title")
            found[article_id] = ArticleText(text, title if isinstance(title, str) else "")
    return found


@dataclass
class ExportCounts:
    exported: int = 0
    unsure: int = 0
    missing_text: int = 0
    missing_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"exported {self.exported} labelled articles; skipped {self.unsure} unsure"
            f" and {self.missing_text} without article text"
        )


def export_line(verdict: Verdict, article: ArticleText) -> dict[str, Any]:
    """One labelled example in the shape ``claimwatch train --extra`` reads."""
    line: dict[str, Any] = {
        "id": verdict.article_id,
        "text": article.text,
        "label": LABELS[verdict.verdict],
        "verdict": verdict.verdict,
        "reviewer": verdict.reviewer,
        "decided_at": verdict.decided_at,
        "model_version": verdict.model_version,
    }
    if article.title:
        line["title"] = article.title
    return line


def write_export(
    verdicts: Mapping[str, Verdict], articles: Mapping[str, ArticleText], out: IO[str]
) -> ExportCounts:
    """Write labelled JSONL, one line per decided article, in a stable (id) order."""
    counts = ExportCounts()
    for article_id in sorted(verdicts):
        verdict = verdicts[article_id]
        if verdict.verdict not in LABELS:
            counts.unsure += 1
            continue
        article = articles.get(article_id)
        if article is None:
            counts.missing_text += 1
            counts.missing_ids.append(article_id)
            continue
        out.write(json.dumps(export_line(verdict, article), ensure_ascii=False) + "\n")
        counts.exported += 1
    return counts


def articles_from_store(store: ReviewStore, ids: Iterable[str]) -> dict[str, ArticleText]:
    """Text and title of stored review records (those that carry ``text``)."""
    return {
        article_id: ArticleText(record.text, record.title)
        for article_id, record in store.records(ids).items()
        if record.text
    }

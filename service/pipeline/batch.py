"""One micro-batch through every stage, as plain code: the agent only wires Kafka.

``accept`` (decode + validate + dedupe) runs on the event loop — it touches the
dedupe table; ``score_and_route`` (readable text, language, score, decide, route) is
pure CPU work and runs in a child process or a thread (:mod:`service.worker.scorer`),
so both results pickle: plain data, no identities.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field, replace
from typing import Any

from models.article.assess import ArticleModel
from service.pipeline.decide import decision_record, review_record, skipped_record
from service.pipeline.decode import decode
from service.pipeline.dedupe import FOREVER, Fresh, Window, split_duplicates
from service.pipeline.language import Language, language_of
from service.pipeline.readable import readable
from service.pipeline.records import (
    EMPTY_TEXT,
    SCORING_FAILED,
    Article,
    DeadLetter,
    RawMessage,
    Rejected,
)
from service.pipeline.route import Outgoing, route_dead_letter, route_decision
from service.pipeline.score import score_batch
from service.pipeline.validate import validate
from service.settings import Topics

# Room for the JSON around the text; the text limit itself is checked in validate.
ENVELOPE_BYTES = 64 * 1024


@dataclass
class Accepted:
    """The result of the cheap stages for one batch."""

    fresh: list[Fresh] = field(default_factory=list)
    origins: list[RawMessage] = field(default_factory=list)  # the message of each fresh one
    duplicates: list[tuple[Article, RawMessage]] = field(default_factory=list)
    rejected: list[DeadLetter] = field(default_factory=list)


@dataclass
class Routed:
    """What to produce for one batch, plus what the metrics need to know."""

    outgoing: list[Outgoing] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    decided: list[Fresh] = field(default_factory=list)
    rejected: list[DeadLetter] = field(default_factory=list)
    scoring_seconds: float = 0.0


def accept(
    messages: list[RawMessage],
    seen: MutableMapping[str, Any],
    max_text_bytes: int,
    window: Window = FOREVER,
    now: float = 0.0,
    exactly_once: bool = False,
) -> Accepted:
    """Decode, validate and dedupe (against ``seen`` within ``window`` at ``now``);
    nothing here raises for bad input. ``exactly_once``: a message read again at the
    position its entry names is scored again (:mod:`service.pipeline.dedupe`)."""
    result = Accepted()
    valid: list[tuple[Article, RawMessage]] = []
    for message in messages:
        try:
            obj = decode(message.value, max_text_bytes + ENVELOPE_BYTES)
            valid.append((validate(obj, message.key, max_text_bytes), message))
        except Rejected as rejected:
            result.rejected.append(DeadLetter(message, rejected.code, rejected.detail))
    by_article = {id(article): message for article, message in valid}
    positions = [(m.partition, m.offset) for _, m in valid] if exactly_once else None
    articles = [article for article, _ in valid]
    fresh, duplicates = split_duplicates(articles, seen, window, now, positions)
    result.fresh = fresh
    result.origins = [by_article[id(item.article)] for item in fresh]
    result.duplicates = [(article, by_article[id(article)]) for article in duplicates]
    return result


@dataclass
class Prepared:
    """The fresh articles of a batch with readable text and a language, sorted three ways."""

    to_score: list[Fresh] = field(default_factory=list)  # text as a reader sees it
    unsupported: list[Fresh] = field(default_factory=list)
    rejected: list[tuple[Fresh, Rejected]] = field(default_factory=list)
    languages: dict[int, Language] = field(default_factory=dict)  # by id() of the item
    origin: dict[int, RawMessage] = field(default_factory=dict)  # by id() of the item


def prepare(accepted: Accepted, languages: tuple[str, ...]) -> Prepared:
    """Readable text, then language, for each fresh article (stages 4 and 5)."""
    prepared = Prepared()
    for item, message in zip(accepted.fresh, accepted.origins, strict=True):
        try:
            article, was_html = readable(item.article)
            if was_html and not article.text:
                raise Rejected(EMPTY_TEXT, "'text' is HTML with no readable text")
            language = language_of(article, languages)
        except Rejected as rejected:
            prepared.rejected.append((item, rejected))
            prepared.origin[id(item)] = message
            continue
        ready = replace(item, article=article) if was_html else item
        prepared.origin[id(ready)] = message
        prepared.languages[id(ready)] = language
        (prepared.to_score if language.supported else prepared.unsupported).append(ready)
    return prepared


def score_and_route(
    accepted: Accepted,
    model: ArticleModel,
    threshold: float | None,
    topics: Topics,
    languages: tuple[str, ...] = ("en",),
) -> Routed:
    """Score the fresh articles in one call and build every output message."""
    routed = Routed(rejected=list(accepted.rejected))
    prepared = prepare(accepted, languages)
    origin, language = prepared.origin, prepared.languages
    started = time.perf_counter()
    scored, failures = score_batch(model, prepared.to_score, threshold)
    routed.scoring_seconds = time.perf_counter() - started
    now_ms = int(time.time() * 1000)
    for item, assessment in scored:
        message, found = origin[id(item)], language[id(item)]
        decision = decision_record(item, assessment, message, now_ms, found)
        review = (
            review_record(item, assessment, message, now_ms, found) if assessment.flagged else None
        )
        routed.decisions.append(decision)
        routed.decided.append(item)
        routed.outgoing.extend(route_decision(topics, decision, review))
    for item in prepared.unsupported:
        decision = skipped_record(item, model.info(), origin[id(item)], now_ms, language[id(item)])
        routed.decisions.append(decision)
        routed.decided.append(item)
        routed.outgoing.extend(route_decision(topics, decision, None))
    for item, rejected in prepared.rejected:
        routed.rejected.append(DeadLetter(origin[id(item)], rejected.code, rejected.detail))
    for failure in failures:
        message = origin[id(failure.item)]
        routed.rejected.append(DeadLetter(message, SCORING_FAILED, failure.detail))
    routed.outgoing.extend(route_dead_letter(topics, letter) for letter in routed.rejected)
    return routed

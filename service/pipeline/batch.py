"""One micro-batch through every stage, as plain code: the agent only wires Kafka.

``accept`` (decode + validate + dedupe) runs on the event loop — it touches the
dedupe table; ``score_and_route`` is pure CPU work and runs in a child process or a
thread (:mod:`service.worker.scorer`), so both results pickle: plain data, no identities.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from models.article.assess import ArticleModel
from service.pipeline.decide import decision_record, review_record
from service.pipeline.decode import decode
from service.pipeline.dedupe import FOREVER, Fresh, Window, split_duplicates
from service.pipeline.records import SCORING_FAILED, Article, DeadLetter, RawMessage, Rejected
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
) -> Accepted:
    """Decode, validate and dedupe (against ``seen`` within ``window`` at ``now``);
    nothing here raises for bad input."""
    result = Accepted()
    valid: list[tuple[Article, RawMessage]] = []
    for message in messages:
        try:
            obj = decode(message.value, max_text_bytes + ENVELOPE_BYTES)
            valid.append((validate(obj, message.key, max_text_bytes), message))
        except Rejected as rejected:
            result.rejected.append(DeadLetter(message, rejected.code, rejected.detail))
    by_article = {id(article): message for article, message in valid}
    fresh, duplicates = split_duplicates([article for article, _ in valid], seen, window, now)
    result.fresh = fresh
    result.origins = [by_article[id(item.article)] for item in fresh]
    result.duplicates = [(article, by_article[id(article)]) for article in duplicates]
    return result


def score_and_route(
    accepted: Accepted, model: ArticleModel, threshold: float | None, topics: Topics
) -> Routed:
    """Score the fresh articles in one call and build every output message."""
    routed = Routed(rejected=list(accepted.rejected))
    origin = {
        id(item): message for item, message in zip(accepted.fresh, accepted.origins, strict=True)
    }
    started = time.perf_counter()
    scored, failures = score_batch(model, accepted.fresh, threshold)
    routed.scoring_seconds = time.perf_counter() - started
    now_ms = int(time.time() * 1000)
    for item, assessment in scored:
        message = origin[id(item)]
        decision = decision_record(item, assessment, message, now_ms)
        review = review_record(item, assessment, message, now_ms) if assessment.flagged else None
        routed.decisions.append(decision)
        routed.decided.append(item)
        routed.outgoing.extend(route_decision(topics, decision, review))
    for failure in failures:
        message = origin[id(failure.item)]
        routed.rejected.append(DeadLetter(message, SCORING_FAILED, failure.detail))
    routed.outgoing.extend(route_dead_letter(topics, letter) for letter in routed.rejected)
    return routed

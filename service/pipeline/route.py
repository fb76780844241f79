"""Stage 8 — route: outcomes → the messages to produce, topic by topic.

Every accepted article gets one decision on ``articles.scored``; flagged ones also a
review record on ``articles.flagged``; rejected ones one record on
``articles.deadletter``. Keys are the article id (or the original key for rejects).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from service.pipeline.records import DeadLetter
from service.settings import Topics


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to produce; ``source_partition`` names the input partition it answers,
    whose offsets it must be committed with under exactly-once."""

    topic: str
    key: bytes | None
    value: bytes
    source_partition: int


def to_json(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record)


def route_decision(
    topics: Topics, decision: dict[str, Any], review: dict[str, Any] | None
) -> list[Outgoing]:
    key = str(decision["article_id"]).encode("utf-8")
    partition = int(decision["source"]["partition"])
    out = [Outgoing(topics.scored, key, to_json(decision), partition)]
    if review is not None:
        out.append(Outgoing(topics.flagged, key, to_json(review), partition))
    return out


def route_dead_letter(topics: Topics, letter: DeadLetter) -> Outgoing:
    message = letter.message
    return Outgoing(topics.deadletter, message.key, to_json(letter.to_dict()), message.partition)

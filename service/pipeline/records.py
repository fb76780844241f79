"""Typed records on the path of an article, each with one way to and from JSON.

Field names follow DESIGN.md's topic contracts.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

# Error codes of the dead-letter topic: stable, shared by the record, the metric
# label and the log line.
INVALID_UTF8 = "invalid_utf8"
INVALID_JSON = "invalid_json"
NOT_AN_OBJECT = "not_an_object"
MESSAGE_TOO_LARGE = "message_too_large"
MISSING_ID = "missing_id"
EMPTY_ID = "empty_id"
ID_TOO_LONG = "id_too_long"
MISSING_TEXT = "missing_text"
EMPTY_TEXT = "empty_text"
WRONG_TYPE = "wrong_type"
TEXT_TOO_LARGE = "text_too_large"
KEY_MISMATCH = "key_mismatch"
INVALID_LANGUAGE = "invalid_language"
UNSUPPORTED_CONTENT_TYPE = "unsupported_content_type"
SCORING_FAILED = "scoring_failed"
ERROR_CODES = (
    INVALID_UTF8, INVALID_JSON, NOT_AN_OBJECT, MESSAGE_TOO_LARGE, MISSING_ID, EMPTY_ID,
    ID_TOO_LONG, MISSING_TEXT, EMPTY_TEXT, WRONG_TYPE, TEXT_TOO_LARGE, KEY_MISMATCH,
    INVALID_LANGUAGE, UNSUPPORTED_CONTENT_TYPE, SCORING_FAILED,
)  # fmt: skip

# Why a decision carries no score (its "skipped" field).
UNSUPPORTED_LANGUAGE = "unsupported_language"


class Rejected(Exception):
    """An input message that cannot be scored; becomes a dead-letter record."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One consumed Kafka record, as bytes, with where it came from."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None

    def source(self) -> dict[str, Any]:
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset}


@dataclass(frozen=True, slots=True)
class Article:
    """A validated article: ``id`` and ``text`` guaranteed, everything else as sent."""

    id: str
    text: str
    fields: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        return self.fields.get(name)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejected message with its original bytes, whole."""

    message: RawMessage
    code: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        message = self.message
        return {
            "error": self.code,
            "detail": self.detail,
            "source": message.source(),
            "timestamp_ms": message.timestamp_ms,
            "key": message.key.decode("utf-8", "replace") if message.key is not None else None,
            "key_b64": _b64(message.key),
            "value_b64": _b64(message.value),
        }


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data is not None else None

"""Stage 1 — decode: Kafka value bytes → a JSON object, or :class:`Rejected`.

A UTF-8 byte-order mark before the JSON is tolerated: some producers (Windows tools,
.NET's ``Encoding.UTF8``) write one, and JSON parsers refuse it. The dead-letter
record of a message rejected later still carries its bytes whole, mark included.
"""

from __future__ import annotations

import codecs
from typing import Any

import orjson

from service.pipeline.records import (
    INVALID_JSON,
    INVALID_UTF8,
    MESSAGE_TOO_LARGE,
    NOT_AN_OBJECT,
    Rejected,
)


def decode(value: bytes | None, max_bytes: int) -> dict[str, Any]:
    """Parse ``value`` as a UTF-8 JSON object no larger than ``max_bytes``."""
    if value is None:
        raise Rejected(INVALID_JSON, "the message has no value (tombstone)")
    if len(value) > max_bytes:
        raise Rejected(MESSAGE_TOO_LARGE, f"message is {len(value)} bytes; limit {max_bytes}")
    if value.startswith(codecs.BOM_UTF8):
        value = value[len(codecs.BOM_UTF8) :]
    try:
        value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Rejected(INVALID_UTF8, f"not UTF-8 at byte {error.start}: {error.reason}") from None
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise Rejected(INVALID_JSON, f"not JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise Rejected(NOT_AN_OBJECT, f"expected a JSON object, got {type(parsed).__name__}")
    return parsed

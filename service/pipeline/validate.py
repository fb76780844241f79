"""Stage 2 — validate: a JSON object → :class:`Article`, or :class:`Rejected`.

Required: ``id`` and ``text`` (non-empty strings); optional string fields must be
strings (or null); ``language`` must be a language tag and ``content_type`` plain text
or HTML; unknown fields are kept as they are.
"""

from __future__ import annotations

from typing import Any

from service.pipeline.language import given_language
from service.pipeline.readable import media_type
from service.pipeline.records import (
    EMPTY_ID,
    EMPTY_TEXT,
    ID_TOO_LONG,
    KEY_MISMATCH,
    MISSING_ID,
    MISSING_TEXT,
    TEXT_TOO_LARGE,
    WRONG_TYPE,
    Article,
    Rejected,
)

OPTIONAL_STRINGS = ("title", "source", "url", "published_at", "language", "content_type")
MAX_ID_CHARS = 256


def validate(obj: dict[str, Any], key: bytes | None, max_text_bytes: int) -> Article:
    """Check the article contract of DESIGN.md; the key, when present, must equal ``id``."""
    article_id = _required_string(obj, "id", MISSING_ID, EMPTY_ID)
    if len(article_id) > MAX_ID_CHARS:
        raise Rejected(ID_TOO_LONG, f"id is {len(article_id)} characters; limit {MAX_ID_CHARS}")
    text = _required_string(obj, "text", MISSING_TEXT, EMPTY_TEXT)
    size = len(text.encode("utf-8"))
    if size > max_text_bytes:
        raise Rejected(TEXT_TOO_LARGE, f"text is {size} bytes; limit {max_text_bytes}")
    for name in OPTIONAL_STRINGS:
        value = obj.get(name)
        if value is not None and not isinstance(value, str):
            raise Rejected(WRONG_TYPE, f"'{name}' must be a string, got {type(value).__name__}")
    given_language(obj.get("language"))
    media_type(obj.get("content_type"))
    if key is not None and key != article_id.encode("utf-8"):
        shown = key[:80].decode("utf-8", "replace")
        raise Rejected(KEY_MISMATCH, f"message key {shown!r} differs from id {article_id[:80]!r}")
    fields = {k: v for k, v in obj.items() if k not in ("id", "text")}
    return Article(article_id, text, fields)


def _required_string(obj: dict[str, Any], name: str, missing: str, empty: str) -> str:
    if name not in obj or obj[name] is None:
        raise Rejected(missing, f"'{name}' is required")
    value = obj[name]
    if not isinstance(value, str):
        raise Rejected(WRONG_TYPE, f"'{name}' must be a string, got {type(value).__name__}")
    if not value.strip():
        raise Rejected(empty, f"'{name}' is empty")
    return value

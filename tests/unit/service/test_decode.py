"""Stage 1: bytes → JSON object, with the exact dead-letter code for each bad input."""

from __future__ import annotations

import pytest

from service.pipeline.decode import decode
from service.pipeline.records import Rejected

LIMIT = 1000


def rejected(value: bytes | None, limit: int = LIMIT) -> Rejected:
    with pytest.raises(Rejected) as caught:
        decode(value, limit)
    return caught.value


def test_an_object_is_decoded_with_unknown_fields_kept() -> None:
    assert decode(b'{"id": "a", "text": "t", "extra": [1, 2]}', LIMIT) == {
        "id": "a",
        "text": "t",
        "extra": [1, 2],
    }


def test_tombstone_is_invalid_json() -> None:
    error = rejected(None)
    assert (error.code, error.detail) == ("invalid_json", "the message has no value (tombstone)")


def test_too_large_is_checked_before_anything_else() -> None:
    error = rejected(b"\xff" * 11, limit=10)
    assert (error.code, error.detail) == ("message_too_large", "message is 11 bytes; limit 10")
    assert decode(b'{"a": 1}', 8) == {"a": 1}  # exactly at the limit is fine


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        (b'{"text": "caf\xe9"}', "not UTF-8 at byte 13: invalid continuation byte"),
        (b"\xff{}", "not UTF-8 at byte 0: invalid start byte"),
        (b'{"a": "\xed\xa0\x80"}', "not UTF-8 at byte 7: invalid continuation byte"),
    ],
)
def test_bad_encoding_is_invalid_utf8(value: bytes, detail: str) -> None:
    error = rejected(value)
    assert (error.code, error.detail) == ("invalid_utf8", detail)


@pytest.mark.parametrize(
    "value",
    [b"", b"{bad", b'{"a": 1', b"NaN", b'{"a": NaN}', b'"\\ud800"', b"[" * 2000 + b"]" * 2000],
)
def test_not_json_is_invalid_json(value: bytes) -> None:
    error = rejected(value, limit=10_000)
    assert error.code == "invalid_json"
    assert error.detail.startswith("not JSON: ")


@pytest.mark.parametrize(
    ("value", "kind"),
    [(b"[1, 2]", "list"), (b'"text"', "str"), (b"42", "int"), (b"null", "NoneType")],
)
def test_json_that_is_not_an_object(value: bytes, kind: str) -> None:
    error = rejected(value)
    assert (error.code, error.detail) == ("not_an_object", f"expected a JSON object, got {kind}")


def test_a_utf8_byte_order_mark_before_the_json_is_tolerated() -> None:
    value = b'\xef\xbb\xbf{"id": "bom", "text": "caf\xc3\xa9"}'
    assert decode(value, LIMIT) == {"id": "bom", "text": "café"}


def test_only_a_leading_mark_is_tolerated() -> None:
    assert rejected(b'{"id": "a"}\xef\xbb\xbf').code == "invalid_json"
    assert rejected(b'\xef\xbb\xbf\xef\xbb\xbf{"id": "a"}').code == "invalid_json"
    assert rejected(b"\xef\xbb\xbf").code == "invalid_json"

"""Stage 2: the article contract, one dead-letter code per broken rule; never anything else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.pipeline.decode import decode
from service.pipeline.records import ERROR_CODES, Rejected
from service.pipeline.validate import MAX_ID_CHARS, validate

LIMIT = 100


def rejected(obj: dict[str, Any], key: bytes | None = None, limit: int = LIMIT) -> Rejected:
    with pytest.raises(Rejected) as caught:
        validate(obj, key, limit)
    return caught.value


def test_valid_article_keeps_every_other_field() -> None:
    obj = {"id": "a1", "text": "Body.", "title": "T", "source": None, "tags": ["x"], "n": 3}
    article = validate(obj, b"a1", LIMIT)
    assert (article.id, article.text) == ("a1", "Body.")
    assert article.fields == {"title": "T", "source": None, "tags": ["x"], "n": 3}
    assert article.get("title") == "T" and article.get("missing") is None


def test_no_key_is_accepted() -> None:
    assert validate({"id": "a", "text": "t"}, None, LIMIT).id == "a"


@pytest.mark.parametrize(
    ("obj", "code", "detail"),
    [
        ({"text": "t"}, "missing_id", "'id' is required"),
        ({"id": None, "text": "t"}, "missing_id", "'id' is required"),
        ({"id": "", "text": "t"}, "empty_id", "'id' is empty"),
        ({"id": " \t\n", "text": "t"}, "empty_id", "'id' is empty"),
        ({"id": 7, "text": "t"}, "wrong_type", "'id' must be a string, got int"),
        ({"id": ["a"], "text": "t"}, "wrong_type", "'id' must be a string, got list"),
        ({"id": "a"}, "missing_text", "'text' is required"),
        ({"id": "a", "text": None}, "missing_text", "'text' is required"),
        ({"id": "a", "text": ""}, "empty_text", "'text' is empty"),
        ({"id": "a", "text": "\u3000 \n"}, "empty_text", "'text' is empty"),
        ({"id": "a", "text": {"body": "x"}}, "wrong_type", "'text' must be a string, got dict"),
        ({"id": "a", "text": "t", "title": 5}, "wrong_type", "'title' must be a string, got int"),
        ({"id": "a", "text": "t", "url": True}, "wrong_type", "'url' must be a string, got bool"),
        (
            {"id": "a", "text": "t", "language": ["en"]},
            "wrong_type",
            "'language' must be a string, got list",
        ),
    ],
)
def test_each_broken_rule_has_its_code(obj: dict[str, Any], code: str, detail: str) -> None:
    error = rejected(obj)
    assert (error.code, error.detail) == (code, detail)


def test_id_length_limit() -> None:
    assert validate({"id": "i" * MAX_ID_CHARS, "text": "t"}, None, LIMIT)
    error = rejected({"id": "i" * (MAX_ID_CHARS + 1), "text": "t"})
    assert (error.code, error.detail) == ("id_too_long", "id is 257 characters; limit 256")


def test_text_limit_counts_utf8_bytes() -> None:
    assert validate({"id": "a", "text": "é" * 50}, None, LIMIT)  # 100 bytes: at the limit
    error = rejected({"id": "a", "text": "é" * 50 + "x"})
    assert (error.code, error.detail) == ("text_too_large", "text is 101 bytes; limit 100")


def test_key_must_equal_the_id() -> None:
    error = rejected({"id": "a1", "text": "t"}, key=b"b2")
    assert (error.code, error.detail) == ("key_mismatch", "message key 'b2' differs from id 'a1'")
    error = rejected({"id": "a1", "text": "t"}, key=b"\xff")
    assert error.code == "key_mismatch" and "'\ufffd'" in error.detail


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
contract_keys = st.sampled_from(
    ["id", "text", "title", "source", "url", "published_at", "language", "other"]
)
articles_ish = st.dictionaries(contract_keys | st.text(max_size=8), json_values, max_size=8)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(obj=articles_ish, key=st.none() | st.binary(max_size=20), limit=st.integers(1, 50))
def test_validator_only_ever_rejects(obj: dict[str, Any], key: bytes | None, limit: int) -> None:
    try:
        article = validate(obj, key, limit)
    except Rejected as error:
        assert error.code in ERROR_CODES
        return
    assert article.id == obj["id"] and article.text == obj["text"]
    assert len(article.text.encode()) <= limit


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=st.binary(max_size=200)
    | articles_ish.map(lambda obj: json.dumps(obj).encode())
    | articles_ish.map(lambda obj: json.dumps(obj).encode()[: len(json.dumps(obj)) // 2]),
    key=st.none() | st.binary(max_size=20),
)
def test_decode_then_validate_only_ever_rejects(value: bytes, key: bytes | None) -> None:
    try:
        validate(decode(value, 150), key, 40)
    except Rejected as error:
        assert error.code in ERROR_CODES

"""One micro-batch through every stage: each bad input gets its code, its bytes survive."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import orjson
from service_samples import CONTESTED, ORDINARY, POISON

from models.article.assess import assess_batch
from models.article.evidence_model import EvidenceClaimModel as ClaimModel
from service.pipeline.batch import accept, score_and_route
from service.pipeline.dedupe import remember
from service.pipeline.records import ERROR_CODES, DeadLetter, RawMessage
from service.settings import Topics

LIMIT = 2000
TOPICS = Topics()


def bad_inputs(message: Callable[..., RawMessage]) -> dict[str, RawMessage]:
    """One message per dead-letter code (scoring_failed needs the poisoned model)."""
    return {
        "invalid_utf8": message(value=b'{"id": "u", "text": "caf\xe9"}', key=b"u"),
        "invalid_json": message(value=b'{"id": "j", "text": ', key=b"j"),
        "not_an_object": message(value=b'["id", "text"]', key=b"n"),
        "message_too_large": message(value=b" " * (LIMIT + 64 * 1024 + 1), key=b"big"),
        "missing_id": message({"text": ORDINARY}),
        "empty_id": message({"id": "", "text": ORDINARY}),
        "id_too_long": message({"id": "x" * 300, "text": ORDINARY}),
        "missing_text": message({"id": "mt"}),
        "empty_text": message({"id": "et", "text": "   "}),
        "wrong_type": message({"id": "wt", "text": ORDINARY, "source": 12}),
        "text_too_large": message({"id": "tl", "text": "a" * (LIMIT + 1)}),
        "key_mismatch": message({"id": "km", "text": ORDINARY}, key=b"other"),
        "invalid_language": message({"id": "il", "text": ORDINARY, "language": "English!"}),
        "unsupported_content_type": message(
            {"id": "ct", "text": ORDINARY, "content_type": "application/pdf"}
        ),
        "scoring_failed": message({"id": "sf", "text": f"{ORDINARY} {POISON}"}),
    }


def test_every_code_is_dead_lettered_with_original_bytes(
    poisoned: ClaimModel, message: Callable[..., RawMessage]
) -> None:
    bad = bad_inputs(message)
    assert set(bad) == set(ERROR_CODES)
    good = [message({"id": "g1", "text": CONTESTED}), message({"id": "g2", "text": ORDINARY})]
    tombstone = message(value=None, key=b"gone")
    batch = [good[0], *bad.values(), tombstone, good[1]]
    accepted = accept(batch, {}, LIMIT)
    routed = score_and_route(accepted, poisoned, None, TOPICS)

    letters = {letter.message.offset: letter for letter in routed.rejected}
    for code, raw in bad.items():
        assert letters[raw.offset].code == code
    assert letters[tombstone.offset].code == "invalid_json"
    assert [d["article_id"] for d in routed.decisions] == ["g1", "g2"]

    dead = [orjson.loads(o.value) for o in routed.outgoing if o.topic == TOPICS.deadletter]
    assert len(dead) == len(bad) + 1
    by_offset = {record["source"]["offset"]: record for record in dead}
    for raw in [*bad.values(), tombstone]:
        record = by_offset[raw.offset]
        original = base64.b64decode(record["value_b64"]) if record["value_b64"] else None
        assert original == raw.value
        assert record["source"] == {"topic": "articles", "partition": 0, "offset": raw.offset}
    assert by_offset[bad["scoring_failed"].offset]["detail"] == (
        "FloatingPointError: the model choked on this one"
    )
    assert by_offset[tombstone.offset]["value_b64"] is None


def test_outputs_per_decision(model: ClaimModel, message: Callable[..., RawMessage]) -> None:
    batch = [message({"id": "c", "text": CONTESTED}), message({"id": "o", "text": ORDINARY})]
    routed = score_and_route(accept(batch, {}, LIMIT), model, None, TOPICS)
    assert [(o.topic, o.key) for o in routed.outgoing] == [
        (TOPICS.scored, b"c"),
        (TOPICS.flagged, b"c"),
        (TOPICS.scored, b"o"),
    ]
    expected = assess_batch(model, ["c", "o"], [CONTESTED, ORDINARY])
    assert [d["score"] for d in routed.decisions] == [e.score for e in expected]
    assert routed.scoring_seconds > 0


def test_duplicates_are_skipped_across_batches(
    model: ClaimModel, message: Callable[..., RawMessage]
) -> None:
    seen: dict[str, Any] = {}
    first = accept([message({"id": "a", "text": ORDINARY})], seen, LIMIT)
    remember(first.fresh, seen)
    again = accept(
        [message({"id": "a", "text": ORDINARY}), message({"id": "a", "text": CONTESTED})],
        seen,
        LIMIT,
    )
    assert [(a.id, m.offset) for a, m in again.duplicates] == [("a", 1)]
    routed = score_and_route(again, model, None, TOPICS)
    assert [(d["article_id"], d["version"]) for d in routed.decisions] == [("a", 2)]
    assert routed.decisions[0]["source"]["offset"] == 2


def test_dead_letter_record_shape(message: Callable[..., RawMessage]) -> None:
    raw = message(value=b"\x00\xffraw", key=b"k1")
    assert DeadLetter(raw, "invalid_utf8", "why").to_dict() == {
        "error": "invalid_utf8",
        "detail": "why",
        "source": {"topic": "articles", "partition": 0, "offset": raw.offset},
        "timestamp_ms": 1_700_000_000_000,
        "key": "k1",
        "key_b64": "azE=",
        "value_b64": "AP9yYXc=",
    }
    keyless = DeadLetter(message(value=b"x"), "invalid_json", "d").to_dict()
    assert (keyless["key"], keyless["key_b64"]) == (None, None)

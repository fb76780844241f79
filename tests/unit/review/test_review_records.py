"""Reading review records and verdicts at the edge."""

from __future__ import annotations

import json

import pytest
from review_factory import make_record

from service.review.records import InvalidRecordError, Verdict, read_review_record, read_verdict


def test_a_worker_record_reads_into_types() -> None:
    record = read_review_record(json.dumps(make_record("a-1")).encode())
    assert (record.article_id, record.tier, record.score, record.model.version) == (
        "a-1",
        "high",
        0.91,
        "2025.1",
    )
    assert record.model.artifact_hash == "sha256:ab12"
    assert [(c.text, c.category, c.sentence) for c in record.signals] == [
        ("allegedly", "hedged_attribution", 0),
        ("claimed", "claim", 1),
        ("denied", "denial", 2),
    ]
    cue = record.signals[1]
    assert record.text[cue.start : cue.end] == "claimed"
    pair = record.contested_pairs[0]
    assert (pair.claimant, pair.denier) == ("Ana Ruiz", "The mayor's office")
    assert pair.claim.text.startswith(" Council member")
    assert record.raw["latency_ms"] == 50.0


def test_pair_sides_may_be_sentence_indexes() -> None:
    raw = make_record()
    raw["contested_pairs"] = [{"claim": 1, "denial": 2, "claimant": None}]
    pair = read_review_record(raw).contested_pairs[0]
    assert "denied" in pair.denial.text and pair.claimant is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"article_id": ""}, "article_id"),
        ({"score": "high"}, "score"),
        ({"score": True}, "score"),
        ({"signals": "x"}, "signals must be a list"),
        ({"signals": [{"start": 5, "end": 2}]}, "start <= end"),
        ({"signals": ["x"]}, "object"),
        ({"title": ["x"]}, "title"),
    ],
)
def test_malformed_records_are_refused(change: dict[str, object], message: str) -> None:
    raw = make_record()
    raw.update(change)
    with pytest.raises(InvalidRecordError, match=message) as error:
        read_review_record(raw)
    assert error.value.code == "invalid_review_record"


def test_not_json_is_refused() -> None:
    for value in (b"{", b"[1]", b"\xff"):
        with pytest.raises(InvalidRecordError):
            read_review_record(value)


def test_verdict_round_trip() -> None:
    verdict = Verdict("a", "not_contested", "alice", "2025-01-01T00:00:00.000+00:00", "7", "ok")
    assert read_verdict(verdict.to_json()) == verdict
    assert "note" not in json.loads(Verdict("a", "unsure", "b", "t", "7").to_json())
    with pytest.raises(InvalidRecordError, match="verdict must be one of"):
        read_verdict(b'{"article_id": "a", "verdict": "maybe"}')

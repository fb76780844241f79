"""Reading review records and verdicts at the edge."""

from __future__ import annotations

import json

import pytest
from review_factory import EVIDENCE_TEXT, make_evidence_record, make_record

from service.review.records import (
    Attribution,
    FlagReason,
    InvalidRecordError,
    Party,
    Span,
    Verdict,
    read_review_record,
    read_verdict,
)


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


def test_evidence_fields_read_into_types() -> None:
    record = read_review_record(json.dumps(make_evidence_record("e-1")).encode())
    assert record.flag_reasons == (
        FlagReason(
            "claim by Ana Ruiz denied by The mayor's office",
            "pair_claim_denied_by_other_party",
            1.2,
        ),
        FlagReason("2 of 6 sentences hedged (in the headline or lede)", "hedged_share", 0.8),
        FlagReason("reported secondhand", "attribution_report", None),
    )
    assert record.attributions[0] == Attribution(
        kind="claim",
        sentence=1,
        source=Span("Council member Ana Ruiz", 58, 81),
        cue=Span("claimed", 82, 89),
        content=Span("the deal was signed in secret", 90, 119),
        party=Party("Ana Ruiz", "person"),
    )
    assert record.attributions[3] == Attribution(
        "report",
        5,
        None,
        Span("was reported", 262, 274),
        Span("the contract was worth millions", 280, 311),
    )
    spans = [s for a in record.attributions for s in (a.source, a.cue, a.content) if s]
    assert len(spans) == 11
    assert all(EVIDENCE_TEXT[s.start : s.end] == s.text for s in spans)
    assert (record.hedge_threshold, record.refutation_score) == (0.6, 0.12)
    assert [(s.index, s.hedge, record.is_hedged(s)) for s in record.sentences] == [
        (0, 0.91, True),
        (1, 0.3, False),
        (2, 0.05, False),
        (3, 0.74, True),
        (4, 0.12, False),
        (5, 0.35, False),
    ]
    pair = record.contested_pairs[0]
    assert pair.claim.text == " Council member Ana Ruiz claimed the deal was signed in secret."
    assert pair.denial.text == " The mayor's office denied any wrongdoing."


def test_an_older_record_reads_with_empty_evidence() -> None:
    raw = make_record()
    raw["denial_score"] = 0.3  # v1 records named their second score so
    record = read_review_record(raw)
    assert (record.flag_reasons, record.attributions) == ((), ())
    assert (record.hedge_threshold, record.refutation_score) == (None, None)
    assert [s.hedge for s in record.sentences] == [None, None, None]
    assert not any(record.is_hedged(s) for s in record.sentences)


def test_null_evidence_parts_are_tolerated() -> None:
    raw = make_evidence_record()
    raw["flag_reasons"] = [{"feature": "hedged_share", "weight": None, "text": None}]
    raw["attributions"] = [
        {"kind": "statement", "sentence": None, "source": None, "cue": None, "content": None}
    ]
    raw["sentences"] = [{"index": 0, "text": "x", "start": 0, "end": 1, "hedge": None}]
    raw["hedge_threshold"] = None
    record = read_review_record(raw)
    assert record.flag_reasons == (FlagReason("hedged_share", "hedged_share", None),)
    assert record.attributions == (Attribution("statement"),)
    assert record.sentences[0].hedge is None and record.hedge_threshold is None


def test_a_hedge_without_a_threshold_marks_nothing() -> None:
    raw = make_evidence_record()
    del raw["hedge_threshold"]
    record = read_review_record(raw)
    assert record.sentences[0].hedge == 0.91 and not record.is_hedged(record.sentences[0])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"flag_reasons": "x"}, "flag_reasons must be a list"),
        ({"flag_reasons": ["x"]}, "each item of flag_reasons must be an object"),
        ({"flag_reasons": [{"weight": 1.0}]}, "each flag reason needs a text or a feature"),
        ({"flag_reasons": [{"text": "t", "weight": "high"}]}, "weight must be a number"),
        ({"flag_reasons": [{"text": "t", "weight": True}]}, "weight must be a number"),
        ({"flag_reasons": [{"text": ["t"]}]}, "text must be a string"),
        ({"attributions": {"kind": "claim"}}, "attributions must be a list"),
        ({"attributions": [{"sentence": 1}]}, "each attribution needs a kind"),
        ({"attributions": [{"kind": "claim", "sentence": "1"}]}, "sentence must be an integer"),
        (
            {"attributions": [{"kind": "claim", "source": "Ana"}]},
            "source must be an object or null",
        ),
        (
            {"attributions": [{"kind": "claim", "cue": {"text": "x", "start": 9, "end": 3}}]},
            "attribution cue needs integer start <= end",
        ),
        (
            {"attributions": [{"kind": "claim", "content": {"text": "x"}}]},
            "attribution content needs integer start <= end",
        ),
        ({"attributions": [{"kind": "claim", "party": "Ana"}]}, "party must be an object or null"),
        (
            {"attributions": [{"kind": "claim", "party": {"kind": "person"}}]},
            "party needs a non-empty name",
        ),
        ({"hedge_threshold": 1.5}, "hedge_threshold must be between 0 and 1"),
        ({"hedge_threshold": "0.6"}, "hedge_threshold must be a number"),
        ({"refutation_score": float("nan")}, "refutation_score must be a number"),
        ({"sentences": [{"index": 0, "text": "x", "hedge": 2}]}, "hedge must be between 0 and 1"),
        ({"sentences": [{"index": 0, "text": "x", "hedge": "0.9"}]}, "hedge must be a number"),
    ],
)
def test_malformed_evidence_is_refused(change: dict[str, object], message: str) -> None:
    raw = make_evidence_record()
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

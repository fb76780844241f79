"""Stages 7 and 8: the decision and review records of DESIGN.md, and where each one goes."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from service_samples import CONTESTED

from models.article.assess import assess_batch
from models.article.evidence_model import EvidenceClaimModel as ClaimModel
from service.pipeline.decide import decision_record, review_record
from service.pipeline.dedupe import Fresh, content_hash
from service.pipeline.language import Language
from service.pipeline.records import Article, DeadLetter, RawMessage
from service.pipeline.route import Outgoing, route_dead_letter, route_decision
from service.settings import Topics

SCORED_AT = 1_700_000_000_250
ENGLISH = Language("en", "detected", True)


def contested(model: ClaimModel, message: Callable[..., RawMessage]) -> tuple:
    article = Article(
        "a1",
        CONTESTED,
        {"title": "Clash near Qaim", "source": "wire", "url": "https://e.test/1", "x": 1},
    )
    item = Fresh(article, content_hash(article), 2)
    [assessment] = assess_batch(model, ["a1"], [CONTESTED])
    return item, assessment, message({"id": "a1", "text": CONTESTED}, partition=3)


def test_decision_record(model: ClaimModel, message: Callable[..., RawMessage]) -> None:
    item, assessment, raw = contested(model, message)
    decision = decision_record(item, assessment, raw, SCORED_AT, ENGLISH)
    assert decision == {
        "article_id": "a1",
        "version": 2,
        "content_hash": item.content_hash,
        "score": assessment.score,
        "refutation_score": assessment.denial_score,
        "threshold": model.threshold,
        "flagged": True,
        "tier": assessment.tier,
        "language": "en",
        "language_source": "detected",
        "model": {"name": model.name, "version": model.version, "sha256": model.sha256},
        "source": {"topic": "articles", "partition": 3, "offset": raw.offset},
        "received_at_ms": 1_700_000_000_000,
        "scored_at_ms": SCORED_AT,
        "latency_ms": 250,
    }


def test_review_record_has_what_a_reviewer_needs(
    model: ClaimModel, message: Callable[..., RawMessage]
) -> None:
    item, assessment, raw = contested(model, message)
    review = review_record(item, assessment, raw, SCORED_AT, ENGLISH)
    assert {
        k: review[k] for k in ("article_id", "title", "source", "url", "flagged", "version")
    } == {
        "article_id": "a1",
        "title": "Clash near Qaim",
        "source": "wire",
        "url": "https://e.test/1",
        "flagged": True,
        "version": 2,
    }
    assert (review["score"], review["threshold"], review["tier"]) == (
        assessment.score,
        model.threshold,
        assessment.tier,
    )
    assert review["tier"] in ("high", "medium")
    assert review["model"] == {"name": model.name, "version": model.version, "sha256": model.sha256}
    assert review["kafka"] == {"topic": "articles", "partition": 3, "offset": raw.offset}
    assert (review["received_at_ms"], review["scored_at_ms"], review["latency_ms"]) == (
        1_700_000_000_000,
        SCORED_AT,
        250,
    )
    assert review["text"] == CONTESTED
    assert (review["language"], review["language_source"]) == ("en", "detected")
    for cue in review["signals"]:
        assert CONTESTED[cue["start"] : cue["end"]] == cue["text"]
        assert {"category", "sentence"} <= cue.keys()
    categories = {cue["text"]: cue["category"] for cue in review["signals"]}
    assert categories["claimed"] == "claim" and categories["denied"] == "denial"
    for sentence in review["sentences"]:
        assert CONTESTED[sentence["start"] : sentence["end"]] == sentence["text"]
    pair = review["contested_pairs"][0]
    assert (pair["claim_sentence"], pair["denial_sentence"]) == (0, 1)
    assert "coalition" in pair["denier"]


def test_latency_never_negative(model: ClaimModel, message: Callable[..., RawMessage]) -> None:
    item, assessment, raw = contested(model, message)
    assert decision_record(item, assessment, raw, 0, ENGLISH)["latency_ms"] == 0


def test_routes(model: ClaimModel, message: Callable[..., RawMessage]) -> None:
    topics = Topics()
    item, assessment, raw = contested(model, message)
    decision = decision_record(item, assessment, raw, SCORED_AT, ENGLISH)
    review = review_record(item, assessment, raw, SCORED_AT, ENGLISH)
    flagged = route_decision(topics, decision, review)
    assert [(o.topic, o.key, o.source_partition) for o in flagged] == [
        ("articles.scored", b"a1", 3),
        ("articles.flagged", b"a1", 3),
    ]
    assert orjson.loads(flagged[0].value) == decision
    assert orjson.loads(flagged[1].value) == review
    assert [o.topic for o in route_decision(topics, decision, None)] == ["articles.scored"]

    bad = message(value=b"\xff\x00 not json", key=b"k\xff")
    out = route_dead_letter(topics, DeadLetter(bad, "invalid_utf8", "detail"))
    assert isinstance(out, Outgoing)
    assert (out.topic, out.key, out.source_partition) == ("articles.deadletter", b"k\xff", 0)
    assert orjson.loads(out.value)["value_b64"] == "/wAgbm90IGpzb24="

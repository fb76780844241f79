"""Stages 4 and 5 in a batch: HTML read as text, languages detected, unsupported ones skipped.

Every expected field is written out by hand: the texts a reader would see, the
languages, and the skipped decisions' exact records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from sample_texts import ARABIC, FRENCH
from service_samples import CONTESTED, ORDINARY

from models.article.assess import assess_batch
from models.article.evidence_model import EvidenceClaimModel as ClaimModel
from service.pipeline.batch import accept, score_and_route
from service.pipeline.dedupe import content_hash
from service.pipeline.records import Article, RawMessage
from service.settings import Topics

LIMIT = 20_000
TOPICS = Topics()
CLAIM, DENIAL = CONTESTED.split(". ", 1)[0] + ".", CONTESTED.split(". ", 1)[1]
PAGE = (
    "<!DOCTYPE html><html><head><title>Clash | News</title>"
    "<style>p { color: red }</style>"
    "<script>var headline = 'Officials allegedly denied everything';</script></head>"
    "<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
    "<h1>Clash near Qaim</h1>"
    f"<p>{CLAIM.replace('claimed', '<b>claimed</b>')}</p>"
    f"<p>{DENIAL.replace('&', '&amp;')}</p>"
    "<noscript>Please enable JavaScript.</noscript></body></html>"
)
# What a reader of PAGE sees: the headline and the two paragraphs, as blocks.
PAGE_TEXT = f"Clash near Qaim\n\n{CLAIM}\n\n{DENIAL}"


def skipped(article_id: str, language: str, source: str, offset: int, model: ClaimModel,
            text: str) -> dict[str, Any]:  # fmt: skip
    return {
        "article_id": article_id,
        "version": 1,
        "content_hash": content_hash(Article(article_id, text, {})),
        "score": None,
        "threshold": None,
        "flagged": False,
        "tier": None,
        "language": language,
        "language_source": source,
        "skipped": "unsupported_language",
        "model": {"name": model.name, "version": model.version, "sha256": model.sha256},
        "source": {"topic": "articles", "partition": 0, "offset": offset},
        "received_at_ms": 1_700_000_000_000,
    }


def run(model: ClaimModel, batch: list[RawMessage], languages: tuple[str, ...] = ("en",)) -> Any:
    return score_and_route(accept(batch, {}, LIMIT), model, None, TOPICS, languages)


def without_times(decision: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in decision.items() if k not in ("scored_at_ms", "latency_ms")}


def test_french_and_arabic_articles_are_skipped_as_unsupported(
    model: ClaimModel, message: Callable[..., RawMessage]
) -> None:
    batch = [
        message({"id": "fr", "text": FRENCH}),
        message({"id": "ar", "text": ARABIC}),
        message({"id": "en", "text": CONTESTED}),
    ]
    routed = run(model, batch)
    decisions = {d["article_id"]: d for d in routed.decisions}
    assert without_times(decisions["fr"]) == skipped("fr", "fr", "detected", 0, model, FRENCH)
    assert without_times(decisions["ar"]) == skipped("ar", "ar", "detected", 1, model, ARABIC)
    english = decisions["en"]
    assert (english["language"], english["language_source"], english["flagged"]) == (
        "en",
        "detected",
        True,
    )
    assert "skipped" not in english
    # skipped articles get a decision and nothing on the review topic
    assert [(o.topic, o.key) for o in routed.outgoing] == [
        (TOPICS.scored, b"en"),
        (TOPICS.flagged, b"en"),
        (TOPICS.scored, b"fr"),
        (TOPICS.scored, b"ar"),
    ]
    review = orjson.loads(routed.outgoing[1].value)
    assert (review["language"], review["language_source"]) == ("en", "detected")
    assert [item.article.id for item in routed.decided] == ["en", "fr", "ar"]


def test_the_language_field_wins_over_detection(
    model: ClaimModel, message: Callable[..., RawMessage]
) -> None:
    batch = [
        message({"id": "said-fr", "text": ORDINARY, "language": "fr-CA"}),
        message({"id": "said-en", "text": FRENCH, "language": "EN_gb"}),
        message({"id": "und", "text": FRENCH, "language": "und"}),
    ]
    decisions = {d["article_id"]: d for d in run(model, batch).decisions}
    assert without_times(decisions["said-fr"]) == skipped(
        "said-fr", "fr", "field", 0, model, ORDINARY
    )
    assert (decisions["said-en"]["language"], decisions["said-en"]["language_source"]) == (
        "en",
        "field",
    )
    [expected] = assess_batch(model, ["said-en"], [FRENCH])
    assert decisions["said-en"]["score"] == expected.score
    assert decisions["und"]["skipped"] == "unsupported_language"  # "und": detected
    assert decisions["und"]["language_source"] == "detected"


def test_supported_languages_are_configurable(
    model: ClaimModel, message: Callable[..., RawMessage]
) -> None:
    routed = run(model, [message({"id": "fr", "text": FRENCH})], languages=("en", "fr"))
    [decision] = routed.decisions
    assert (decision["language"], decision["language_source"]) == ("fr", "detected")
    [expected] = assess_batch(model, ["fr"], [FRENCH])
    assert decision["score"] == expected.score and "skipped" not in decision


def test_a_text_too_short_to_tell_is_scored_as_the_models_language(
    model: ClaimModel, message: Callable[..., RawMessage]
) -> None:
    [decision] = run(model, [message({"id": "n", "text": "2-1"})]).decisions
    assert (decision["language"], decision["language_source"]) == ("en", "assumed")
    assert decision["score"] is not None


@pytest.mark.parametrize("content_type", ["text/html", "text/html; charset=utf-8", None])
def test_html_is_scored_on_the_text_a_reader_sees(
    model: ClaimModel, message: Callable[..., RawMessage], content_type: str | None
) -> None:
    article: dict[str, Any] = {"id": "h", "text": PAGE}
    if content_type:
        article["content_type"] = content_type
    routed = run(model, [message(article)])
    [decision] = routed.decisions
    [expected] = assess_batch(model, ["h"], [PAGE_TEXT])
    assert (decision["score"], decision["flagged"]) == (expected.score, True)
    [review] = [orjson.loads(o.value) for o in routed.outgoing if o.topic == TOPICS.flagged]
    assert review["text"] == PAGE_TEXT
    for cue in review["signals"]:
        assert PAGE_TEXT[cue["start"] : cue["end"]] == cue["text"]
    for sentence in review["sentences"]:
        assert PAGE_TEXT[sentence["start"] : sentence["end"]] == sentence["text"]
    assert {cue["text"] for cue in review["signals"]} >= {"claimed", "denied", "allegedly"}


def test_plain_text_that_mentions_a_tag_is_not_html(
    model: ClaimModel, message: Callable[..., RawMessage]
) -> None:
    text = f"{ORDINARY} The page used a <p> tag."
    html_said_plain = {"id": "p", "text": PAGE, "content_type": "text/plain"}
    routed = run(model, [message({"id": "t", "text": text}), message(html_said_plain)])
    scores = {d["article_id"]: d["score"] for d in routed.decisions}
    expected = assess_batch(model, ["t", "p"], [text, PAGE])
    assert scores == {"t": expected[0].score, "p": expected[1].score}


def test_html_without_readable_text_is_dead_lettered(
    model: ClaimModel, message: Callable[..., RawMessage]
) -> None:
    empty = "<html><head><script>var x = 1;</script></head><body><nav>Home</nav></body></html>"
    routed = run(model, [message({"id": "e", "text": empty})])
    assert routed.decisions == []
    [letter] = routed.rejected
    assert (letter.code, letter.detail) == ("empty_text", "'text' is HTML with no readable text")

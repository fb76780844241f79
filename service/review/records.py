"""Typed records of the review side: the flagged item (review record) and the verdict.

Field names follow DESIGN.md. :func:`read_review_record` validates a value from
``articles.flagged`` at the edge; everything after it trusts the types. The raw
mapping is kept whole so the JSON API and the export lose nothing the worker sent.
A field that is missing or null reads as empty (records from before the evidence
fields — ``flag_reasons``, ``attributions``, ``hedge`` — still read); a field that
is present with the wrong shape refuses the record.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from service.errors import ClaimwatchError

VerdictLabel = Literal["contested", "not_contested", "unsure"]
VERDICTS: tuple[VerdictLabel, ...] = ("contested", "not_contested", "unsure")
TIER_ORDER = {"high": 0, "medium": 1, "low": 2}


class InvalidRecordError(ClaimwatchError):
    """A value on a review topic is not the record DESIGN.md describes."""

    code = "invalid_review_record"


@dataclass(frozen=True)
class Cue:
    """One cue the signal extractor found: ``start``/``end`` index into the article text."""

    text: str
    category: str
    start: int
    end: int
    sentence: int | None = None
    negated: bool = False


@dataclass(frozen=True)
class Sentence:
    """A sentence that carries evidence, with its character offsets into the article text.

    ``hedge`` is the hedge model's P(hedged) for the sentence; older records carry none.
    """

    text: str
    start: int | None = None
    end: int | None = None
    index: int | None = None
    hedge: float | None = None


@dataclass(frozen=True)
class Span:
    """A piece of the article: ``start``/``end`` index into the record's ``text``."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Party:
    """Who an attribution's source names (trimmed, a pronoun resolved) and its kind."""

    name: str
    kind: str = ""


@dataclass(frozen=True)
class Attribution:
    """Who said what: the source, the cue that attributes, the content (any may be missing).

    ``kind`` is claim, denial, report or statement; an unknown kind is kept as sent.
    """

    kind: str
    sentence: int | None = None
    source: Span | None = None
    cue: Span | None = None
    content: Span | None = None
    party: Party | None = None


@dataclass(frozen=True)
class FlagReason:
    """One feature that raised the score, in words; ``weight`` is its part of the score."""

    text: str
    feature: str = ""
    weight: float | None = None


@dataclass(frozen=True)
class ContestedPair:
    """A claim sentence and a denial sentence about the same matter, with who said each."""

    claim: Sentence
    denial: Sentence
    claimant: str | None = None
    denier: str | None = None


@dataclass(frozen=True)
class ModelInfo:
    name: str = ""
    version: str = ""
    artifact_hash: str = ""


@dataclass(frozen=True)
class ReviewRecord:
    """What a reviewer needs to act on one flagged article."""

    article_id: str
    score: float
    tier: str = ""
    title: str = ""
    source: str = ""
    url: str = ""
    text: str = ""
    threshold: float | None = None
    model: ModelInfo = field(default_factory=ModelInfo)
    signals: tuple[Cue, ...] = ()
    sentences: tuple[Sentence, ...] = ()
    contested_pairs: tuple[ContestedPair, ...] = ()
    flag_reasons: tuple[FlagReason, ...] = ()
    attributions: tuple[Attribution, ...] = ()
    hedge_threshold: float | None = None
    refutation_score: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def tier_rank(self) -> int:
        """Sort key: high before medium before low before anything unknown."""
        return TIER_ORDER.get(self.tier.lower(), len(TIER_ORDER))

    def is_hedged(self, sentence: Sentence) -> bool:
        """True if the hedge model put ``sentence`` at or above the record's hedge threshold.

        Without a threshold (older records) no sentence counts as hedged.
        """
        if sentence.hedge is None or self.hedge_threshold is None:
            return False
        return sentence.hedge >= self.hedge_threshold


@dataclass(frozen=True)
class Verdict:
    """A reviewer's decision, as produced to ``articles.verdicts`` (key = article id).

    ``cluster_id`` is set when the verdict was given to a whole claim cluster: each
    member gets its own record, all with the same decision and cluster id.
    """

    article_id: str
    verdict: VerdictLabel
    reviewer: str
    decided_at: str
    model_version: str
    note: str | None = None
    cluster_id: str | None = None

    def to_json(self) -> bytes:
        value: dict[str, Any] = {
            "article_id": self.article_id,
            "verdict": self.verdict,
            "reviewer": self.reviewer,
            "decided_at": self.decided_at,
            "model_version": self.model_version,
        }
        if self.note:
            value["note"] = self.note
        if self.cluster_id:
            value["cluster_id"] = self.cluster_id
        return json.dumps(value, ensure_ascii=False).encode()


def now_iso() -> str:
    """The current time as ISO 8601 in UTC, the form every ``*_at`` field uses."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def read_verdict(value: bytes | str | Mapping[str, Any]) -> Verdict:
    """Parse and check one ``articles.verdicts`` value."""
    data = _load(value)
    label = data.get("verdict")
    if label not in VERDICTS:
        raise InvalidRecordError(f"verdict must be one of {', '.join(VERDICTS)}, not {label!r}")
    note = data.get("note")
    cluster_id = data.get("cluster_id")
    return Verdict(
        article_id=_required_str(data, "article_id"),
        verdict=label,
        reviewer=_str(data, "reviewer"),
        decided_at=_str(data, "decided_at"),
        model_version=_str(data, "model_version"),
        note=note if isinstance(note, str) and note else None,
        cluster_id=cluster_id if isinstance(cluster_id, str) and cluster_id else None,
    )


def read_review_record(value: bytes | str | Mapping[str, Any]) -> ReviewRecord:
    """Parse and check one ``articles.flagged`` value; raise InvalidRecordError if malformed."""
    data = _load(value)
    score = data.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float):
        raise InvalidRecordError(f"score must be a number, not {score!r}")
    threshold = data.get("threshold")
    model = data.get("model") if isinstance(data.get("model"), Mapping) else {}
    assert isinstance(model, Mapping)
    sentences = tuple(_sentence(item) for item in _list(data, "sentences"))
    return ReviewRecord(
        article_id=_required_str(data, "article_id"),
        score=float(score),
        tier=_str(data, "tier"),
        title=_str(data, "title"),
        source=_str(data, "source"),
        url=_str(data, "url"),
        text=_str(data, "text"),
        threshold=float(threshold) if isinstance(threshold, int | float) else None,
        model=ModelInfo(
            name=_str(model, "name"),
            version=_str(model, "version"),
            artifact_hash=_str(model, "artifact_hash") or _str(model, "sha256"),
        ),
        signals=tuple(_cue(item) for item in _list(data, "signals")),
        sentences=sentences,
        contested_pairs=tuple(_pair(item, sentences) for item in _list(data, "contested_pairs")),
        flag_reasons=tuple(_flag_reason(item) for item in _list(data, "flag_reasons")),
        attributions=tuple(_attribution(item) for item in _list(data, "attributions")),
        hedge_threshold=_probability(data, "hedge_threshold"),
        refutation_score=_number(data, "refutation_score"),
        raw=dict(data),
    )


def _load(value: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    try:
        data = json.loads(value)
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidRecordError(f"not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise InvalidRecordError("the value is not a JSON object")
    return data


def _required_str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidRecordError(f"{key} must be a non-empty string")
    return value


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidRecordError(f"{key} must be a string")
    return str(value)


def _int(data: Mapping[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _optional_int(data: Mapping[str, Any], key: str) -> int | None:
    """An integer field, or None when it is missing or null; any other value is malformed."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRecordError(f"{key} must be an integer")
    return value


def _number(data: Mapping[str, Any], key: str) -> float | None:
    """A finite number, or None when it is missing or null; any other value is malformed."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidRecordError(f"{key} must be a number")
    return float(value)


def _probability(data: Mapping[str, Any], key: str) -> float | None:
    """Like :func:`_number`, and the number must lie in [0, 1]."""
    value = _number(data, key)
    if value is not None and not 0.0 <= value <= 1.0:
        raise InvalidRecordError(f"{key} must be between 0 and 1")
    return value


def _list(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise InvalidRecordError(f"{key} must be a list")
    return value


def _object(item: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise InvalidRecordError(f"each item of {key} must be an object")
    return item


def _cue(item: Any) -> Cue:
    cue = _object(item, "signals")
    start, end = _int(cue, "start"), _int(cue, "end")
    if start is None or end is None or not 0 <= start <= end:
        raise InvalidRecordError("each cue needs integer start <= end")
    return Cue(
        text=_str(cue, "text"),
        category=_str(cue, "category"),
        start=start,
        end=end,
        sentence=_int(cue, "sentence", "sentence_index"),
        negated=cue.get("negated") is True,
    )


def _sentence(item: Any) -> Sentence:
    if isinstance(item, str):
        return Sentence(text=item)
    sentence = _object(item, "sentences")
    return Sentence(
        text=_str(sentence, "text"),
        start=_int(sentence, "start"),
        end=_int(sentence, "end"),
        index=_int(sentence, "index", "sentence"),
        hedge=_probability(sentence, "hedge"),
    )


def _span(value: Any, key: str) -> Span | None:
    """A ``{text, start, end}`` span, or None for null; a span needs integer start <= end."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidRecordError(f"{key} must be an object or null")
    start, end = _int(value, "start"), _int(value, "end")
    if start is None or end is None or not 0 <= start <= end:
        raise InvalidRecordError(f"{key} needs integer start <= end")
    return Span(text=_str(value, "text"), start=start, end=end)


def _party(value: Any) -> Party | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidRecordError("attribution party must be an object or null")
    name = value.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRecordError("attribution party needs a non-empty name")
    return Party(name=name, kind=_str(value, "kind"))


def _attribution(item: Any) -> Attribution:
    attribution = _object(item, "attributions")
    kind = attribution.get("kind")
    if not isinstance(kind, str) or not kind:
        raise InvalidRecordError("each attribution needs a kind")
    return Attribution(
        kind=kind,
        sentence=_optional_int(attribution, "sentence"),
        source=_span(attribution.get("source"), "attribution source"),
        cue=_span(attribution.get("cue"), "attribution cue"),
        content=_span(attribution.get("content"), "attribution content"),
        party=_party(attribution.get("party")),
    )


def _flag_reason(item: Any) -> FlagReason:
    """A reason shows its text; a reason without text falls back to its feature name."""
    reason = _object(item, "flag_reasons")
    feature = _str(reason, "feature")
    text = _str(reason, "text") or feature
    if not text:
        raise InvalidRecordError("each flag reason needs a text or a feature")
    return FlagReason(text=text, feature=feature, weight=_number(reason, "weight"))


def _pair_side(value: Any, sentences: tuple[Sentence, ...]) -> Sentence:
    """A side of a pair may be given as a sentence object, its text, or a sentence index.

    An index refers to ``Sentence.index`` (the worker sends ``claim_sentence`` /
    ``denial_sentence`` that way); an index we cannot resolve shows as empty rather
    than as the wrong sentence.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        for sentence in sentences:
            if sentence.index == value:
                return sentence
        return Sentence(text="")
    if value is None:
        return Sentence(text="")
    return _sentence(value)


def _pair(item: Any, sentences: tuple[Sentence, ...]) -> ContestedPair:
    pair = _object(item, "contested_pairs")
    claim = pair.get("claim", pair.get("claim_sentence"))
    denial = pair.get("denial", pair.get("denial_sentence"))
    return ContestedPair(
        claim=_pair_side(claim, sentences),
        denial=_pair_side(denial, sentences),
        claimant=_str(pair, "claimant") or None,
        denier=_str(pair, "denier") or None,
    )

"""Stage 7 — decide: the model's assessment → the decision and the review record.

The threshold and tier come from the model card unless ``CLAIMWATCH_THRESHOLD``
overrides them (applied by :mod:`service.pipeline.score` through ``assess_batch``).
An article in a language the model does not support gets a decision without a score
(:func:`skipped_record`).
"""

from __future__ import annotations

from typing import Any

from models.article.assess import Assessment
from service.pipeline.dedupe import Fresh
from service.pipeline.language import Language
from service.pipeline.records import UNSUPPORTED_LANGUAGE, RawMessage


def decision_record(
    item: Fresh, assessment: Assessment, message: RawMessage, scored_at_ms: int, language: Language
) -> dict[str, Any]:
    """The compact decision for ``articles.scored`` (one per accepted article)."""
    return {
        "article_id": item.article.id,
        "version": item.version,
        "content_hash": item.content_hash,
        "score": assessment.score,
        **second_score(assessment),
        "threshold": assessment.threshold,
        "flagged": assessment.flagged,
        "tier": assessment.tier,
        **language.to_dict(),
        "model": assessment.model,
        "source": message.source(),
        "received_at_ms": message.timestamp_ms,
        "scored_at_ms": scored_at_ms,
        "latency_ms": max(0, scored_at_ms - message.timestamp_ms),
    }


def skipped_record(
    item: Fresh, model: dict[str, str], message: RawMessage, decided_at_ms: int, language: Language
) -> dict[str, Any]:
    """The decision on an article the model does not score: not flagged, and why."""
    return {
        "article_id": item.article.id,
        "version": item.version,
        "content_hash": item.content_hash,
        "score": None,
        "threshold": None,
        "flagged": False,
        "tier": None,
        **language.to_dict(),
        "skipped": UNSUPPORTED_LANGUAGE,
        "model": model,
        "source": message.source(),
        "received_at_ms": message.timestamp_ms,
        "scored_at_ms": decided_at_ms,
        "latency_ms": max(0, decided_at_ms - message.timestamp_ms),
    }


def second_score(assessment: Assessment) -> dict[str, float]:
    """v2 models name their second score for what it measures (the body refutes the
    claim it reports: FNC-1 *disagree*); v1's was called ``denial_score``."""
    name = "refutation_score" if assessment.evidence is not None else "denial_score"
    return {name: assessment.denial_score}


def review_record(
    item: Fresh, assessment: Assessment, message: RawMessage, scored_at_ms: int, language: Language
) -> dict[str, Any]:
    """Everything a reviewer needs to act on a flagged article (DESIGN.md)."""
    article = item.article
    record = assessment.to_dict()
    record.update(
        {
            "title": article.get("title"),
            "source": article.get("source"),
            "url": article.get("url"),
            "published_at": article.get("published_at"),
            "text": assessment.text or article.text,
            **language.to_dict(),
            "version": item.version,
            "content_hash": item.content_hash,
            "kafka": message.source(),
            "received_at_ms": message.timestamp_ms,
            "scored_at_ms": scored_at_ms,
            "latency_ms": max(0, scored_at_ms - message.timestamp_ms),
        }
    )
    return record

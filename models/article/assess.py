"""Assess a batch of articles: score, decision, tier, the evidence and the reasons, in one pass.

The evidence of each article is extracted once and used both as model features and
as the explanation a reviewer sees. No article is flagged without evidence in its
record (a cue, a hedged sentence or a contested-kind attribution), whatever its
score: that is the product's promise, checked here rather than hoped of the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from models.article.evidence_model import EvidenceClaimModel, Reason
from models.article.pipeline import ClaimModel
from models.evidence.evidence import ArticleEvidence
from models.evidence.signals import ArticleSignals, extract_signals

ArticleModel = ClaimModel | EvidenceClaimModel


def headline_and_body(title: str | None, text: str) -> str:
    """The text an article is scored on: its ``title`` as the headline, then the body.

    A title the text already starts with is not repeated. Every offset of the
    assessment indexes this text, which the review record carries.
    """
    headline = (title or "").strip()
    if not headline or text.lstrip().startswith(headline):
        return text
    return f"{headline}\n\n{text}"


@dataclass(frozen=True, slots=True)
class Assessment:
    """The model's decision on one article, with everything that explains it."""

    article_id: str
    score: float
    denial_score: float  # v1: FNC-1 "disagree" head; v2: refutation score (same labels)
    threshold: float
    flagged: bool
    tier: str
    signals: ArticleSignals
    model: dict[str, str]
    text: str = ""
    evidence: ArticleEvidence | None = None
    reasons: list[Reason] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The review-record fields of DESIGN.md that the model produces."""
        record: dict[str, Any] = {
            "article_id": self.article_id,
            "score": self.score,
            "threshold": self.threshold,
            "flagged": self.flagged,
            "tier": self.tier,
            "signals": [cue.to_dict() for cue in self.signals.cues],
            "model": dict(self.model),
        }
        if self.evidence is None:  # v1
            record["denial_score"] = self.denial_score
            record["sentences"] = [s.to_dict() for s in self.signals.sentences]
            record["contested_pairs"] = [pair.to_dict() for pair in self.signals.pairs]
            record["flag_reasons"] = [
                {"feature": f"cue_{cue.category}", "weight": None, "text": f"cue: {cue.text}"}
                for cue in self.signals.cues[:3]
                if self.flagged and not cue.negated
            ]
            return record
        record["refutation_score"] = self.denial_score
        record["flag_reasons"] = [reason.to_dict() for reason in self.reasons]
        record["attributions"] = self.evidence.attribution_records()
        record["sentences"] = self.evidence.sentence_records()
        record["hedge_threshold"] = self.evidence.hedge_threshold
        record["contested_pairs"] = [pair.to_dict() for pair in self.evidence.pairs]
        return record


def has_cue(signals: ArticleSignals) -> bool:
    return any(not cue.negated for cue in signals.cues)


def assess_batch(
    model: ArticleModel,
    ids: Sequence[str],
    texts: Sequence[str],
    threshold: float | None = None,
    titles: Sequence[str | None] | None = None,
) -> list[Assessment]:
    """Assess articles in one vectorized model call; deterministic for a given model."""
    if len(ids) != len(texts) or (titles is not None and len(titles) != len(texts)):
        raise ValueError(f"{len(ids)} ids for {len(texts)} texts")
    scored_texts = [
        headline_and_body(titles[i] if titles else None, text) for i, text in enumerate(texts)
    ]
    flag_at = model.threshold if threshold is None else threshold
    info = model.info()
    if isinstance(model, EvidenceClaimModel):
        evidence = model.extract(scored_texts)
        scores = model.score_evidence(evidence)
        contested, refutation, reasons = scores.contested, scores.refutation, scores.reasons
        signals = [item.signals for item in evidence]
        supported = [item.has_evidence() for item in evidence]
    else:
        signals = [extract_signals(text, headline=False) for text in scored_texts]
        v1 = model.score_batch(signals)
        contested, refutation = v1.contested, v1.denial
        reasons = [[] for _ in signals]
        supported = [has_cue(found) for found in signals]
    results = []
    for i, article_id in enumerate(ids):
        score = float(contested[i])
        flagged = score >= flag_at and supported[i]
        results.append(
            Assessment(
                article_id=article_id,
                score=round(score, 6),
                denial_score=round(float(refutation[i]), 6),
                threshold=flag_at,
                flagged=flagged,
                tier=model.tier_for(score, flag_at) if flagged else "low",
                signals=signals[i],
                model=info,
                text=scored_texts[i],
                evidence=evidence[i] if isinstance(model, EvidenceClaimModel) else None,
                reasons=reasons[i],
            )
        )
    return results

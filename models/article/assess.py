"""Assess a batch of articles: score, decision, tier and the reasons, in one pass.

The cues of each article are extracted once and used both as model features and
as the explanation a reviewer sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from models.article.pipeline import ClaimModel
from models.evidence.signals import ArticleSignals, extract_signals


@dataclass(frozen=True, slots=True)
class Assessment:
    """The model's decision on one article, with everything that explains it."""

    article_id: str
    score: float
    denial_score: float
    threshold: float
    flagged: bool
    tier: str
    signals: ArticleSignals
    model: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """The review-record fields of DESIGN.md that the model produces."""
        return {
            "article_id": self.article_id,
            "score": self.score,
            "denial_score": self.denial_score,
            "threshold": self.threshold,
            "flagged": self.flagged,
            "tier": self.tier,
            "signals": [cue.to_dict() for cue in self.signals.cues],
            "sentences": [sentence.to_dict() for sentence in self.signals.sentences],
            "contested_pairs": [pair.to_dict() for pair in self.signals.pairs],
            "model": dict(self.model),
        }


def assess_batch(
    model: ClaimModel,
    ids: Sequence[str],
    texts: Sequence[str],
    threshold: float | None = None,
) -> list[Assessment]:
    """Assess articles in one vectorized model call; deterministic for a given model."""
    if len(ids) != len(texts):
        raise ValueError(f"{len(ids)} ids for {len(texts)} texts")
    signals = [extract_signals(text) for text in texts]
    scores = model.score_batch(signals)
    flag_at = model.threshold if threshold is None else threshold
    info = model.info()
    results = []
    for article_id, found, score, denial in zip(
        ids, signals, scores.contested.tolist(), scores.denial.tolist(), strict=True
    ):
        tier = model.tier_for(score, flag_at)
        results.append(
            Assessment(
                article_id=article_id,
                score=round(score, 6),
                denial_score=round(denial, 6),
                threshold=flag_at,
                flagged=score >= flag_at,
                tier=tier,
                signals=found,
                model=info,
            )
        )
    return results

"""Expectations shared by the model tests, written from DESIGN.md (not from the code)."""

from __future__ import annotations

import functools

from models.article.evidence_model import EvidenceClaimModel
from models.artifact import load_model


@functools.cache
def shared_model() -> EvidenceClaimModel:
    """The shipped v2 artifact, loaded once per test session (property tests use it
    outside fixtures)."""
    loaded = load_model()
    assert isinstance(loaded, EvidenceClaimModel)
    return loaded

# The review-record fields that `claimwatch score` and `assess_batch` produce.
RECORD_FIELDS = {
    "article_id",
    "score",
    "refutation_score",
    "flag_reasons",
    "attributions",
    "hedge_threshold",
    "threshold",
    "flagged",
    "tier",
    "signals",
    "sentences",
    "contested_pairs",
    "model",
}

"""Expectations shared by the model tests, written from DESIGN.md (not from the code)."""

from __future__ import annotations

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

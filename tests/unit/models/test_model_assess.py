"""Scoring behaviour users see: the design example, ordinary news, determinism, batching."""

from __future__ import annotations

import numpy as np
import pytest
from model_samples import RECORD_FIELDS
from sample_texts import DESIGN_EXAMPLE as DESIGN

from models.article.assess import assess_batch
from models.article.pipeline import ClaimModel
from models.artifact import load_model

ORDINARY = (
    "The city council approved a new budget on Monday that raises spending on schools and "
    "road repairs by 4 percent. The mayor said the plan would be funded by higher property "
    "tax revenue. Construction on the new library is expected to begin in the spring and "
    "finish within two years."
)


@pytest.fixture(scope="module")
def model() -> ClaimModel:
    return load_model()


def test_design_example_is_flagged_with_cues_and_pair(model: ClaimModel) -> None:
    record = assess_batch(model, ["a1"], [DESIGN])[0].to_dict()
    assert record["score"] >= model.threshold
    assert record["flagged"] is True
    assert record["tier"] in ("high", "medium")
    spans = {(s["text"], s["start"], s["end"]) for s in record["signals"]}
    for phrase in ("claimed", "denied", "allegedly", "could not be independently verified"):
        start = DESIGN.index(phrase)
        assert (phrase, start, start + len(phrase)) in spans
    pair = record["contested_pairs"][0]
    assert pair["claimant"] == "IMIS"
    assert pair["denier"] == "The US-led coalition"
    assert record["model"] == model.info()


def test_ordinary_news_scores_low(model: ClaimModel) -> None:
    record = assess_batch(model, ["o1"], [ORDINARY])[0]
    assert record.score < model.threshold
    assert record.flagged is False
    assert record.tier == "low"
    assert record.to_dict()["signals"] == []


def test_record_fields_match_the_design(model: ClaimModel) -> None:
    record = assess_batch(model, ["a1"], [DESIGN])[0].to_dict()
    assert set(record) == RECORD_FIELDS


def test_batch_equals_one_by_one_and_is_deterministic(model: ClaimModel) -> None:
    texts = [DESIGN, ORDINARY, "", "allegedly " * 5000, DESIGN.upper()]
    batch = model.score_batch(texts)
    single = np.array([model.score_batch([t]).contested[0] for t in texts])
    np.testing.assert_allclose(batch.contested, single, rtol=0, atol=1e-12)
    again = model.score_batch(texts)
    assert np.array_equal(batch.contested, again.contested)
    assert np.array_equal(batch.denial, again.denial)
    assert batch.contested.dtype == np.float64
    assert model.score_batch([]).contested.shape == (0,)


def test_assess_and_score_batch_agree(model: ClaimModel) -> None:
    records = assess_batch(model, ["a", "b"], [DESIGN, ORDINARY])
    scores = model.score_batch([DESIGN, ORDINARY]).contested
    assert [r.score for r in records] == pytest.approx(scores.tolist(), abs=1e-6)


def test_threshold_override_and_tiers(model: ClaimModel) -> None:
    record = assess_batch(model, ["o"], [ORDINARY], threshold=0.0001)[0]
    assert record.flagged is True
    assert record.threshold == 0.0001
    assert model.tier_for(0.0, 0.5) == "low"
    assert model.tier_for(1.0) == "high"
    assert model.tier_for(0.5, 0.4) in ("medium", "high")

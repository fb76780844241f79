"""Scoring behaviour users see: the seed and design examples, framing, evidence, batching."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_samples import RECORD_FIELDS, shared_model
from sample_texts import DESIGN_EXAMPLE as DESIGN

from models.article.assess import assess_batch, headline_and_body
from models.article.evidence_model import EvidenceClaimModel

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
SEED_LINES = (DATA / "seed" / "000_87b075374c3535e4.txt").read_text(encoding="utf-8").split("\n")
HEADLINE, BODY = SEED_LINES[2].strip(), "\n".join(SEED_LINES[3:])

ORDINARY = (
    "The city council approved a new budget on Monday that raises spending on schools and "
    "road repairs by 4 percent. The mayor said the plan would be funded by higher property "
    "tax revenue. Construction on the new library is expected to begin in the spring and "
    "finish within two years."
)
# Parties a reader of the seed article finds on each side (data README, seed/).
IMIS_SIDE = ("IMIS", "Abu Jaffar al-Shabaki", "Ridwan al-Anzi", "al-Shabaki", "Anzi")
US_SIDE = ("US", "US-led coalition", "Col. Sean Ryan", "coalition")


@pytest.fixture(scope="module")
def model() -> EvidenceClaimModel:
    return shared_model()


def seed_framings(model: EvidenceClaimModel) -> list[dict[str, object]]:
    assessed = assess_batch(
        model,
        ["breadcrumb+headline+body", "headline+body", "title+body"],
        ["\n".join(SEED_LINES), HEADLINE + "\n" + BODY, BODY],
        titles=[None, None, HEADLINE],
    )
    return [a.to_dict() for a in assessed]


def test_the_seed_is_flagged_high_in_every_framing_with_nearly_the_same_score(
    model: EvidenceClaimModel,
) -> None:
    records = seed_framings(model)
    for record in records:
        assert record["flagged"] is True, record["article_id"]
        assert record["tier"] == "high", record["article_id"]
        assert record["flag_reasons"], record["article_id"]
    scores = [float(r["score"]) for r in records]  # type: ignore[arg-type]
    assert max(scores) - min(scores) <= 0.05


def test_the_seeds_pairs_name_imis_and_the_us_side(model: EvidenceClaimModel) -> None:
    for record in seed_framings(model):
        pairs = record["contested_pairs"]
        assert isinstance(pairs, list)
        assert any(
            p["claimant"] in IMIS_SIDE and p["denier"] in US_SIDE for p in pairs
        ), pairs
        for pair in pairs:
            for party in (pair["claimant"], pair["denier"]):
                assert party is None or party not in ("Monday", "Iraq Monday", "confrontation")
                assert party is None or party[0].isupper(), party


def test_a_title_is_scored_as_the_headline() -> None:
    assert headline_and_body("US denies", "Body.") == "US denies\n\nBody."
    assert headline_and_body("US denies", "US denies\nBody.") == "US denies\nBody."
    assert headline_and_body(None, "Body.") == "Body."


def test_the_record_text_is_what_the_offsets_index(model: EvidenceClaimModel) -> None:
    record = seed_framings(model)[2]
    assert record["flagged"] is True
    text = headline_and_body(HEADLINE, BODY)
    for cue in record["signals"]:  # type: ignore[attr-defined]
        assert text[cue["start"] : cue["end"]] == cue["text"]


def test_design_example_is_flagged_with_cues_and_parties(model: EvidenceClaimModel) -> None:
    record = assess_batch(model, ["a1"], [DESIGN])[0].to_dict()
    assert record["flagged"] is True
    spans = {(s["text"], s["start"], s["end"]) for s in record["signals"]}
    for phrase in ("claimed", "denied", "allegedly", "could not be independently verified"):
        start = DESIGN.index(phrase)
        assert (phrase, start, start + len(phrase)) in spans
    assert record["model"] == model.info()


def test_ordinary_news_is_not_flagged(model: EvidenceClaimModel) -> None:
    record = assess_batch(model, ["o1"], [ORDINARY])[0]
    assert record.flagged is False
    assert record.tier == "low"


def test_record_fields_match_the_design(model: EvidenceClaimModel) -> None:
    record = assess_batch(model, ["a1"], [DESIGN])[0].to_dict()
    assert set(record) == RECORD_FIELDS
    assert 0.0 < record["hedge_threshold"] < 1.0


def has_evidence(record: dict[str, object]) -> bool:
    cues = [c for c in record["signals"] if not c["negated"]]  # type: ignore[attr-defined]
    hedged = [
        s for s in record["sentences"]  # type: ignore[attr-defined]
        if s["hedge"] is not None and s["hedge"] >= record["hedge_threshold"]  # type: ignore[operator]
    ]
    contested = [
        a for a in record["attributions"]  # type: ignore[attr-defined]
        if a["kind"] in ("claim", "denial", "report")
    ]
    return bool(cues or hedged or contested)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            ["Apple", "iPhone", "ISIS", "troops", "video", "rumour", "Monday", "said", "the",
             "market", "shares", "fell", "police", "report", "game", ".", ",", "\n\n"]
        ),
        max_size=120,
    ),
    st.floats(min_value=0.0, max_value=1.0),
)
def test_no_flag_without_evidence_at_any_threshold(words: list[str], threshold: float) -> None:
    model = shared_model()
    record = assess_batch(model, ["p"], [" ".join(words)], threshold=threshold)[0].to_dict()
    if record["flagged"]:
        assert has_evidence(record)
        assert record["flag_reasons"]


def test_every_flagged_ordinary_news_article_carries_its_evidence(
    model: EvidenceClaimModel,
) -> None:
    files = sorted((DATA / "ordinary-news").glob("*.txt"))
    texts = [path.read_text(encoding="utf-8", errors="replace") for path in files]
    records = [a.to_dict() for a in assess_batch(model, [p.stem for p in files], texts, 0.0)]
    assert len(records) == 120
    for record in records:
        if record["flagged"]:
            assert has_evidence(record), record["article_id"]
    # at threshold 0 the gate alone decides: articles without evidence stay unflagged
    assert any(not r["flagged"] for r in records)


def test_batch_equals_one_by_one_and_is_deterministic(model: EvidenceClaimModel) -> None:
    texts = [DESIGN, ORDINARY, "", "allegedly " * 5000, DESIGN.upper(), BODY]
    batch = assess_batch(model, [str(i) for i in range(len(texts))], texts)
    single = [assess_batch(model, ["x"], [t])[0] for t in texts]
    np.testing.assert_allclose([a.score for a in batch], [a.score for a in single], atol=1e-9)
    again = assess_batch(model, [str(i) for i in range(len(texts))], texts)
    assert [a.to_dict() for a in batch] == [a.to_dict() for a in again]
    assert assess_batch(model, [], []) == []


def test_threshold_override_and_tiers(model: EvidenceClaimModel) -> None:
    record = assess_batch(model, ["d"], [DESIGN], threshold=0.0001)[0]
    assert record.flagged is True
    assert record.threshold == 0.0001
    assert model.tier_for(0.0, 0.5) == "low"
    assert model.tier_for(1.0) == "high"
    assert model.tier_for(0.5, 0.4) in ("medium", "high")

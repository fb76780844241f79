"""The review side reads what the model's evidence code actually writes.

A contract test: the records here are built from ``models.evidence.signals`` output
and from the record builders of the evidence model (``ArticleEvidence``,
``attribution_record``, ``Reason.to_dict``), so a change of field names on either
side shows up as a failure here, not as a blank page in front of a reviewer. The
attributions and hedge probabilities are given by hand; no model is run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from models.article.evidence_model import Reason, describe
from models.evidence.attribution import Attribution, Span
from models.evidence.evidence import ArticleEvidence, Party
from models.evidence.pairs import ContestedPair
from models.evidence.signals import extract_signals
from models.evidence.spans import sentence_starts
from service.review import pages
from service.review.records import read_review_record
from service.review.render import render_terminal
from service.review.store import QueueItem

TEXT = (
    "Council member Ana Ruiz claimed the mayor signed the harbour deal in secret. "
    "The mayor's office denied that the mayor signed the harbour deal. "
    "He reportedly did not deny it."
)


def worker_record() -> dict[str, Any]:
    found = extract_signals(TEXT)
    return {
        "article_id": "c-1",
        "title": "Harbour deal",
        "source": "gazette",
        "text": TEXT,
        "score": 0.9,
        "threshold": 0.5,
        "flagged": True,
        "tier": "high",
        "model": {"name": "claimwatch", "version": "3", "sha256": "abc"},
        "signals": [cue.to_dict() for cue in found.cues],
        "sentences": [sentence.to_dict() for sentence in found.sentences],
        "contested_pairs": [pair.to_dict() for pair in found.pairs],
    }


def test_model_signals_read_and_render() -> None:
    record = read_review_record(worker_record())
    assert record.model.artifact_hash == "abc"
    assert all(TEXT[c.start : c.end] == c.text for c in record.signals)
    assert [c.negated for c in record.signals if c.text == "deny"] == [True]
    (pair,) = record.contested_pairs
    assert pair.claim.text.startswith("Council member Ana Ruiz claimed")
    assert pair.denial.text.startswith("The mayor's office denied")
    assert (pair.claimant, pair.denier) == ("Council member Ana Ruiz", "The mayor's office")

    html = pages.article_page(QueueItem(record, "queued", None), "alice", "t")
    assert 'title="denial (negated)"' in html
    out = render_terminal(record, color=False)
    assert "claim (Council member Ana Ruiz): Council member Ana Ruiz [[claimed]](claim)" in out
    assert "He [[reportedly]](hedged_attribution) did not [[deny]](denial, negated) it." in out


def span(phrase: str) -> Span:
    start = TEXT.index(phrase)
    return Span(phrase, start, start + len(phrase))


def evidence() -> ArticleEvidence:
    """The evidence of TEXT as the evidence models would give it, built by hand."""
    attributions = [
        Attribution(
            "claim",
            0,
            span("Council member Ana Ruiz"),
            span("claimed"),
            span("the mayor signed the harbour deal in secret"),
        ),
        Attribution(
            "denial",
            1,
            span("The mayor's office"),
            span("denied"),
            span("that the mayor signed the harbour deal"),
        ),
        Attribution("report", 2, None, span("reportedly"), span("did not deny it")),
    ]
    pair = ContestedPair(
        0, 1, "Ana Ruiz", "mayor's office", "claimed", "denied", ("deal", "harbour", "signed")
    )
    return ArticleEvidence(
        text=TEXT,
        signals=extract_signals(TEXT),
        starts=sentence_starts(TEXT),
        hedge=np.array([0.2, 0.1, 0.83]),
        hedge_threshold=0.6,
        attributions=attributions,
        parties=[Party("Ana Ruiz", "person"), Party("mayor's office", "organisation"), None],
        pairs=[pair],
    )


def evidence_record(found: ArticleEvidence) -> dict[str, Any]:
    """The review record the worker writes for ``found`` (v2 fields from the model code)."""
    reasons = []
    for feature, weight in (("pair_claim_denied_by_other_party", 1.25), ("hedged_share", 0.5)):
        text = describe(feature, found)
        assert text is not None, feature
        reasons.append(Reason(feature, weight, text).to_dict())
    record = worker_record()
    record.update(
        {
            "sentences": found.sentence_records(),
            "attributions": found.attribution_records(),
            "contested_pairs": [pair.to_dict() for pair in found.pairs],
            "hedge_threshold": found.hedge_threshold,
            "refutation_score": 0.25,
            "flag_reasons": reasons,
        }
    )
    return record


def test_evidence_model_records_read_and_render() -> None:
    record = read_review_record(evidence_record(evidence()))
    assert [(r.feature, r.weight, r.text) for r in record.flag_reasons] == [
        ("pair_claim_denied_by_other_party", 1.25, "claim by Ana Ruiz denied by mayor's office"),
        ("hedged_share", 0.5, "1 of 3 sentences hedged (in the headline or lede)"),
    ]
    assert [(a.kind, a.sentence) for a in record.attributions] == [
        ("claim", 0),
        ("denial", 1),
        ("report", 2),
    ]
    spans = [s for a in record.attributions for s in (a.source, a.cue, a.content) if s]
    assert len(spans) == 8 and all(TEXT[s.start : s.end] == s.text for s in spans)
    assert [(s.index, s.hedge, record.is_hedged(s)) for s in record.sentences] == [
        (0, 0.2, False),
        (1, 0.1, False),
        (2, 0.83, True),
    ]
    (pair,) = record.contested_pairs
    assert pair.claim.text == (
        "Council member Ana Ruiz claimed the mayor signed the harbour deal in secret."
    )
    assert pair.denial.text == "The mayor's office denied that the mayor signed the harbour deal."
    assert (pair.claimant, pair.denier) == ("Ana Ruiz", "mayor's office")

    out = render_terminal(record, color=False).splitlines()
    assert out[2:6] == [
        "  why:",
        "    - claim by Ana Ruiz denied by mayor's office"
        " [pair_claim_denied_by_other_party, weight 1.25]",
        "    - 1 of 3 sentences hedged (in the headline or lede) [hedged_share, weight 0.50]",
        "  sentences (hedged: hedge probability ≥ 0.60):",
    ]
    assert out[8] == (
        "    - [hedged 0.83] He [[reportedly]](hedged_attribution) did not [[deny]](denial,"
        " negated) it."
    )
    assert out[9:13] == [
        "  attributions:",
        "    - [claim] Council member Ana Ruiz (person: Ana Ruiz) → claimed"
        " → the mayor signed the harbour deal in secret",
        "    - [denial] The mayor's office (organisation: mayor's office) → denied"
        " → that the mayor signed the harbour deal",
        "    - [report] (no source) → reportedly → did not deny it",
    ]
    html = pages.article_page(QueueItem(record, "queued", None), "alice", "t")
    assert '<li class=hedged data-hedge="0.83"><span class=hedge>hedged 0.83</span> He' in html
    assert "<span class=reason-text>claim by Ana Ruiz denied by mayor&#x27;s office</span>" in html

"""The review side reads what the model's signal extractor actually writes.

A contract test: the records here are built from ``models.evidence.signals`` output, so a
change of field names on either side shows up as a failure here, not as a blank
page in front of a reviewer.
"""

from __future__ import annotations

from models.evidence.signals import extract_signals
from service.review import pages
from service.review.records import read_review_record
from service.review.render import render_terminal
from service.review.store import QueueItem

TEXT = (
    "Council member Ana Ruiz claimed the mayor signed the harbour deal in secret. "
    "The mayor's office denied that the mayor signed the harbour deal. "
    "He reportedly did not deny it."
)


def worker_record() -> dict[str, object]:
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

"""Review records for tests, built from DESIGN.md's field list with exact cue offsets."""

from __future__ import annotations

import re
from typing import Any

XSS_TITLE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'
XSS_TEXT = (
    "Officials allegedly moved the funds. <script>window.__pwned = 3</script> "
    "The minister denied the report."
)

DEFAULT_TEXT = (
    "The mayor allegedly approved the contract without a vote. "
    "Council member Ana Ruiz claimed the deal was signed in secret. "
    "The mayor's office denied any wrongdoing."
)


def cue(text: str, phrase: str, category: str, sentence: int | None = None) -> dict[str, Any]:
    start = text.index(phrase)
    return {
        "text": phrase,
        "category": category,
        "start": start,
        "end": start + len(phrase),
        "sentence": sentence,
    }


def split_sentences(text: str) -> list[dict[str, Any]]:
    return [
        {"index": i, "text": m.group(0), "start": m.start(), "end": m.end()}
        for i, m in enumerate(re.finditer(r"[^.!?]+[.!?]", text))
    ]


def make_record(
    article_id: str = "a-1",
    *,
    title: str = "Mayor approved contract, council says",
    text: str = DEFAULT_TEXT,
    source: str = "daily-planet",
    tier: str = "high",
    score: float = 0.91,
    cues: list[tuple[str, str]] | None = None,
    version: str = "2025.1",
) -> dict[str, Any]:
    """A review record as the worker writes it (including the article ``text``)."""
    if cues is None:
        cues = [("allegedly", "hedged_attribution"), ("claimed", "claim"), ("denied", "denial")]
    sentences = split_sentences(text)
    signals = []
    for phrase, category in cues:
        found = cue(text, phrase, category)
        found["sentence"] = next(
            (s["index"] for s in sentences if s["start"] <= found["start"] < s["end"]), None
        )
        signals.append(found)
    carrying = [s for s in sentences if any(c["sentence"] == s["index"] for c in signals)]
    claims = [c for c in signals if c["category"] == "claim"]
    denials = [c for c in signals if c["category"] == "denial"]
    pairs = []
    if claims and denials:
        pairs.append(
            {
                "claim": sentences[claims[0]["sentence"]],
                "denial": sentences[denials[0]["sentence"]],
                "claimant": "Ana Ruiz",
                "denier": "The mayor's office",
            }
        )
    return {
        "article_id": article_id,
        "title": title,
        "source": source,
        "url": f"https://example.org/{article_id}",
        "text": text,
        "score": score,
        "threshold": 0.5,
        "flagged": True,
        "tier": tier,
        "model": {"name": "claimwatch-linear", "version": version, "artifact_hash": "sha256:ab12"},
        "signals": signals,
        "sentences": carrying,
        "contested_pairs": pairs,
        "source_topic": "articles",
        "source_partition": 0,
        "source_offset": 7,
        "received_at": "2025-01-01T00:00:00+00:00",
        "scored_at": "2025-01-01T00:00:00.050000+00:00",
        "latency_ms": 50.0,
    }


EVIDENCE_TEXT = (
    "The mayor allegedly approved the contract without a vote. "
    "Council member Ana Ruiz claimed the deal was signed in secret. "
    "The mayor's office denied any wrongdoing. "
    "Officials may have moved the funds before the audit. "
    "The audit is due in May, a spokesman said. "
    "It was reported that the contract was worth millions."
)
# P(hedged) per sentence of EVIDENCE_TEXT; sentences 0 and 3 reach HEDGE_THRESHOLD.
HEDGES = (0.91, 0.3, 0.05, 0.74, 0.12, 0.35)
HEDGE_THRESHOLD = 0.6


def span(text: str, phrase: str | None) -> dict[str, Any] | None:
    """``{text, start, end}`` of the first ``phrase`` in ``text`` (None for no phrase)."""
    if phrase is None:
        return None
    start = text.index(phrase)
    return {"text": phrase, "start": start, "end": start + len(phrase)}


def attribution(
    text: str,
    kind: str,
    sentence: int,
    source: str | None,
    said: str | None,
    content: str | None,
    party: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """An attribution record as DESIGN.md gives it; spans are found in ``text``."""
    return {
        "kind": kind,
        "sentence": sentence,
        "source": span(text, source),
        "cue": span(text, said),
        "content": span(text, content),
        "party": None if party is None else {"name": party[0], "kind": party[1]},
    }


def make_evidence_record(article_id: str = "e-1", **fields: Any) -> dict[str, Any]:
    """A record of the evidence model (v2) for EVIDENCE_TEXT: reasons, attributions,
    every evidence sentence with its hedge probability, and index-based pairs."""
    text = EVIDENCE_TEXT
    record = make_record(article_id, text=text, **fields)
    record["sentences"] = [
        {**sentence, "hedge": HEDGES[sentence["index"]]} for sentence in split_sentences(text)
    ]
    record["hedge_threshold"] = HEDGE_THRESHOLD
    record["refutation_score"] = 0.12
    record["flag_reasons"] = [
        {
            "feature": "pair_claim_denied_by_other_party",
            "weight": 1.2,
            "text": "claim by Ana Ruiz denied by The mayor's office",
        },
        {
            "feature": "hedged_share",
            "weight": 0.8,
            "text": "2 of 6 sentences hedged (in the headline or lede)",
        },
        {"feature": "attribution_report", "weight": None, "text": "reported secondhand"},
    ]
    record["attributions"] = [
        attribution(
            text,
            "claim",
            1,
            "Council member Ana Ruiz",
            "claimed",
            "the deal was signed in secret",
            ("Ana Ruiz", "person"),
        ),
        attribution(
            text,
            "denial",
            2,
            "The mayor's office",
            "denied",
            "any wrongdoing",
            ("The mayor's office", "organisation"),
        ),
        attribution(
            text,
            "statement",
            4,
            "a spokesman",
            "said",
            "The audit is due in May",
            ("spokesman", "anonymous"),
        ),
        attribution(text, "report", 5, None, "was reported", "the contract was worth millions"),
    ]
    record["contested_pairs"] = [
        {
            "claim_sentence": 1,
            "denial_sentence": 2,
            "claimant": "Ana Ruiz",
            "denier": "The mayor's office",
            "claim_cue": "claimed",
            "denial_cue": "denied",
            "shared_words": [],
        }
    ]
    return record

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

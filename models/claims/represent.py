"""The words that carry an article's claim: headline, lead and evidence sentences.

A news body wanders (background, quotes, related stories); what identifies the claim
is its headline, the lead sentence and the sentences with claim, report and denial
cues. Clustering whole bodies would join articles on shared topic words instead.
The output is a bag of weighted terms (word unigrams and bigrams, stop words out),
bounded in size whatever the input.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from itertools import pairwise

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from models.evidence.signals import extract_signals

# Only this much of a body is read: the claim is stated early, and the bound keeps
# the cost per article constant.
MAX_TEXT_CHARS = 20_000
LEAD_SENTENCES = 4  # the lead states the story; a headline in `text` is sentence 0
MAX_EVIDENCE_SENTENCES = 10  # cue-carrying sentences kept, in text order
MAX_TERMS = 200  # terms kept per article (highest weight first, ties by term)
# Categories whose sentences state or contest the claim (not the weasel/unverified
# boilerplate, which is the same in every story).
EVIDENCE_CATEGORIES = frozenset({"claim", "denial", "hedged_attribution", "dispute"})
# The headline weighs more than one body sentence: it names the claim.
TITLE_WEIGHT = 2.0

_TOKEN = re.compile(r"[a-z0-9]+")  # one character class, no backtracking
_STOP = frozenset(ENGLISH_STOP_WORDS) | {"said", "says", "reportedly", "allegedly", "claims"}

Terms = dict[str, float]


def claim_text_parts(
    text: str,
    title: str | None = None,
    lead: int = LEAD_SENTENCES,
    evidence_sentences: int = MAX_EVIDENCE_SENTENCES,
) -> list[tuple[str, float]]:
    """The pieces of an article that carry its claim, each with its weight."""
    body = text[:MAX_TEXT_CHARS]
    signals = extract_signals(body)
    starts = signals.starts
    parts: list[tuple[str, float]] = []
    if title:
        parts.append((title[:1000], TITLE_WEIGHT))
    chosen = list(range(min(lead, len(starts))))
    evidence = sorted(
        {cue.sentence for cue in signals.cues if cue.category in EVIDENCE_CATEGORIES} - set(chosen)
    )
    chosen += evidence[:evidence_sentences]
    for index in chosen:
        end = starts[index + 1] if index + 1 < len(starts) else len(body)
        parts.append((body[starts[index] : end], 1.0))
    return parts


def terms_of(text: str) -> Counter[str]:
    """Word unigrams and bigrams of ``text`` (lower case, stop words dropped)."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _STOP and len(w) > 1]
    counts: Counter[str] = Counter(words)
    counts.update(f"{a} {b}" for a, b in pairwise(words))
    return counts


def claim_terms(
    text: str,
    title: str | None = None,
    lead: int = LEAD_SENTENCES,
    evidence_sentences: int = MAX_EVIDENCE_SENTENCES,
) -> Terms:
    """An article's claim as an L2-normalised bag of terms (at most :data:`MAX_TERMS`).

    Term frequency is dampened (1 + log tf) so one repeated name does not dominate.
    ``lead`` and ``evidence_sentences`` exist for the comparison in
    :mod:`models.claims.evaluate`; the service uses the defaults.
    """
    weights: dict[str, float] = {}
    for part, weight in claim_text_parts(text, title, lead, evidence_sentences):
        for term, count in terms_of(part).items():
            weights[term] = weights.get(term, 0.0) + weight * count
    damped = {term: 1.0 + math.log(v) if v >= 1 else v for term, v in weights.items()}
    return normalised(top_terms(damped, MAX_TERMS))


def top_terms(weights: Terms, limit: int) -> Terms:
    """The ``limit`` heaviest terms; ties broken by the term, so the result is deterministic."""
    if len(weights) <= limit:
        return dict(weights)
    ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))
    return dict(ranked[:limit])


def normalised(weights: Terms) -> Terms:
    """``weights`` scaled to unit length (empty stays empty)."""
    norm = math.sqrt(sum(v * v for v in weights.values()))
    return {t: v / norm for t, v in weights.items()} if norm > 0 else {}

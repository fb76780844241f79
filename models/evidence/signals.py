"""Contested-claim signals of one article: cues, the sentences that carry them, and
claim ↔ denial pairs.

Pure Python, no I/O. :func:`extract_signals` runs in time linear in the text: two
compiled scans without backtracking (cues, sentence breaks) plus constant work per
cue, and the lists it returns are capped so that output stays bounded on any input.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

from models.evidence.headline import headline_cues, is_question
from models.evidence.lexicon import (
    CATEGORIES,
    CUE_PATTERN,
    CUE_PATTERN_LOWER,
    NEGATABLE,
    NEGATORS,
    WORD,
)
from models.evidence.pairs import ContestedPair, find_pairs
from models.evidence.spans import Cue, Sentence, sentence_span, sentence_starts

MAX_CUES = 200  # cues kept per article; counts still cover every match
MAX_PAIRS = 10
_NEGATION_WINDOW = 40  # characters before a cue searched for "not", "never", "n't"


@dataclass(slots=True)
class ArticleSignals:
    """Everything the extractor found in one article; ``counts`` covers all matches."""

    text: str
    cues: list[Cue]
    sentences: list[Sentence]
    pairs: list[ContestedPair]
    counts: dict[str, int]
    negated_counts: dict[str, int]
    n_sentences: int
    truncated: bool = False
    starts: list[int] = field(default_factory=list)  # sentence start offsets


def is_negated(text: str, sentence_start: int, cue_start: int) -> bool:
    """True if one of the three words before the cue (same sentence) negates it."""
    window = text[max(sentence_start, cue_start - _NEGATION_WINDOW) : cue_start]
    words = WORD.findall(window)[-3:]
    for word in words:
        lower = word.lower()
        if lower in NEGATORS or lower.endswith(("n't", "n\u2019t")):
            return True
    return False


def _cue_matches(text: str) -> Iterator[re.Match[str]]:
    """Cue matches; spans index ``text`` itself. Lower-case first when that keeps offsets."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return CUE_PATTERN_LOWER.finditer(lowered)
    return CUE_PATTERN.finditer(text)


def _add_headline_cues(
    text: str, starts: list[int], cues: list[Cue], counts: dict[str, int]
) -> None:
    """Insert the headline cues no lexicon cue overlaps into ``cues`` (kept in text
    order and within :data:`MAX_CUES`) and count them. A question is kept whatever lies
    inside it (:func:`~models.evidence.headline.is_question`)."""
    found = headline_cues(text, starts)
    if not found:
        return
    fresh = [
        cue for cue in found
        if is_question(cue)
        or not any(cue.start < other.end and other.start < cue.end for other in cues)
    ]
    for cue in fresh:
        counts[cue.category] += 1
    cues.extend(fresh)
    cues.sort(key=lambda cue: cue.start)
    del cues[MAX_CUES:]


def extract_signals(text: str, headline: bool = True) -> ArticleSignals:
    """Find every cue in ``text`` with its category, exact span and sentence index.

    Also returns the cue-carrying sentences and the claim ↔ denial pairs. Cue
    lists are capped at :data:`MAX_CUES`; ``counts`` still counts every match.
    ``headline``: also the headline-style cues of :mod:`models.evidence.headline`
    ("Report: …", "…: officials", "Macaulay Culkin dead?") where no lexicon cue is
    (the article model v1, the bench's fixed reference, is scored without them).
    """
    starts = sentence_starts(text)
    counts = dict.fromkeys(CATEGORIES, 0)
    negated_counts = dict.fromkeys(CATEGORIES, 0)
    cues: list[Cue] = []
    for match in _cue_matches(text):
        category = match.lastgroup or ""
        start = match.start()
        index = bisect_right(starts, start) - 1
        negated = category in NEGATABLE and is_negated(text, starts[index], start)
        if negated:
            negated_counts[category] += 1
        else:
            counts[category] += 1
        if len(cues) < MAX_CUES:
            end = match.end()
            cues.append(Cue(text[start:end], category, start, end, index, negated))
    if headline:
        _add_headline_cues(text, starts, cues, counts)
    truncated = sum(counts.values()) + sum(negated_counts.values()) > len(cues)
    carrying = sorted({cue.sentence for cue in cues})
    sentences = []
    for index in carrying:
        start, end = sentence_span(text, starts, index)
        sentences.append(Sentence(index, start, end, text[start:end]))
    pairs = find_pairs(text, cues, sentences, MAX_PAIRS)
    return ArticleSignals(
        text=text,
        cues=cues,
        sentences=sentences,
        pairs=pairs,
        counts=counts,
        negated_counts=negated_counts,
        n_sentences=len(starts),
        truncated=truncated,
        starts=starts,
    )

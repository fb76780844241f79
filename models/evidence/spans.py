"""The spans evidence is made of: sentences of an article and the cues in them.

Shared by the cue scan (:mod:`models.evidence.signals`), the claim ↔ denial pairs
(:mod:`models.evidence.pairs`) and the learned evidence models, so that every
offset and every sentence index means the same thing in each of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from models.evidence.lexicon import SENTENCE_BREAK


@dataclass(frozen=True, slots=True)
class Cue:
    """One cue: the matched text, its category, char span [start, end) and sentence index."""

    text: str
    category: str
    start: int
    end: int
    sentence: int
    negated: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "category": self.category,
            "start": self.start,
            "end": self.end,
            "sentence": self.sentence,
            "negated": self.negated,
        }


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of the article: index in the article and char span [start, end)."""

    index: int
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, object]:
        return {"index": self.index, "start": self.start, "end": self.end, "text": self.text}


def sentence_starts(text: str) -> list[int]:
    """Start offsets of the sentences of ``text`` (the first is always 0)."""
    ends = [0, *[match.end() for match in SENTENCE_BREAK.finditer(text)]]
    if len(ends) > 1 and ends[-1] >= len(text):  # ends increase: only the last can be the end
        ends.pop()
    return ends


def sentence_span(text: str, starts: list[int], index: int) -> tuple[int, int]:
    """The span of sentence ``index`` without its trailing whitespace."""
    start = starts[index]
    end = starts[index + 1] if index + 1 < len(starts) else len(text)
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def sentence_texts(text: str, starts: list[int], limit: int) -> list[str]:
    """The text of each of the first ``limit`` sentences, as :func:`sentence_span` cuts
    it (``str.rstrip`` strips exactly the characters ``str.isspace`` names), in one
    comprehension rather than a call per sentence."""
    bounds = starts[: limit + 1] if len(starts) > limit else [*starts, len(text)]
    return [text[start:end].rstrip() for start, end in pairwise(bounds)]

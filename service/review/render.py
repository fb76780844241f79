"""Cue highlighting shared by every view, and the terminal rendering of a review record.

Article text is untrusted. In a terminal that means control characters: an
escape sequence inside a title could rewrite the screen or the window title, so
every piece of article text passes through :func:`terminal_safe` before it is
printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from service.review.records import Cue, ReviewRecord, Sentence

# C0 and C1 controls except tab and newline, plus DEL.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

BOLD, REVERSE, DIM, RESET = "\x1b[1m", "\x1b[7m", "\x1b[2m", "\x1b[0m"


@dataclass(frozen=True)
class Segment:
    """A run of text, and the cue that covers it (None for plain text)."""

    text: str
    cue: Cue | None = None


def segments(text: str, cues: Iterable[Cue], offset: int = 0) -> list[Segment]:
    """Split ``text`` into plain and highlighted runs.

    ``offset`` is where ``text`` starts in the article, since cue offsets are
    article offsets: a sentence starting at 120 is highlighted with the same cues
    as the whole text. Cues outside the text or overlapping an earlier cue are
    left unhighlighted rather than trusted to produce broken output.
    """
    result: list[Segment] = []
    position = 0
    for cue in sorted(cues, key=lambda c: (c.start, -c.end)):
        start, end = cue.start - offset, cue.end - offset
        if start < position or end > len(text) or start >= end:
            continue
        if start > position:
            result.append(Segment(text[position:start]))
        result.append(Segment(text[start:end], cue))
        position = end
    if position < len(text) or not result:
        result.append(Segment(text[position:]))
    return result


def sentence_segments(sentence: Sentence, record: ReviewRecord) -> list[Segment]:
    """Highlight a sentence with the record's cues when its offsets are known."""
    if sentence.start is None:
        return [Segment(sentence.text)]
    return segments(sentence.text, record.signals, offset=sentence.start)


def terminal_safe(text: str) -> str:
    """Replace control characters (escape sequences, bells, carriage returns) with U+FFFD."""
    return _CONTROLS.sub("\ufffd", text)


def one_line(text: str) -> str:
    """Untrusted text made safe and folded onto one line."""
    return " ".join(terminal_safe(text).split())


def _flat(text: str) -> str:
    """Like one_line, but keeps the spaces at the ends (segments are joined back together)."""
    return terminal_safe(text.replace("\n", " ").replace("\t", " "))


def render_terminal(record: ReviewRecord, color: bool = True) -> str:
    """A review record as a human reads it in ``claimwatch review tail``."""

    def style(code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if color else text

    def highlight(parts: list[Segment]) -> str:
        out = []
        for part in parts:
            text = _flat(part.text)
            negated = ", negated" if part.cue and part.cue.negated else ""
            if part.cue is None:
                out.append(text)
            elif color:
                label = f"[{one_line(part.cue.category)}{negated}]"
                out.append(style(REVERSE, text) + style(DIM, label))
            else:
                out.append(f"[[{text}]]({one_line(part.cue.category)}{negated})")
        return "".join(out).strip()

    title = one_line(record.title) or "(untitled)"
    lines = [
        style(BOLD, title),
        f"  id {one_line(record.article_id)} · source {one_line(record.source) or '-'}"
        f" · score {record.score:.3f} · tier {one_line(record.tier) or '-'}"
        + (f" · model {one_line(record.model.version)}" if record.model.version else ""),
    ]
    if record.url:
        lines.append(f"  {one_line(record.url)}")
    sentences = record.sentences or _sentences_from_cues(record)
    if sentences:
        lines.append("  cues:")
        lines.extend(f"    - {highlight(sentence_segments(s, record))}" for s in sentences)
    if record.contested_pairs:
        lines.append("  claim ↔ denial:")
        for pair in record.contested_pairs:
            claimant = one_line(pair.claimant or "unnamed")
            denier = one_line(pair.denier or "unnamed")
            claim = highlight(sentence_segments(pair.claim, record))
            denial = highlight(sentence_segments(pair.denial, record))
            lines.append(f"    claim ({claimant}): {claim}")
            lines.append(f"    denial ({denier}): {denial}")
    return "\n".join(lines)


def _sentences_from_cues(record: ReviewRecord) -> list[Sentence]:
    """Without sentence data, show each cue with a little text around it."""
    found = []
    for cue in record.signals:
        start, end = max(0, cue.start - 60), min(len(record.text), cue.end + 60)
        if record.text and cue.end <= len(record.text):
            found.append(Sentence(text=record.text[start:end], start=start, end=end))
    return found

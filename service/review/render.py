"""What every view shows of a review record, and its terminal rendering.

Shared by the terminal and the web page: cue highlighting, which sentences are
listed (cue-carrying or hedged), the hedge label, a flag reason's detail and an
attribution's party.

Article text is untrusted. In a terminal that means control characters: an
escape sequence inside a title could rewrite the screen or the window title, so
every piece of article text passes through :func:`terminal_safe` before it is
printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from service.review.claims import ClaimLabel
from service.review.records import Attribution, Cue, FlagReason, ReviewRecord, Sentence, Span

# C0 and C1 controls except tab and newline, plus DEL.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
CONTENT_CHARS = 120  # an attribution's content on a terminal line; the web page shows it whole

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


def carries_cue(sentence: Sentence, cues: Iterable[Cue]) -> bool:
    """True if a cue lies in ``sentence`` (by sentence index, else by offsets).

    A sentence with neither index nor offsets comes from an older record, whose
    sentences were only ever the ones carrying cues, so it counts as carrying one.
    """
    if sentence.index is None and sentence.start is None:
        return True
    return any(_cue_in(cue, sentence) for cue in cues)


def _cue_in(cue: Cue, sentence: Sentence) -> bool:
    if sentence.index is not None and cue.sentence is not None:
        return cue.sentence == sentence.index
    if sentence.start is not None and sentence.end is not None:
        return sentence.start <= cue.start < sentence.end
    return False


def evidence_sentences(record: ReviewRecord) -> list[Sentence]:
    """The sentences the views list: those carrying a cue or hedged.

    A sentence the record carries only for an attribution is shown through that
    attribution (who → cue → what) instead.
    """
    return [s for s in record.sentences if record.is_hedged(s) or carries_cue(s, record.signals)]


def hedge_label(record: ReviewRecord, sentence: Sentence) -> str:
    """``hedged 0.83`` for a hedged sentence, empty for any other."""
    if not record.is_hedged(sentence) or sentence.hedge is None:
        return ""
    return f"hedged {sentence.hedge:.2f}"


def reason_detail(reason: FlagReason) -> str:
    """The feature behind a reason and its weight, e.g. ``hedged_share, weight 0.80``."""
    parts = [reason.feature] if reason.feature else []
    if reason.weight is not None:
        parts.append(f"weight {reason.weight:.2f}")
    return ", ".join(parts)


def party_note(attribution: Attribution) -> str:
    """The party behind a source: ``person: Ana Ruiz``, or only the kind when the party
    is the source text itself; empty when no party is known."""
    party = attribution.party
    if party is None:
        return ""
    source = attribution.source.text.strip() if attribution.source else ""
    if party.name == source:
        return party.kind
    return f"{party.kind}: {party.name}" if party.kind else party.name


def span_text(span: Span | None, missing: str) -> str:
    """The span's text, or ``missing`` (e.g. "(no source)") when there is none."""
    text = span.text.strip() if span is not None else ""
    return text or missing


def shorten(text: str, limit: int = CONTENT_CHARS) -> str:
    """``text`` in at most ``limit`` characters, cut at a word where one is near, ending
    in "…" when anything was cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if not text[limit - 1].isspace():  # the cut falls inside a word: end at the word before
        space = cut.rfind(" ")
        if space > limit // 2:
            cut = cut[:space]
    return cut.rstrip() + "…"


def render_terminal(
    record: ReviewRecord, color: bool = True, claim: ClaimLabel | None = None
) -> str:
    """A review record as a human reads it in ``claimwatch review tail``.

    Sections, each only when the record has something for it: the header (with
    the record's claim cluster when ``claim`` is given), why it was flagged, the
    sentences (cues highlighted, hedged ones marked), the attributions as
    ``who → cue → what``, and the claim ↔ denial pairs.
    """
    return "\n".join(
        [
            *_header_lines(record, color),
            *([claim_line(claim)] if claim else []),
            *_reason_lines(record, color),
            *_sentence_lines(record, color),
            *_attribution_lines(record, color),
            *_pair_lines(record, color),
        ]
    )


def claim_line(claim: ClaimLabel) -> str:
    """``  claim claim-… · new``, or its number in the cluster, sources and first headline."""
    if claim.position == 1:
        return f"  claim {claim.cluster_id} · new"
    sources = "source" if claim.sources == 1 else "sources"
    return (
        f"  claim {claim.cluster_id} · article {claim.position} · {claim.sources} {sources}"
        f" · first: {one_line(claim.headline)}"
    )


def claim_header(claim: ClaimLabel, articles: int, color: bool) -> str:
    """The line over one claim's records in ``review tail --group``."""
    sources = "source" if claim.sources == 1 else "sources"
    title = one_line(claim.headline) or "(untitled)"
    noun = "article" if articles == 1 else "articles"
    text = f"== claim {claim.cluster_id}: {articles} {noun}, {claim.sources} {sources} · {title}"
    return _style(BOLD, text, color)


def _style(code: str, text: str, color: bool) -> str:
    return f"{code}{text}{RESET}" if color else text


def _highlight(parts: list[Segment], color: bool) -> str:
    """Segments on one line, cues in reverse video (or ``[[cue]](category)`` without colour)."""
    out = []
    for part in parts:
        text = _flat(part.text)
        negated = ", negated" if part.cue and part.cue.negated else ""
        if part.cue is None:
            out.append(text)
        elif color:
            label = f"[{one_line(part.cue.category)}{negated}]"
            out.append(_style(REVERSE, text, color) + _style(DIM, label, color))
        else:
            out.append(f"[[{text}]]({one_line(part.cue.category)}{negated})")
    return "".join(out).strip()


def _header_lines(record: ReviewRecord, color: bool) -> list[str]:
    title = one_line(record.title) or "(untitled)"
    facts = (
        f"  id {one_line(record.article_id)} · source {one_line(record.source) or '-'}"
        f" · score {record.score:.3f} · tier {one_line(record.tier) or '-'}"
    )
    if record.refutation_score is not None:
        facts += f" · refutation {record.refutation_score:.3f}"
    if record.model.version:
        facts += f" · model {one_line(record.model.version)}"
    lines = [_style(BOLD, title, color), facts]
    if record.url:
        lines.append(f"  {one_line(record.url)}")
    return lines


def _reason_lines(record: ReviewRecord, color: bool) -> list[str]:
    if not record.flag_reasons:
        return []
    lines = ["  why:"]
    for reason in record.flag_reasons:
        detail = one_line(reason_detail(reason))
        suffix = " " + _style(DIM, f"[{detail}]", color) if detail else ""
        lines.append(f"    - {one_line(reason.text)}{suffix}")
    return lines


def _sentence_lines(record: ReviewRecord, color: bool) -> list[str]:
    sentences = evidence_sentences(record) or _sentences_from_cues(record)
    if not sentences:
        return []
    if record.hedge_threshold is not None:
        lines = [f"  sentences (hedged: hedge probability ≥ {record.hedge_threshold:.2f}):"]
    else:
        lines = ["  sentences:"]
    for sentence in sentences:
        label = hedge_label(record, sentence)
        marker = _style(BOLD, f"[{label}]", color) + " " if label else ""
        lines.append(f"    - {marker}{_highlight(sentence_segments(sentence, record), color)}")
    return lines


def _attribution_lines(record: ReviewRecord, color: bool) -> list[str]:
    if not record.attributions:
        return []
    lines = ["  attributions:"]
    for attribution in record.attributions:
        who = one_line(span_text(attribution.source, "(no source)"))
        note = one_line(party_note(attribution))
        if note:
            who += f" ({note})"
        cue = one_line(span_text(attribution.cue, "(no cue)"))
        what = shorten(one_line(span_text(attribution.content, "(no content)")))
        kind = _style(DIM, f"[{one_line(attribution.kind)}]", color)
        lines.append(f"    - {kind} {who} → {cue} → {what}")
    return lines


def _pair_lines(record: ReviewRecord, color: bool) -> list[str]:
    if not record.contested_pairs:
        return []
    lines = ["  claim ↔ denial:"]
    for pair in record.contested_pairs:
        claimant = one_line(pair.claimant or "unnamed")
        denier = one_line(pair.denier or "unnamed")
        claim = _highlight(sentence_segments(pair.claim, record), color)
        denial = _highlight(sentence_segments(pair.denial, record), color)
        lines.append(f"    claim ({claimant}): {claim}")
        lines.append(f"    denial ({denier}): {denial}")
    return lines


def _sentences_from_cues(record: ReviewRecord) -> list[Sentence]:
    """Without sentence data, show each cue with a little text around it."""
    found = []
    for cue in record.signals:
        start, end = max(0, cue.start - 60), min(len(record.text), cue.end + 60)
        if record.text and cue.end <= len(record.text):
            found.append(Sentence(text=record.text[start:end], start=start, end=end))
    return found

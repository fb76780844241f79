"""HTML pages of the review app, built from escaped pieces: the article page and the parts
the cluster pages (:mod:`service.review.cluster_pages`) share.

Article text, titles, sources, URLs, reviewer notes and ids are all untrusted:
every one goes through :func:`e` (``html.escape`` with quotes) or
:func:`article_href` before it reaches the page, and the app's
Content-Security-Policy forbids scripts altogether as a second line of defence.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from urllib.parse import quote, urlsplit

from service.review.records import (
    VERDICTS,
    Attribution,
    FlagReason,
    ReviewRecord,
    Sentence,
    Span,
)
from service.review.render import (
    Segment,
    evidence_sentences,
    hedge_label,
    party_note,
    reason_detail,
    segments,
    sentence_segments,
    span_text,
)
from service.review.store import QueueItem

VERDICT_LABELS = {"contested": "Contested", "not_contested": "Not contested", "unsure": "Unsure"}


def e(value: object) -> str:
    """Escape any value for HTML text and attribute positions."""
    return escape(str(value), quote=True)


def article_href(article_id: str, action: str = "") -> str:
    path = "/articles/" + quote(article_id, safe="")
    return e(path + (f"/{action}" if action else ""))


def page(title: str, reviewer: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} · claimwatch review</title>"
        '<link rel=stylesheet href="/static/review.css"></head><body>'
        '<header><a class=brand href="/">claimwatch review</a>'
        f"<span class=who>signed in as <b data-testid=reviewer>{e(reviewer)}</b></span></header>"
        f"<main>{body}</main></body></html>"
    )


def highlighted(parts: Sequence[Segment]) -> str:
    """Segments as HTML, each cue a ``<mark>`` naming its category."""
    out = []
    for part in parts:
        if part.cue is None:
            out.append(e(part.text))
        else:
            category = part.cue.category
            negated = " cue-negated" if part.cue.negated else ""
            title = f"{category} (negated)" if part.cue.negated else category
            out.append(
                f'<mark class="cue cue-{e(slug(category))}{negated}" title="{e(title)}"'
                f' data-category="{e(category)}">{e(part.text)}</mark>'
            )
    return "".join(out)


def select(name: str, everything: str, options: Sequence[str], chosen: str | None) -> str:
    items = [f'<option value="">{e(everything)}</option>']
    for option in options:
        selected = " selected" if option == chosen else ""
        items.append(f'<option value="{e(option)}"{selected}>{e(option)}</option>')
    return f'<label>{e(name)} <select name="{e(name)}">{"".join(items)}</select></label>'


def article_page(
    item: QueueItem,
    reviewer: str,
    csrf: str,
    notice: str | None = None,
    cluster: tuple[str, int] | None = None,
) -> str:
    """An article with its evidence; ``cluster`` (id, size) links to its claim cluster."""
    record = item.record
    body = (
        (f"<p class=notice role=status>{e(notice)}</p>" if notice else "")
        + f"<h1 data-testid=title>{e(record.title or '(untitled)')}</h1>"
        + _facts(record, cluster)
        + reasons_section(record)
        + _review_panel(item, reviewer, csrf)
        + _text_section(record)
        + sentences_section(record)
        + _attributions_section(record)
        + _pairs_section(record)
    )
    return page(record.title or record.article_id, reviewer, body)


def cluster_href(cluster_id: str, action: str = "") -> str:
    path = "/clusters/" + quote(cluster_id, safe="")
    return e(path + (f"/{action}" if action else ""))


def _facts(record: ReviewRecord, cluster: tuple[str, int] | None = None) -> str:
    url = record.url
    if url and urlsplit(url).scheme in ("http", "https"):
        link = f'<a href="{e(url)}" rel="noopener noreferrer nofollow">{e(url)}</a>'
    else:
        link = e(url or "-")
    threshold = f"{record.threshold:.3f}" if record.threshold is not None else "-"
    model = " ".join(p for p in (record.model.name, record.model.version) if p) or "-"
    facts = [
        ("Article id", e(record.article_id)),
        ("Source", e(record.source or "-")),
        ("URL", link),
        ("Score", f"<span data-testid=score>{record.score:.3f}</span> (threshold {threshold})"),
        ("Tier", f'<span class="tier tier-{e(slug(record.tier))}">{e(record.tier or "-")}</span>'),
        ("Model", e(model)),
    ]
    if record.refutation_score is not None:
        facts.append(("Refutation score", f"{record.refutation_score:.3f}"))
    if cluster is not None:
        cluster_id, size = cluster
        articles = "article" if size == 1 else "articles"
        link = f'<a data-testid=cluster href="{cluster_href(cluster_id)}">{e(cluster_id)}</a>'
        facts.append(("Claim cluster", f"{link} ({size} {articles})"))
    return "<dl class=facts>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"


def _review_panel(item: QueueItem, reviewer: str, csrf: str) -> str:
    record, now = item.record, time.time()
    hidden = f'<input type=hidden name=csrf_token value="{e(csrf)}">'
    if item.status != "queued":
        return "<section class=review><p>This item has been decided.</p></section>"
    other = item.locked_by_other(reviewer, now)
    if other:
        until = clock_time(other.expires)
        return (
            f"<section class=review><p>In review by <b>{e(other.reviewer)}</b>"
            f" until {e(until)}.</p></section>"
        )
    mine = item.lock and item.lock.reviewer == reviewer and item.lock.expires > now
    if not mine:
        return (
            "<section class=review><p>Nobody is reviewing this item.</p>"
            f'<form method=post action="{article_href(record.article_id, "claim")}">{hidden}'
            "<button type=submit>Claim for review</button></form></section>"
        )
    assert item.lock is not None
    buttons = "".join(
        f'<button type=submit name=verdict value="{v}" class="verdict verdict-{v}">'
        f"{VERDICT_LABELS[v]}</button>"
        for v in VERDICTS
    )
    verdict_action = article_href(record.article_id, "verdict")
    return (
        f"<section class=review><p>Claimed by you until {e(clock_time(item.lock.expires))}.</p>"
        f'<form class=verdict-form method=post action="{verdict_action}">'
        f"{hidden}<label>Note (optional)<textarea name=note maxlength=2000 rows=2></textarea>"
        f"</label><div class=buttons>{buttons}</div></form>"
        f'<form method=post action="{article_href(record.article_id, "release")}">{hidden}'
        "<button type=submit class=release>Release</button></form></section>"
    )


def _text_section(record: ReviewRecord) -> str:
    if not record.text:
        return ""
    text = highlighted(segments(record.text, record.signals))
    return f"<section><h2>Text</h2><div class=article-text data-testid=text>{text}</div></section>"


def reasons_section(record: ReviewRecord) -> str:
    """The features that raised the score most, in words, most important first."""
    if not record.flag_reasons:
        return ""
    items = "".join(_reason_item(reason) for reason in record.flag_reasons)
    return f"<section data-testid=why><h2>Why flagged</h2><ol class=reasons>{items}</ol></section>"


def _reason_item(reason: FlagReason) -> str:
    detail = reason_detail(reason)
    small = f" <small class=reason-detail>({e(detail)})</small>" if detail else ""
    return f"<li><span class=reason-text>{e(reason.text)}</span>{small}</li>"


def sentences_section(record: ReviewRecord) -> str:
    """Sentences that carry a cue or are hedged; a hedged one shows its hedge probability."""
    sentences = evidence_sentences(record)
    if not sentences:
        return ""
    items = "".join(_sentence_item(record, s) for s in sentences)
    note = ""
    if record.hedge_threshold is not None:
        note = f" <small>(hedged: hedge probability ≥ {record.hedge_threshold:.2f})</small>"
    return (
        f"<section data-testid=sentences><h2>Sentences{note}</h2>"
        f"<ol class=sentences>{items}</ol></section>"
    )


def _sentence_item(record: ReviewRecord, sentence: Sentence) -> str:
    text = highlighted(sentence_segments(sentence, record))
    label = hedge_label(record, sentence)
    if not label:
        return f"<li>{text}</li>"
    return (
        f'<li class=hedged data-hedge="{e(sentence.hedge)}">'
        f"<span class=hedge>{e(label)}</span> {text}</li>"
    )


def _attributions_section(record: ReviewRecord) -> str:
    """Who said what, one line each: kind, then source → cue → content."""
    if not record.attributions:
        return ""
    items = "".join(_attribution_item(a) for a in record.attributions)
    return (
        "<section data-testid=attributions><h2>Attributions <small>(who → cue → what)</small>"
        f"</h2><ol class=attributions>{items}</ol></section>"
    )


def _attribution_item(attribution: Attribution) -> str:
    kind = attribution.kind
    note = party_note(attribution)
    party = f" <small class=party>({e(note)})</small>" if note else ""
    sentence = "" if attribution.sentence is None else f' data-sentence="{attribution.sentence}"'
    return (
        f'<li data-kind="{e(kind)}"{sentence}><span class="kind kind-{e(slug(kind))}">{e(kind)}'
        f"</span> <span class=who>{_part(attribution.source, '(no source)')}</span>{party}"
        f" → <span class=said>{_part(attribution.cue, '(no cue)')}</span>"
        f" → <span class=what>{_part(attribution.content, '(no content)')}</span></li>"
    )


def _part(span: Span | None, missing: str) -> str:
    text = span_text(span, missing)
    return f"<span class=missing>{e(text)}</span>" if text == missing else e(text)


def _pairs_section(record: ReviewRecord) -> str:
    if not record.contested_pairs:
        return ""
    rows = "".join(
        "<tr>"
        f"<td>{highlighted(sentence_segments(p.claim, record))}</td><td>{e(p.claimant or '-')}</td>"
        f"<td>{highlighted(sentence_segments(p.denial, record))}</td><td>{e(p.denier or '-')}</td>"
        "</tr>"
        for p in record.contested_pairs
    )
    return (
        "<section><h2>Claim ↔ denial</h2><table class=pairs><thead><tr><th>Claim</th>"
        "<th>Claimant</th><th>Denial</th><th>Denier</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def error_page(status: int, message: str, reviewer: str = "") -> str:
    body = (
        f'<h1>{status}</h1><p class=error>{e(message)}</p><p><a href="/">Back to the queue</a></p>'
    )
    return page(str(status), reviewer or "-", body)


def clock_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S UTC")


def slug(value: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in value.lower())[:40] or "none"


STYLESHEET = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{display:flex;justify-content:space-between;padding:.6em 1.2em;background:#1f2d3d;color:#fff}
header a{color:#fff;text-decoration:none;font-weight:600}
main{max-width:70em;margin:1em auto;padding:0 1.2em}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{padding:.4em .6em;border-bottom:1px solid #dde1e6;text-align:left;vertical-align:top}
.tier{padding:.1em .5em;border-radius:.8em;background:#e3e6ea;font-size:.85em}
.tier-high{background:#ffd7d5;color:#8a1c12}.tier-medium{background:#ffedc2;color:#6b4b00}
mark.cue{background:#fff2a8;border-bottom:2px solid #e0b400;padding:0 .1em}
mark.cue-denial{background:#ffd9e0;border-color:#d0315a}
mark.cue-claim{background:#d9ecff;border-color:#2b6cb0}
mark.cue-negated{border-bottom-style:dashed;text-decoration:line-through}
.article-text{white-space:pre-wrap;background:#fff;padding:1em;border:1px solid #dde1e6}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}
.facts dt{color:#57606a}.facts dd{margin:0;overflow-wrap:anywhere}
.review{background:#fff;border:1px solid #c8d1dc;padding:.8em;margin:1em 0}
.review textarea{display:block;width:100%;margin:.3em 0}.review form{margin:.4em 0}
.buttons button,.queue button{margin-right:.5em;padding:.35em .9em}
.notice{background:#e3f4e1;border:1px solid #9bcf94;padding:.5em}
.filters{margin:.5em 0 1em}.filters label{margin-right:1em}.empty{color:#57606a}
.reasons li,.attributions li,.sentences li{margin:.25em 0}
.reason-detail,.party,h2 small{color:#57606a;font-weight:normal}
.hedge,.kind{font-size:.8em;padding:0 .45em;border-radius:.7em;margin-right:.3em}
.hedge{background:#efe3ff;color:#4b2a85}.kind{background:#e3e6ea}
.kind-claim{background:#d9ecff}.kind-denial{background:#ffd9e0}.kind-report{background:#fff2a8}
.attributions .who{font-weight:600}.missing{color:#8c959f;font-style:italic}
.members{padding:0}.member{list-style:none;background:#fff;border:1px solid #dde1e6;
padding:.4em .9em;margin:.6em 0}.member h3{margin:.2em 0}.member-facts{color:#57606a}
"""

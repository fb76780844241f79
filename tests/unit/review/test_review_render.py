"""Highlighting spans, terminal safety, and HTML escaping of untrusted article text."""

from __future__ import annotations

from html.parser import HTMLParser

from review_factory import XSS_TEXT, XSS_TITLE, make_evidence_record, make_record, span

from service.review import cluster_pages, pages
from service.review.claims import StreamClaims
from service.review.cluster_queue import ClusterSummary, Member
from service.review.records import Cue, read_review_record
from service.review.render import (
    BOLD,
    DIM,
    RESET,
    Segment,
    claim_header,
    render_terminal,
    segments,
    shorten,
    terminal_safe,
)
from service.review.store import Lock, QueueItem


def test_segments_cover_the_text_exactly_once() -> None:
    text = "He allegedly said it, critics say."
    cues = [Cue("critics say", "weasel", 22, 33), Cue("allegedly", "hedged", 3, 12)]
    parts = segments(text, cues)
    assert "".join(p.text for p in parts) == text
    assert [(p.text, p.cue.category if p.cue else None) for p in parts] == [
        ("He ", None),
        ("allegedly", "hedged"),
        (" said it, ", None),
        ("critics say", "weasel"),
        (".", None),
    ]


def test_segments_ignore_cues_that_do_not_fit() -> None:
    text = "short text"
    cues = [Cue("x", "a", 0, 5), Cue("y", "b", 3, 8), Cue("z", "c", 8, 99), Cue("e", "d", 4, 4)]
    assert segments(text, cues) == [Segment("short", cues[0]), Segment(" text")]


def test_sentence_offsets_map_article_cues_into_the_sentence() -> None:
    record = read_review_record(make_record())
    html = pages.article_page(QueueItem(record, "queued", None), "alice", "tok")
    assert html.count('<mark class="cue') == 3 * 2 + 2  # text, sentences, claim+denial in pair
    assert '<mark class="cue cue-claim" title="claim" data-category="claim">claimed</mark>' in html


def test_terminal_output_marks_cues_and_strips_control_characters() -> None:
    raw = make_record(title="Bad \x1b]0;owned\x07 title\r")
    out = render_terminal(read_review_record(raw), color=False)
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out
    assert out.splitlines()[0] == "Bad \ufffd]0;owned\ufffd title\ufffd"
    assert "The mayor [[allegedly]](hedged_attribution) approved the contract" in out
    assert "claim (Ana Ruiz): Council member Ana Ruiz [[claimed]](claim) the deal" in out
    assert "denial (The mayor's office): The mayor's office [[denied]](denial) any" in out
    assert "score 0.910 · tier high" in out
    assert terminal_safe("a\tb\nc\x9bd") == "a\tb\nc\ufffdd"


def test_terminal_shows_reasons_hedged_sentences_and_attributions() -> None:
    out = render_terminal(read_review_record(make_evidence_record()), color=False)
    assert out.splitlines() == [
        "Mayor approved contract, council says",
        "  id e-1 · source daily-planet · score 0.910 · tier high · refutation 0.120"
        " · model 2025.1",
        "  https://example.org/e-1",
        "  why:",
        "    - claim by Ana Ruiz denied by The mayor's office"
        " [pair_claim_denied_by_other_party, weight 1.20]",
        "    - 2 of 6 sentences hedged (in the headline or lede) [hedged_share, weight 0.80]",
        "    - reported secondhand [attribution_report]",
        "  sentences (hedged: hedge probability ≥ 0.60):",
        "    - [hedged 0.91] The mayor [[allegedly]](hedged_attribution) approved the contract"
        " without a vote.",
        "    - Council member Ana Ruiz [[claimed]](claim) the deal was signed in secret.",
        "    - The mayor's office [[denied]](denial) any wrongdoing.",
        "    - [hedged 0.74] Officials may have moved the funds before the audit.",
        "  attributions:",
        "    - [claim] Council member Ana Ruiz (person: Ana Ruiz) → claimed"
        " → the deal was signed in secret",
        "    - [denial] The mayor's office (organisation) → denied → any wrongdoing",
        "    - [statement] a spokesman (anonymous: spokesman) → said → The audit is due in May",
        "    - [report] (no source) → was reported → the contract was worth millions",
        "  claim ↔ denial:",
        "    claim (Ana Ruiz): Council member Ana Ruiz [[claimed]](claim) the deal was signed"
        " in secret.",
        "    denial (The mayor's office): The mayor's office [[denied]](denial) any wrongdoing.",
    ]


def test_terminal_shows_an_older_record_without_evidence_sections() -> None:
    raw = make_record()
    raw["denial_score"] = 0.3
    out = render_terminal(read_review_record(raw), color=False)
    assert out.splitlines() == [
        "Mayor approved contract, council says",
        "  id a-1 · source daily-planet · score 0.910 · tier high · model 2025.1",
        "  https://example.org/a-1",
        "  sentences:",
        "    - The mayor [[allegedly]](hedged_attribution) approved the contract without a vote.",
        "    - Council member Ana Ruiz [[claimed]](claim) the deal was signed in secret.",
        "    - The mayor's office [[denied]](denial) any wrongdoing.",
        "  claim ↔ denial:",
        "    claim (Ana Ruiz): Council member Ana Ruiz [[claimed]](claim) the deal was signed"
        " in secret.",
        "    denial (The mayor's office): The mayor's office [[denied]](denial) any wrongdoing.",
    ]


def test_terminal_colour_marks_hedges_kinds_and_reason_details() -> None:
    out = render_terminal(read_review_record(make_evidence_record()), color=True)
    assert f"    - {BOLD}[hedged 0.74]{RESET} Officials may have moved" in out
    assert f"    - {DIM}[report]{RESET} (no source) → was reported →" in out
    assert f"reported secondhand {DIM}[attribution_report]{RESET}" in out


def test_attribution_content_is_cut_to_one_terminal_line() -> None:
    words = " ".join(f"w{i:02d}" for i in range(60))  # 4 characters a word with its space
    assert shorten(words) == " ".join(f"w{i:02d}" for i in range(30)) + "…"
    assert shorten("x" + words) == "x" + " ".join(f"w{i:02d}" for i in range(29)) + "…"
    assert shorten("a" * 200) == "a" * 119 + "…"
    assert shorten("a" * 120) == "a" * 120
    raw = make_evidence_record()
    raw["text"] += " " + words
    raw["attributions"][0]["content"] = span(raw["text"], words)
    record = read_review_record(raw)
    line = render_terminal(record, color=False).splitlines()[13]
    cut = " ".join(f"w{i:02d}" for i in range(30)) + "…"
    assert line == f"    - [claim] Council member Ana Ruiz (person: Ana Ruiz) → claimed → {cut}"
    html = pages.article_page(QueueItem(record, "queued", None), "alice", "tok")
    assert f"<span class=what>{words}</span>" in html  # the page shows it whole


def test_terminal_evidence_is_made_safe() -> None:
    raw = make_evidence_record()
    raw["flag_reasons"][0]["text"] = "claim by \x1b]0;owned\x07 X"
    raw["attributions"][0]["source"]["text"] = "Ana\x1b[2J\nRuiz"
    out = render_terminal(read_review_record(raw), color=False)
    assert "\x1b" not in out and "\x07" not in out
    assert "    - claim by \ufffd]0;owned\ufffd X [pair_claim_denied_by_other_party" in out
    assert "    - [claim] Ana\ufffd[2J Ruiz (person: Ana Ruiz) → claimed →" in out


class ListItems(HTMLParser):
    """The text a reader sees in each ``<li>`` of the section with ``data-testid=testid``."""

    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid = testid
        self.depth = 0  # open sections, counted from the one we want
        self.items: list[str] = []
        self.classes: list[str | None] = []
        self._item: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section" and (self.depth or found.get("data-testid") == self.testid):
            self.depth += 1
        elif tag == "li" and self.depth:
            self._item = []
            self.classes.append(found.get("class"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self.depth:
            self.depth -= 1
        elif tag == "li" and self._item is not None:
            self.items.append(" ".join("".join(self._item).split()))
            self._item = None

    def handle_data(self, data: str) -> None:
        if self._item is not None:
            self._item.append(data)


def items_of(html: str, testid: str) -> ListItems:
    parser = ListItems(testid)
    parser.feed(html)
    return parser


def test_article_page_shows_why_hedged_sentences_and_attributions() -> None:
    record = read_review_record(make_evidence_record())
    html = pages.article_page(QueueItem(record, "queued", None), "alice", "tok")
    assert items_of(html, "why").items == [
        "claim by Ana Ruiz denied by The mayor's office"
        " (pair_claim_denied_by_other_party, weight 1.20)",
        "2 of 6 sentences hedged (in the headline or lede) (hedged_share, weight 0.80)",
        "reported secondhand (attribution_report)",
    ]
    sentences = items_of(html, "sentences")
    assert sentences.items == [
        "hedged 0.91 The mayor allegedly approved the contract without a vote.",
        "Council member Ana Ruiz claimed the deal was signed in secret.",
        "The mayor's office denied any wrongdoing.",
        "hedged 0.74 Officials may have moved the funds before the audit.",
    ]
    assert sentences.classes == ["hedged", None, None, "hedged"]
    assert "<h2>Sentences <small>(hedged: hedge probability ≥ 0.60)</small></h2>" in html
    assert items_of(html, "attributions").items == [
        "claim Council member Ana Ruiz (person: Ana Ruiz) → claimed"
        " → the deal was signed in secret",
        "denial The mayor's office (organisation) → denied → any wrongdoing",
        "statement a spokesman (anonymous: spokesman) → said → The audit is due in May",
        "report (no source) → was reported → the contract was worth millions",
    ]
    assert '<li data-kind="report" data-sentence="5"><span class="kind kind-report">' in html
    assert "<dt>Refutation score</dt><dd>0.120</dd>" in html


def test_article_page_of_an_older_record_has_no_evidence_sections() -> None:
    record = read_review_record(make_record())
    html = pages.article_page(QueueItem(record, "queued", None), "alice", "tok")
    assert items_of(html, "why").items == []
    assert items_of(html, "attributions").items == []
    assert "Why flagged" not in html and "Attributions" not in html
    assert "Refutation score" not in html
    sentences = items_of(html, "sentences")
    assert sentences.items == [
        "The mayor allegedly approved the contract without a vote.",
        "Council member Ana Ruiz claimed the deal was signed in secret.",
        "The mayor's office denied any wrongdoing.",
    ]
    assert sentences.classes == [None, None, None]
    assert "<h2>Sentences</h2>" in html


ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "link",
    "body",
    "header",
    "main",
    "a",
    "span",
    "b",
    "h1",
    "h2",
    "h3",
    "dl",
    "dt",
    "dd",
    "section",
    "p",
    "div",
    "mark",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "form",
    "input",
    "button",
    "label",
    "select",
    "option",
    "small",
    "textarea",
}


class Tags(HTMLParser):
    """Collects the tags and attribute names a browser would see."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.attributes.update(name for name, _ in attrs)


def test_every_page_escapes_untrusted_text() -> None:
    raw = make_record(
        '<script>alert("id")</script>',
        title=XSS_TITLE,
        text=XSS_TEXT,
        source="<b>src</b>",
        cues=[("allegedly", "<i>cat</i>"), ("denied", "denial")],
    )
    raw["url"] = "javascript:alert(1)"
    raw["flag_reasons"] = [{"feature": "<b>f</b>", "weight": 1, "text": XSS_TITLE}]
    raw["attributions"] = [
        {
            "kind": '"><script>k</script>',
            "sentence": 0,
            "source": {"text": "<img src=x onerror=alert(1)>", "start": 0, "end": 9},
            "cue": {"text": "<script>cue</script>", "start": 0, "end": 9},
            "content": {"text": "<svg onload=1>", "start": 0, "end": 9},
            "party": {"name": "<b>p</b>", "kind": "<i>k</i>"},
        }
    ]
    raw["contested_pairs"] = [
        {
            "claim": {"text": "<script>c</script>"},
            "denial": 0,
            "claimant": "<script>x</script>",
            "denier": '"><svg onload=1>',
        }
    ]
    record = read_review_record(raw)
    item = QueueItem(record, "queued", Lock("<script>bob</script>", 4e9))
    cluster = ClusterSummary(
        '"><script>c</script>', XSS_TITLE, record.article_id, 2, 1, 1, 0.0, 60.0, "<b>t</b>", 0.9
    )
    mine = QueueItem(record, "queued", Lock("alice", 4e9))
    rendered = [
        pages.article_page(item, "alice", "tok", cluster=('"><script>c</script>', 2)),
        cluster_pages.queue_page(
            [cluster], "alice", "tok", ["<b>src</b>"], ["high"], "<b>src</b>", None
        ),
        cluster_pages.cluster_page(
            cluster, [Member(item, 0.5, 0.0, "<script>from</script>")], "alice", "tok"
        ),
        cluster_pages.cluster_page(cluster, [Member(mine, 0.5, 0.0, None)] * 2, "alice", "tok"),
        pages.error_page(404, XSS_TITLE, "alice"),
    ]
    assert "moved out of &lt;script&gt;from&lt;/script&gt; by a reviewer" in rendered[2]
    assert "&quot;&gt;&lt;script&gt;c&lt;/script&gt;" in rendered[1]
    for html in rendered:
        tags = Tags()
        tags.feed(html)
        assert tags.names <= ALLOWED_TAGS, tags.names - ALLOWED_TAGS
        assert not [a for a in tags.attributes if a.startswith("on")]
    article = rendered[0]
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in article
    assert "&lt;script&gt;window.__pwned = 3&lt;/script&gt;" in article
    assert 'href="javascript' not in article
    assert "<span class=reason-text>&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in article
    assert "(&lt;b&gt;f&lt;/b&gt;, weight 1.00)" in article
    assert '<li data-kind="&quot;&gt;&lt;script&gt;k&lt;/script&gt;" data-sentence="0">' in article
    assert "<span class=who>&lt;img src=x onerror=alert(1)&gt;</span>" in article
    assert "<small class=party>(&lt;i&gt;k&lt;/i&gt;: &lt;b&gt;p&lt;/b&gt;)</small>" in article
    assert "<span class=said>&lt;script&gt;cue&lt;/script&gt;</span>" in article
    assert "<span class=what>&lt;svg onload=1&gt;</span>" in article
    assert "%3Cscript%3E" in rendered[1]  # the id inside links is URL-quoted as well


def test_the_terminal_names_each_item_s_claim_cluster() -> None:
    claims = StreamClaims()
    first = read_review_record(make_record("a-1", title="Mayor \x1b[2Jdeal", source="gazette"))
    again = read_review_record(make_record("a-2", title="Mayor deal, again", source="wire"))
    other = read_review_record(
        make_record(
            "b-1", title="Dam cracked", text="Residents reportedly saw the dam crack.", cues=[]
        )
    )
    labels = [claims.place(r, now=float(n)) for n, r in enumerate([first, again, other])]
    assert labels[0].cluster_id == labels[1].cluster_id != labels[2].cluster_id
    lines = render_terminal(again, color=False, claim=labels[1]).splitlines()
    assert lines[3] == (  # after the title, the facts and the URL
        f"  claim {labels[0].cluster_id} · article 2 · 2 sources · first: Mayor \ufffd[2Jdeal"
    )
    assert f"  claim {labels[2].cluster_id} · new" in render_terminal(other, claim=labels[2])
    assert claim_header(labels[1], 2, color=False) == (
        f"== claim {labels[0].cluster_id}: 2 articles, 2 sources · Mayor \ufffd[2Jdeal"
    )
    plain = render_terminal(first, color=False).splitlines()
    assert not [line for line in plain if line.startswith("  claim claim-")]

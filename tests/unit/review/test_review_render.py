"""Highlighting spans, terminal safety, and HTML escaping of untrusted article text."""

from __future__ import annotations

from html.parser import HTMLParser

from review_factory import XSS_TEXT, XSS_TITLE, make_record

from service.review import pages
from service.review.records import Cue, read_review_record
from service.review.render import Segment, render_terminal, segments, terminal_safe
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
    rendered = [
        pages.article_page(item, "alice", "tok"),
        pages.queue_page([item], "alice", "tok", ["<b>src</b>"], ["high"], "<b>src</b>", None),
        pages.error_page(404, XSS_TITLE, "alice"),
    ]
    for html in rendered:
        tags = Tags()
        tags.feed(html)
        assert tags.names <= ALLOWED_TAGS, tags.names - ALLOWED_TAGS
        assert not [a for a in tags.attributes if a.startswith("on")]
    article = rendered[0]
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in article
    assert "&lt;script&gt;window.__pwned = 3&lt;/script&gt;" in article
    assert 'href="javascript' not in article
    assert "%3Cscript%3E" in rendered[1]  # the id inside links is URL-quoted as well

"""The rules of stages 4 and 5 on their own: which content types, which language tags."""

from __future__ import annotations

import pytest

from service.pipeline.language import MIN_CONFIDENCE, detect, given_language, language_of
from service.pipeline.readable import html_to_text, is_html, looks_like_html, media_type
from service.pipeline.records import Article, Rejected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        (None, None),
        ("", None),
        ("text/html", "text/html"),
        ("Text/HTML; charset=UTF-8", "text/html"),
        ("application/xhtml+xml", "application/xhtml+xml"),
        ("text/plain;charset=utf-8", "text/plain"),
    ],
)
def test_media_types_taken(content_type: str | None, expected: str | None) -> None:
    assert media_type(content_type) == expected


@pytest.mark.parametrize("content_type", ["application/pdf", "image/png", "text/markdown"])
def test_other_content_types_are_refused(content_type: str) -> None:
    with pytest.raises(Rejected) as caught:
        media_type(content_type)
    assert caught.value.code == "unsupported_content_type"
    assert caught.value.detail == (
        f"content_type {content_type!r} is not one of text/html, application/xhtml+xml,"
        " text/plain"
    )


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("<!DOCTYPE html><html><body><p>x</p></body></html>", True),
        ("  \n<html lang='en'><body>x</body></html>", True),
        ("<HEAD><title>t</title></HEAD><body>x</body>", True),
        ("<body><p>x</p></body>", True),
        ("The <p> tag starts a paragraph.", False),
        ("<b>Bold</b> claims were made.", False),
        ("x" * 100 + "<html>", False),
    ],
)
def test_plainly_an_html_document(text: str, html: bool) -> None:
    assert looks_like_html(text) is html


def test_the_content_type_decides_before_the_look_of_the_text() -> None:
    page = "<html><body><p>x</p></body></html>"
    assert is_html(Article("a", page, {}))
    assert not is_html(Article("a", page, {"content_type": "text/plain"}))
    assert is_html(Article("a", "no tags at all", {"content_type": "text/html"}))


def test_html_to_text_lays_out_blocks_and_drops_what_no_reader_sees() -> None:
    page = (
        "<html><head><title>Title</title><style>.a{}</style><script>var a = 1;</script></head>"
        "<body><nav><a href='/'>Home</a></nav><h1>Head &amp; line</h1>"
        "<p>One <em>inline</em> sentence,<br>then a break.</p>"
        "<ul><li>first</li><li>second</li></ul><noscript>Enable JavaScript</noscript>"
        "<template><p>hidden</p></template><iframe src='x'></iframe></body></html>"
    )
    assert html_to_text(page) == (
        "Head & line\n\nOne inline sentence,\nthen a break.\n\n  * first\n  * second"
    )


def test_deeply_nested_html_stays_bounded() -> None:
    deep = "<div>" * 50_000 + "text" + "</div>" * 50_000
    assert isinstance(html_to_text(deep), str)  # no RecursionError, no crash


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        ("en", "en"),
        ("EN", "en"),
        ("en-GB", "en"),
        ("pt_BR", "pt"),
        ("zh-Hant-TW", "zh"),
        ("fil", "fil"),
        ("und", None),
    ],
)
def test_given_language_tags(value: str | None, expected: str | None) -> None:
    assert given_language(value) == expected


@pytest.mark.parametrize("value", ["English", "e", "12", "en GB", "x" * 40, 7, ["en"]])
def test_what_is_not_a_language_tag_is_refused(value: object) -> None:
    with pytest.raises(Rejected) as caught:
        given_language(value)
    assert caught.value.code == "invalid_language"


def test_detection_names_the_language_of_a_sentence() -> None:
    assert detect("Le ministère a démenti les allégations de corruption.")[0] == "fr"
    assert detect("نفت الوزارة الاتهامات وزعمت الصحيفة أن المسؤولين تلقوا رشاوى")[0] == "ar"
    assert detect("The ministry denied the allegations of corruption.")[0] == "en"


def test_an_unsure_detection_is_scored_as_the_first_supported_language() -> None:
    text = "Lisboa 2-1 Porto"
    code, probability = detect(text)
    assert code != "en" and probability < MIN_CONFIDENCE  # the case this rule is for
    found = language_of(Article("a", text, {}), ("en", "de"))
    assert (found.code, found.source, found.supported) == ("en", "assumed", True)

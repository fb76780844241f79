"""Stage 4 — readable text: an HTML article reduced to the text a reader would see.

An article is HTML when its ``content_type`` says so (``text/html``,
``application/xhtml+xml``) or, without one, when its text is plainly an HTML document
(it opens with ``<!doctype html``, ``<html``, ``<head`` or ``<body``). inscriptis
lays the page out as text the way a browser's CSS would (blocks on their own lines,
inline markup inside its sentence, character references resolved) with lxml's HTML
parser; script, style, noscript, templates, frames, SVG and navigation menus are
dropped. What comes out replaces the article's text for everything after this stage,
so every offset in the review record points into the text a reviewer reads.
``python -m bench.html_text`` compares it with the other extractors we tried.
"""

from __future__ import annotations

from dataclasses import replace

from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.html_properties import Display
from inscriptis.model.config import ParserConfig
from inscriptis.model.html_element import HtmlElement

from service.pipeline.records import UNSUPPORTED_CONTENT_TYPE, Article, Rejected

HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain",)
# How an HTML document opens (after whitespace), compared case-insensitively.
HTML_OPENINGS = ("<!doctype html", "<html", "<head", "<body")
# Rendered as nothing: never text a reader of the article sees.
HIDDEN_ELEMENTS = ("noscript", "template", "iframe", "object", "svg", "nav")


def media_type(content_type: str | None) -> str | None:
    """The media type of a ``content_type`` field (parameters such as charset dropped).

    Raises :class:`Rejected` (``unsupported_content_type``) for anything but plain
    text or HTML: the model reads text, and guessing at other formats would score noise.
    """
    if content_type is None or not content_type.strip():
        return None
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind not in HTML_TYPES + TEXT_TYPES:
        shown = content_type[:80]
        raise Rejected(
            UNSUPPORTED_CONTENT_TYPE,
            f"content_type {shown!r} is not one of {', '.join(HTML_TYPES + TEXT_TYPES)}",
        )
    return kind


def looks_like_html(text: str) -> bool:
    """True when ``text`` is plainly an HTML document, not text that mentions a tag."""
    opening = text[:64].lstrip().lower()
    return opening.startswith(HTML_OPENINGS)


def is_html(article: Article) -> bool:
    """Whether the article's text is to be read as HTML (see the module's doc)."""
    kind = media_type(article.get("content_type"))
    if kind is None:
        return looks_like_html(article.text)
    return kind in HTML_TYPES


def _parser_config() -> ParserConfig:
    css = CSS_PROFILES["strict"].copy()
    for tag in HIDDEN_ELEMENTS:
        css[tag] = HtmlElement(display=Display.none)
    return ParserConfig(css=css)


_CONFIG = _parser_config()  # immutable once built; building it per article costs more


def html_to_text(document: str) -> str:
    """The readable text of an HTML document, blank lines at either end removed."""
    return get_text(document, _CONFIG).strip()


def readable(article: Article) -> tuple[Article, bool]:
    """The article with its text as a reader sees it, and whether it was HTML."""
    if not is_html(article):
        return article, False
    return replace(article, text=html_to_text(article.text)), True

"""HTML-to-text extractors compared on news pages: what survives, what leaks, the cost.

``python -m bench.html_text [--data ../shared/data] [--pages 300]`` wraps FNC-1 bodies
(or the generated corpus) in the page a news site would serve: a head with a style
sheet and a script, a navigation bar, the headline, the body's paragraphs with links,
emphasis and character references, a box of related links, a footer and a
``<noscript>``. For each candidate it counts

- paragraphs kept whole, each on its own line (a sentence split across lines or
  glued to the next paragraph moves every offset a reviewer sees, and the sentence
  splitter with it);
- pages where script, style or noscript text leaked into the output (the script
  carries a contested-claim cue, as page scripts with article text often do);
- pages that kept the navigation, related links or footer (boilerplate);

and the time per page. inscriptis is a dependency; the others are not: install them
to compare (``pip install selectolax beautifulsoup4 trafilatura lxml_html_clean``);
a candidate whose package is missing is reported as such.
"""

from __future__ import annotations

import argparse
import html
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.corpus import load_corpus

ROOT = Path(__file__).resolve().parent.parent

SCRIPT_MARKER = "reportedly-in-a-script"
STYLE_MARKER = "style-marker-color"
NOSCRIPT_MARKER = "Please enable JavaScript"
BOILERPLATE = ("Subscribe to our newsletter", "Related stories", "All rights reserved")

Extractor = Callable[[str], str]


def page(title: str, body: str) -> tuple[str, list[str]]:
    """A news page around ``body``; returns the page and the body's paragraphs."""
    paragraphs = [" ".join(p.split()) for p in body.split("\n") if p.strip()]
    rendered = []
    for number, paragraph in enumerate(paragraphs):
        words = [html.escape(word) for word in paragraph.split(" ")]
        if len(words) > 6:  # inline markup inside the sentence, as editors add it
            words[2] = f'<a href="/topic/{number}">{words[2]}</a>'
            words[5] = f"<em>{words[5]}</em>"
        rendered.append("<p>" + " ".join(words) + "</p>")
    document = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} | News</title>
<style>.{STYLE_MARKER} {{ color: #333; }}</style>
<script>window.dataLayer = [{{"headline": "{SCRIPT_MARKER}"}}];</script></head>
<body><header><nav><a href="/">Home</a> <a href="/world">World</a>
<a href="/politics">Politics</a>
<a href="/newsletter">Subscribe to our newsletter</a></nav></header>
<main><article><h1>{html.escape(title)}</h1>
<div class="byline">By <span>Staff Reporter</span></div>
{"".join(rendered)}
</article><aside><h2>Related stories</h2><ul><li><a href="/a">Another story</a></li>
<li><a href="/b">A second story</a></li></ul></aside></main>
<footer><p>&copy; 2026 News Ltd. All rights reserved.</p></footer>
<noscript>{NOSCRIPT_MARKER} to see comments.</noscript></body></html>"""
    return document, paragraphs


def inscriptis_extractor() -> Extractor:
    from inscriptis import get_text
    from inscriptis.css_profiles import CSS_PROFILES
    from inscriptis.html_properties import Display
    from inscriptis.model.config import ParserConfig
    from inscriptis.model.html_element import HtmlElement

    css = CSS_PROFILES["strict"].copy()
    for tag in ("noscript", "template", "iframe", "svg"):
        css[tag] = HtmlElement(display=Display.none)
    config = ParserConfig(css=css)
    return lambda document: get_text(document, config)


def selectolax_extractor() -> Extractor:
    from selectolax.lexbor import LexborHTMLParser

    def extract(document: str) -> str:
        tree = LexborHTMLParser(document)
        tree.strip_tags(["script", "style", "noscript", "template"])
        root = tree.body
        return "" if root is None else root.text(separator="\n")

    return extract


def beautifulsoup_extractor() -> Extractor:
    from bs4 import BeautifulSoup

    def extract(document: str) -> str:
        soup = BeautifulSoup(document, "html.parser")
        for node in soup(["script", "style", "noscript", "template", "head"]):
            node.decompose()
        return soup.get_text("\n")

    return extract


def trafilatura_extractor() -> Extractor:
    import trafilatura

    return lambda document: trafilatura.extract(document, favor_recall=True) or ""


CANDIDATES: dict[str, Callable[[], Extractor]] = {
    "inscriptis": inscriptis_extractor,
    "selectolax text(separator=newline)": selectolax_extractor,
    "beautifulsoup html.parser get_text": beautifulsoup_extractor,
    "trafilatura": trafilatura_extractor,
}


def measure(name: str, extract: Extractor, pages: list[tuple[str, list[str]]]) -> dict:
    whole = total = leaked = boilerplate = 0
    started = time.perf_counter()
    outputs = [extract(document) for document, _ in pages]
    seconds = time.perf_counter() - started
    for (_, paragraphs), text in zip(pages, outputs, strict=True):
        lines = {" ".join(line.split()) for line in text.splitlines()}
        total += len(paragraphs)
        whole += sum(paragraph in lines for paragraph in paragraphs)
        leaked += any(m in text for m in (SCRIPT_MARKER, STYLE_MARKER, NOSCRIPT_MARKER))
        boilerplate += any(marker in text for marker in BOILERPLATE)
    return {
        "extractor": name,
        "paragraphs whole, own line": f"{whole}/{total}",
        "pages leaking script/style/noscript": f"{leaked}/{len(pages)}",
        "pages keeping boilerplate": f"{boilerplate}/{len(pages)}",
        "ms per page": round(seconds * 1000 / len(pages), 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.html_text", description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args(argv)
    corpus = load_corpus(args.data)
    count = min(args.pages, len(corpus.texts))
    pages = [page(corpus.titles[i], corpus.texts[i]) for i in range(count)]
    for name, build in CANDIDATES.items():
        try:
            extract = build()
        except ImportError as error:
            print(json.dumps({"extractor": name, "not installed": str(error)}), flush=True)
            continue
        print(json.dumps(measure(name, extract, pages)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

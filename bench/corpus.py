"""The benchmark corpus: realistic 2-4 KB news articles, the same for every measurement.

FNC-1 bodies from ``../shared/data/fnc-1`` when present (short bodies joined with the
next ones, long ones cut at a word boundary), otherwise generated articles of the
same length built from a small vocabulary of news phrases and contested-claim cues.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path

MIN_BYTES = 2048
MAX_BYTES = 4096

_GENERATED_SENTENCES = (
    "Officials said the council would meet again on Thursday to review the budget.",
    "The company reportedly plans to close two plants, according to unnamed sources.",
    "A spokesperson denied the allegations and called the report false.",
    "Residents described long queues at the only open clinic in the district.",
    "The minister claimed the figures had been misread by the opposition.",
    "Critics say the proposal could not be independently verified.",
    "Shares rose three percent in early trading after the announcement.",
    "The mayor insisted that no confrontation had taken place at the meeting.",
    "Police allegedly detained the journalist for several hours without charge.",
    "Analysts expect the central bank to hold interest rates steady this quarter.",
    "The claim was disputed by two independent researchers on Monday.",
    "Weather services warned of heavy rain across the northern provinces.",
)


@dataclass(frozen=True)
class Corpus:
    """Texts (with a title each) and where they came from."""

    texts: list[str]
    titles: list[str]
    origin: str

    def mean_bytes(self) -> int:
        return sum(len(t.encode("utf-8")) for t in self.texts) // max(len(self.texts), 1)


def load_corpus(data_dir: Path) -> Corpus:
    """FNC-1 bodies fitted to 2-4 KB if ``data_dir`` has them, else generated articles."""
    bodies = data_dir / "fnc-1" / "train_bodies.csv"
    if bodies.is_file():
        texts, titles = _fnc_articles(bodies, data_dir / "fnc-1" / "train_stances.csv")
        return Corpus(texts, titles, f"FNC-1 train bodies ({len(texts)} fitted to 2-4 KB)")
    texts = _generated_articles(1000)
    return Corpus(texts, [f"Generated story {i}" for i in range(len(texts))], "generated")


def _read_rows(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(10_000_000)
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _fnc_articles(bodies: Path, stances: Path) -> tuple[list[str], list[str]]:
    headline: dict[str, str] = {}
    if stances.is_file():
        for row in _read_rows(stances):
            headline.setdefault(row["Body ID"], row["Headline"])
    rows = [(row["Body ID"], row["articleBody"].strip()) for row in _read_rows(bodies)]
    texts: list[str] = []
    titles: list[str] = []
    for index, (body_id, body) in enumerate(rows):
        text = body
        following = index + 1
        while len(text.encode("utf-8")) < MIN_BYTES and following < len(rows):
            text = f"{text}\n\n{rows[following][1]}"
            following += 1
        if len(text.encode("utf-8")) >= MIN_BYTES:
            texts.append(cut_to_bytes(text, MAX_BYTES))
            titles.append(headline.get(body_id, f"FNC-1 body {body_id}"))
    return texts, titles


def cut_to_bytes(text: str, limit: int) -> str:
    """``text`` cut at the last whitespace before ``limit`` UTF-8 bytes."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    head = data[:limit].decode("utf-8", "ignore")
    space = head.rfind(" ")
    return head[:space] if space > 0 else head


def _generated_articles(count: int) -> list[str]:
    rng = random.Random(6)
    texts = []
    for _ in range(count):
        target = rng.randint(MIN_BYTES, MAX_BYTES - 200)
        sentences: list[str] = []
        while sum(len(s) + 1 for s in sentences) < target:
            sentences.append(rng.choice(_GENERATED_SENTENCES))
        texts.append(" ".join(sentences))
    return texts


def article_lines(corpus: Corpus, count: int, prefix: str) -> list[bytes]:
    """``count`` JSON articles cycling through the corpus, ids ``<prefix>-<n>`` (all unique)."""
    lines = []
    for n in range(count):
        index = n % len(corpus.texts)
        article = {
            "id": f"{prefix}-{n}",
            "title": corpus.titles[index],
            "text": corpus.texts[index],
            "source": f"source-{index % 7}",
            "url": f"https://news.example/{prefix}/{n}",
        }
        lines.append(json.dumps(article, ensure_ascii=False).encode("utf-8"))
    return lines

"""How often each lexicon cue occurs in contested, asserted and ordinary articles.

``python -m models.training.cue_rates [--data DIR] [--min-docs N]`` prints, for every
cue text the lexicon finds (lower-cased, whitespace folded), the share of FNC-1
contested bodies, FNC-1 asserted-only bodies and ordinary news articles that contain
it, and the contested/asserted ratio. This is the measurement behind the lexicon's
additions: a cue earns its place when it is common in contested bodies and rare in
asserted ones.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from models.evidence.signals import extract_signals
from models.training.data import load_corpus, news_kind

GROUPS = ("contested", "asserted", "ordinary")


def cue_document_counts(
    texts: Sequence[str], groups: Sequence[str]
) -> tuple[Counter[str], dict[tuple[str, str], Counter[str]]]:
    """Articles per group, and per (category, cue text) the articles per group holding it."""
    sizes: Counter[str] = Counter(groups)
    found: dict[tuple[str, str], Counter[str]] = {}
    for text, group in zip(texts, groups, strict=True):
        seen = {
            (cue.category, " ".join(cue.text.lower().split()))
            for cue in extract_signals(text).cues
            if not cue.negated
        }
        for key in seen:
            found.setdefault(key, Counter())[group] += 1
    return sizes, found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.training.cue_rates")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--min-docs", type=int, default=5, help="articles holding the cue")
    args = parser.parse_args(argv)
    corpus = load_corpus(args.data)
    groups = [news_kind(source, label)
              for source, label in zip(corpus.sources, corpus.contested, strict=True)]
    sizes, found = cue_document_counts(corpus.texts, groups)
    print("articles: " + ", ".join(f"{g} {sizes[g]}" for g in GROUPS))
    print(f"{'category':20} {'cue':32} " + " ".join(f"{g:>9}" for g in GROUPS) + "  ratio")
    rows = sorted(found.items(), key=lambda kv: (kv[0][0], -kv[1]["contested"], kv[0][1]))
    for (category, cue), counts in rows:
        if sum(counts.values()) < args.min_docs:
            continue
        shares = [counts[g] / max(sizes[g], 1) for g in GROUPS]
        ratio = shares[0] / shares[1] if shares[1] else float("inf")
        print(f"{category:20} {cue[:32]:32} " + " ".join(f"{s:9.3f}" for s in shares)
              + f"  {ratio:5.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

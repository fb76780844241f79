"""How many sentences of each kind of news a hedge model calls hedged.

``python -m models.training.hedged_share [--data DIR] [--model M ...]`` prints, for each
artifact (default: the shipped one), the share of sentences whose P(hedged) reaches that
model's own threshold in FNC-1 contested bodies, FNC-1 asserted-only bodies, ordinary
news and PolNeAR's political news (train + dev). Not a label: the hedge model is
trained on Wikipedia, and this shows what it does on news, where a reviewer reads the
hedged sentences of a record. Two artifacts side by side compare hedge models.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.article.evidence_model import EvidenceClaimModel
from models.artifact import default_artifact, load_model
from models.training.data import load_corpus, load_polnear_texts, news_kind

SETS = ("contested", "asserted", "ordinary", "political")


def hedged_share(model: EvidenceClaimModel, texts: Sequence[str]) -> float:
    """Share of the sentences of ``texts`` (those given a hedge probability) at or above
    the model's hedge threshold; 0.0 for no sentences."""
    hedge = np.concatenate([np.zeros(0), *(e.hedge for e in model.extract(list(texts)))])
    return float((hedge >= model.evidence.hedge_threshold).mean()) if len(hedge) else 0.0


def news_sets(data: Path) -> dict[str, list[str]]:
    """The texts of :data:`SETS` from ``data`` (contested: the data README's rule)."""
    corpus = load_corpus(data)
    sets: dict[str, list[str]] = {name: [] for name in SETS}
    for text, source, label in zip(corpus.texts, corpus.sources, corpus.contested,
                                   strict=True):
        sets[news_kind(source, label)].append(text)
    sets["political"] = load_polnear_texts(data)
    return sets


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.training.hedged_share")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", type=Path, nargs="+", default=[default_artifact()])
    args = parser.parse_args(argv)
    sets = news_sets(args.data)
    for path in args.model:
        model = load_model(path)
        if not isinstance(model, EvidenceClaimModel):
            print(json.dumps({"model": str(path), "error": "not a v2 model: no hedge model"}))
            continue
        print(json.dumps({
            "model": str(path),
            "version": model.card.get("version"),
            "hedge_threshold": round(model.evidence.hedge_threshold, 4),
            "articles": {name: len(texts) for name, texts in sets.items()},
            "hedged_share": {name: round(hedged_share(model, texts), 4)
                             for name, texts in sets.items()},
        }), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

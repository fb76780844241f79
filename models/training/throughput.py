"""Offline scoring throughput: ``python -m models.training.throughput [--data DIR] [--model PATH]``.

Measures :func:`models.article.assess.assess_batch` on real 2-4 KB news bodies, in
micro-batches (as the worker calls it) and one article at a time, on one core.
``--stages`` adds where the time goes: each stage's share of one profiled pass in
batches of 256 (cProfile's cumulative time of the function that runs the stage, so
the shares are of a somewhat slower, profiled run).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models.article.assess import ArticleModel, assess_batch
from models.artifact import load_model
from models.evidence.signals import extract_signals
from models.training.data import Corpus, load_fnc


def sample_articles(data_dir: Path, count: int) -> list[str]:
    """Up to ``count`` FNC-1 bodies of 2-4 KB (UTF-8), repeated if there are fewer."""
    corpus = Corpus()
    load_fnc(corpus, data_dir / "fnc-1")
    texts = [t for t in corpus.texts if 2048 <= len(t.encode("utf-8")) <= 4096]
    return (texts * (count // max(len(texts), 1) + 1))[:count]


def measure(model: ArticleModel, texts: Sequence[str], batch_size: int) -> float:
    """Articles per second through ``assess_batch`` + ``to_dict`` at one batch size."""
    ids = [str(i) for i in range(len(texts))]
    began = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        for record in assess_batch(model, ids[start : start + batch_size],
                                   texts[start : start + batch_size]):
            record.to_dict()
    return len(texts) / (time.perf_counter() - began)


# The function that runs each stage of scoring, as cProfile names it (file, function).
STAGES: dict[str, tuple[str, str]] = {
    "cue scan": ("models/evidence/signals.py", "extract_signals"),
    "hedge model": ("models/evidence/hedge.py", "predict_proba"),
    "attribution tagger": ("models/evidence/attribution.py", "extract_many"),
    "parties": ("models/evidence/evidence.py", "resolve_parties"),
    "pairs": ("models/evidence/evidence.py", "contested_pairs"),
    "features + wording": ("models/article/evidence_model.py", "feature_matrix"),
    "flag reasons": ("models/article/evidence_model.py", "flag_reasons"),
    "records": ("models/article/assess.py", "to_dict"),
}


def stage_shares(model: ArticleModel, texts: Sequence[str]) -> dict[str, float]:
    """Each stage's share of one profiled pass over ``texts`` in batches of 256."""
    profile = cProfile.Profile()
    profile.enable()
    measure(model, texts, 256)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(tottime for _, _, tottime, _, _ in stats.values())
    shares = {}
    for stage, (path, function) in STAGES.items():
        cumulative = sum(
            entry[3]
            for (file, _, name), entry in stats.items()
            if name == function and file.replace("\\", "/").endswith(path)
        )
        shares[stage] = round(cumulative / total, 3)
    return shares


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.training.throughput")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--stages", action="store_true", help="also the share of each stage")
    args = parser.parse_args(argv)
    model = load_model(args.model)
    texts = sample_articles(args.data, args.articles)
    measure(model, texts[:100], 64)  # warm-up
    began = time.perf_counter()
    for text in texts:
        extract_signals(text)
    signals_only = len(texts) / (time.perf_counter() - began)
    result: dict[str, Any] = {
        "articles": len(texts),
        "mean_bytes": sum(len(t.encode("utf-8")) for t in texts) // max(len(texts), 1),
        "signals_only_per_s": round(signals_only),
        "batch_64_per_s": round(measure(model, texts, 64)),
        "batch_256_per_s": round(measure(model, texts, 256)),
        "one_by_one_per_s": round(measure(model, texts[: max(len(texts) // 4, 1)], 1)),
    }
    if args.stages:
        result["stage_shares"] = stage_shares(model, texts)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

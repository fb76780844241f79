"""Offline scoring throughput: ``python -m models.training.throughput [--data DIR] [--model PATH]``.

Measures :func:`models.article.assess.assess_batch` on real 2-4 KB news bodies, in
micro-batches (as the worker calls it) and one article at a time, on one core.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.training.throughput")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--articles", type=int, default=2000)
    args = parser.parse_args(argv)
    model = load_model(args.model)
    texts = sample_articles(args.data, args.articles)
    measure(model, texts[:100], 64)  # warm-up
    began = time.perf_counter()
    for text in texts:
        extract_signals(text)
    signals_only = len(texts) / (time.perf_counter() - began)
    result = {
        "articles": len(texts),
        "mean_bytes": sum(len(t.encode("utf-8")) for t in texts) // max(len(texts), 1),
        "signals_only_per_s": round(signals_only),
        "batch_64_per_s": round(measure(model, texts, 64)),
        "batch_256_per_s": round(measure(model, texts, 256)),
        "one_by_one_per_s": round(measure(model, texts[: max(len(texts) // 4, 1)], 1)),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

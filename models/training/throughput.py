"""Offline scoring throughput: ``python -m models.training.throughput [--data DIR] [--model PATH]``.

Measures :func:`models.article.assess.assess_batch` on real 2-4 KB news bodies, in
micro-batches (as the worker calls it) and one article at a time, on one core.
``--stages`` adds where the time goes: each stage's share of one profiled pass in
batches of 256 (:func:`profile_scoring`, which ``make bench`` prints too).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from collections.abc import Sequence
from dataclasses import dataclass
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


# Functions whose cumulative time explains the scoring path (cProfile names: a part of
# the file's path, the function). Indented names are parts of the line above.
PROFILE_PARTS: tuple[tuple[str, str, str], ...] = (
    ("cue scan (regex cues, sentences, pairs)", "models/evidence/signals.py", "extract_signals"),
    ("attribution tagger (tokens, features, Viterbi)", "models/evidence/attribution.py",
     "extract_many"),
    ("  of which Viterbi decoding", "models/evidence/attribution.py", "decode"),
    ("hedge model (every sentence)", "models/evidence/hedge.py", "predict_proba_of"),
    ("parties", "models/evidence/evidence.py", "resolve_parties"),
    ("claim / denial pairs", "models/evidence/evidence.py", "contested_pairs"),
    ("evidence features + wording block", "models/article/evidence_model.py", "feature_matrix"),
    ("flag reasons", "models/article/evidence_model.py", "flag_reasons"),
    ("records (to_dict)", "models/article/assess.py", "to_dict"),
)


@dataclass(frozen=True)
class ProfilePart:
    name: str
    seconds: float
    share: float


def profile_scoring(
    model: ArticleModel, texts: Sequence[str], batch_size: int
) -> tuple[float, list[ProfilePart], list[tuple[str, float]]]:
    """cProfile of one batched pass of :func:`measure`: its total seconds, the named parts
    of :data:`PROFILE_PARTS` with their share of it, and the 8 functions with the most
    time of their own. Profiled code runs slower, so the shares are what to read."""
    profiler = cProfile.Profile()
    profiler.enable()
    measure(model, texts, batch_size)
    profiler.disable()
    table = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = max(
        (cum for (_, _, func), (_, _, _, cum, _) in table.items() if func == "measure"),
        default=1e-9,
    )
    parts = []
    for name, file_part, function in PROFILE_PARTS:
        # Nested calls of the same name (TfidfVectorizer.transform calls
        # CountVectorizer.transform) would double count: the outermost has the most.
        seconds = max(
            (
                cum
                for (file, _, func), (_, _, _, cum, _) in table.items()
                if func == function and file_part in file.replace("\\", "/")
            ),
            default=0.0,
        )
        parts.append(ProfilePart(name, seconds, seconds / total))
    by_own_time = sorted(
        (
            (f"{_short(file)}:{line}({func})", own)
            for (file, line, func), (_, _, own, _, _) in table.items()
        ),
        key=lambda item: -item[1],
    )
    return total, parts, by_own_time[:8]


def _short(file: str) -> str:
    """A path without the machine-specific part before the package name."""
    file = file.replace("\\", "/")
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1]
    for package in ("models", "service"):
        marker = f"/{package}/"
        if marker in file:
            return package + "/" + file.split(marker, 1)[1]
    return file


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
        _, parts, _ = profile_scoring(model, texts, 256)
        result["stage_shares"] = {part.name.strip(): round(part.share, 3) for part in parts}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Offline measurements (no Kafka): the scoring code alone, and where its time goes.

``assess_batch`` is what the worker calls once per micro-batch; ``accept`` +
``score_and_route`` is the worker's whole per-batch code path minus Kafka.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from models.article.assess import ArticleModel, assess_batch
from models.article.evidence_model import EvidenceClaimModel
from service.pipeline.batch import accept, score_and_route
from service.pipeline.records import RawMessage
from service.settings import Settings

# Functions whose cumulative time explains the scoring path (cProfile names).
PROFILE_PARTS: tuple[tuple[str, str, str], ...] = (
    ("cue scan (regex cues, sentences, pairs)", "models/evidence/signals.py", "extract_signals"),
    ("attribution tagger (tokens, features, Viterbi)", "models/evidence/attribution.py",
     "extract"),
    ("  of which tokens and features", "models/evidence/attribution.py", "prepare"),
    ("  of which Viterbi decoding", "models/evidence/attribution.py", "decode"),
    ("hedge model (every sentence)", "models/evidence/hedge.py", "predict_proba"),
    ("parties and pairs", "models/evidence/evidence.py", "contested_pairs"),
    ("evidence features", "models/article/evidence_features.py", "transform"),
    ("linear heads + reasons", "models/article/evidence_model.py", "score_evidence"),
)


@dataclass(frozen=True)
class ProfilePart:
    name: str
    seconds: float
    share: float


def rate(count: int, run: Callable[[], object]) -> float:
    """Items per second of one call of ``run`` that handles ``count`` items."""
    started = time.perf_counter()
    run()
    return count / (time.perf_counter() - started)


def evidence_rate(model: ArticleModel, texts: Sequence[str], batch_size: int) -> float:
    """Articles per second of the v2 evidence extraction alone (0 for a v1 model)."""
    if not isinstance(model, EvidenceClaimModel):
        return 0.0

    def run() -> None:
        for start in range(0, len(texts), batch_size):
            model.extract(texts[start : start + batch_size])

    return rate(len(texts), run)


def assess_rate(model: ArticleModel, texts: Sequence[str], batch_size: int) -> float:
    """Articles per second through ``assess_batch`` in batches of ``batch_size``."""
    ids = [f"offline-{i}" for i in range(len(texts))]

    def run() -> None:
        for start in range(0, len(texts), batch_size):
            end = start + batch_size
            assess_batch(model, ids[start:end], texts[start:end])

    return rate(len(texts), run)


def raw_messages(lines: Sequence[bytes], topic: str) -> list[RawMessage]:
    """The consumed form of ``lines``, as the worker's agent builds it."""
    now_ms = int(time.time() * 1000)
    return [
        RawMessage(topic, 0, offset, now_ms, _key(line), line) for offset, line in enumerate(lines)
    ]


def _key(line: bytes) -> bytes:
    return str(json.loads(line)["id"]).encode("utf-8")


def stages_rate(model: ArticleModel, lines: Sequence[bytes], settings: Settings) -> float:
    """Articles per second through decode → validate → dedupe → score → decide → route."""
    messages = raw_messages(lines, settings.topic_articles)
    size = settings.batch_size

    def run() -> None:
        seen: dict[str, object] = {}
        for start in range(0, len(messages), size):
            accepted = accept(messages[start : start + size], seen, settings.max_text_bytes)
            score_and_route(accepted, model, settings.threshold, settings.topics)

    return rate(len(messages), run)


def profile_scoring(
    model: ArticleModel, texts: Sequence[str], batch_size: int
) -> tuple[float, list[ProfilePart], list[tuple[str, float]]]:
    """cProfile of batched ``assess_batch``: total seconds, named parts, top functions."""
    profiler = cProfile.Profile()
    profiler.enable()
    assess_rate(model, texts, batch_size)
    profiler.disable()
    stats = pstats.Stats(profiler)
    table = stats.stats  # type: ignore[attr-defined]
    total = max(
        (cum for (file, _, func), (_, _, _, cum, _) in table.items() if func == "assess_batch"),
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
                if func == function and file_part in file
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
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1]
    for package in ("models", "service"):
        marker = f"/{package}/"
        if marker in file:
            return package + "/" + file.split(marker, 1)[1]
    return file

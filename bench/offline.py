"""Offline measurements (no Kafka): the scoring code alone (where its time goes:
:func:`models.training.throughput.profile_scoring`).

``assess_batch`` is what the worker calls once per micro-batch; ``accept`` +
``score_and_route`` is the worker's whole per-batch code path minus Kafka.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

from models.article.assess import ArticleModel, assess_batch
from models.article.evidence_model import EvidenceClaimModel
from service.pipeline.batch import accept, score_and_route
from service.pipeline.records import RawMessage
from service.settings import Settings


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

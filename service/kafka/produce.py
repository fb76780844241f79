"""Send articles from a JSONL file to Kafka (key = the article ``id``).

Used by `claimwatch produce`, `make run` and the tests. Each line is one article;
with ``raw=True`` lines are sent byte-for-byte (for replaying bad input).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaProducer

from service.errors import ClaimwatchError
from service.progress import Progress


class InputFileError(ClaimwatchError):
    code = "input_file"


@dataclass
class ProduceSummary:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0

    def describe(self, topic: str) -> str:
        return (
            f"sent {self.sent} to {topic} in {self.seconds:.2f}s ({self.rate:,.0f}/s); "
            f"failed {self.failed}; skipped {self.skipped}"
        )


def read_lines(path: Path) -> list[bytes]:
    """The non-blank lines of ``path`` (``-`` is not supported here: files only)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputFileError(f"cannot read {path}: {error.strerror}") from None
    return [line for line in data.splitlines() if line.strip()]


def key_of(line: bytes) -> bytes | None:
    """The article id as UTF-8 key bytes, or None when the line has no usable id: the
    worker would dead-letter it anyway (``id`` must be a non-empty string)."""
    try:
        article = json.loads(line)
    except ValueError:
        return None
    article_id = article.get("id") if isinstance(article, dict) else None
    if isinstance(article_id, str) and article_id.strip():
        return article_id.encode()
    return None


class RateLimiter:
    """Spaces calls evenly at ``per_second`` (no limit when None)."""

    def __init__(self, per_second: float | None) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self.next_at = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self.next_at > now:
            time.sleep(self.next_at - now)
        self.next_at = max(self.next_at, now) + self.interval


def batches(
    lines: list[bytes], raw: bool, summary: ProduceSummary
) -> Iterator[tuple[bytes | None, bytes]]:
    """(key, value) pairs to send; invalid lines are skipped (unless raw) and noted."""
    for number, line in enumerate(lines, start=1):
        key = key_of(line)
        if key is None and not raw:
            summary.skipped += 1
            if len(summary.problems) < 5:
                summary.problems.append(f"line {number}: not a JSON object with a string id")
            continue
        yield key, line


def produce_lines(
    producer: KafkaProducer,
    topic: str,
    lines: list[bytes],
    *,
    raw: bool = False,
    rate: float | None = None,
    progress: Progress | None = None,
) -> ProduceSummary:
    """Send ``lines`` to ``topic``, wait for every acknowledgement, and count the outcome."""
    summary = ProduceSummary()
    limiter = RateLimiter(rate)
    started = time.monotonic()
    futures = []
    for key, value in batches(lines, raw, summary):
        limiter.wait()
        futures.append(producer.send(topic, key=key, value=value))
        if progress:
            progress.advance()
    producer.flush()
    for future in futures:
        try:
            future.get(timeout=30)
            summary.sent += 1
        except Exception as error:
            summary.failed += 1
            if len(summary.problems) < 5:
                summary.problems.append(f"delivery failed: {error}")
    summary.seconds = time.monotonic() - started
    return summary


def articles_to_lines(articles: Iterable[dict[str, object]]) -> list[bytes]:
    return [json.dumps(article, ensure_ascii=False).encode() for article in articles]

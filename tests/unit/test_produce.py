from __future__ import annotations

import time

from service.kafka.produce import ProduceSummary, RateLimiter, batches, key_of


def test_key_is_the_article_id() -> None:
    assert key_of(b'{"id": "a-1", "text": "x"}') == b"a-1"
    # the worker dead-letters these (wrong_type, empty_id): not sent, counted as skipped
    assert key_of(b'{"id": 7, "text": "x"}') is None
    assert key_of(b'{"id": " ", "text": "x"}') is None
    assert key_of(b'{"text": "no id"}') is None
    assert key_of(b"[1, 2]") is None
    assert key_of(b"{broken") is None


def test_invalid_lines_are_skipped_unless_raw() -> None:
    lines = [b'{"id": "a"}', b"oops", b'{"id": "b"}']
    summary = ProduceSummary()
    assert [k for k, _ in batches(lines, False, summary)] == [b"a", b"b"]
    assert summary.skipped == 1 and summary.problems == [
        "line 2: not a JSON object with a string id"
    ]
    raw = ProduceSummary()
    assert [v for _, v in batches(lines, True, raw)] == lines and raw.skipped == 0


def test_rate_limiter_spaces_calls() -> None:
    limiter = RateLimiter(200.0)
    started = time.monotonic()
    for _ in range(21):
        limiter.wait()
    assert time.monotonic() - started >= 20 / 200 * 0.9

"""What the review app's handlers share: app and request keys, and the decide step."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Protocol

from aiohttp import web

from service.errors import ClaimwatchError
from service.review.auth import Authenticator, Reviewer
from service.review.records import VERDICTS, VerdictLabel
from service.review.store import ReviewStore

MAX_NOTE = 2000


class VerdictSink(Protocol):
    """Where decided verdicts go (Kafka in production, a fake in tests)."""

    def flush_pending(self) -> int: ...
    def close(self) -> None: ...


class BadRequestError(ClaimwatchError):
    code = "bad_request"


STORE = web.AppKey("store", ReviewStore)
AUTH = web.AppKey("auth", Authenticator)
SINK = web.AppKey("sink", VerdictSink)
FLUSH_INTERVAL = web.AppKey("flush_interval_s", float)
REVIEWER = web.RequestKey("reviewer", Reviewer)


def reviewer_of(request: web.Request) -> Reviewer:
    """The reviewer the auth middleware proved for this request."""
    return request[REVIEWER]


async def decide(
    request: web.Request, article_id: str, label: object, note: object
) -> tuple[dict[str, Any], bool]:
    """Validate, record in the store, then try to produce at once (the outbox retries)."""
    if label not in VERDICTS:
        raise BadRequestError(f"verdict must be one of {', '.join(VERDICTS)}")
    if note is not None and not isinstance(note, str):
        raise BadRequestError("note must be text")
    if note and len(note) > MAX_NOTE:
        raise BadRequestError(f"note is longer than {MAX_NOTE} characters")
    store = request.app[STORE]
    chosen: VerdictLabel = label
    verdict = store.decide(article_id, reviewer_of(request).name, chosen, (note or "").strip())
    await asyncio.to_thread(request.app[SINK].flush_pending)
    produced = all(v.article_id != article_id for v in store.pending_verdicts())
    return _loads(verdict.to_json()), produced


def _loads(value: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(value)
    return loaded

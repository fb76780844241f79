"""What the review app's handlers share: app and request keys, and the decide steps."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any, Protocol

from aiohttp import web

from service.errors import ClaimwatchError
from service.review.auth import Authenticator, Reviewer
from service.review.claims_store import ClaimStore
from service.review.records import VERDICTS, VerdictLabel
from service.review.store import ReviewConflictError, ReviewStore

MAX_NOTE = 2000


class VerdictSink(Protocol):
    """Where decided verdicts go (Kafka in production, a fake in tests)."""

    def flush_pending(self) -> int: ...
    def close(self) -> None: ...


class Outboxes:
    """Several sinks flushed and closed as one (verdicts, claim memberships)."""

    def __init__(self, *sinks: VerdictSink) -> None:
        self.sinks = sinks

    def flush_pending(self) -> int:
        return sum(sink.flush_pending() for sink in self.sinks)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()


class BadRequestError(ClaimwatchError):
    code = "bad_request"


STORE = web.AppKey("store", ReviewStore)
CLAIMS = web.AppKey("claims", ClaimStore)
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
    chosen, text = _checked(label, note)
    store = request.app[STORE]
    verdict = store.decide(article_id, reviewer_of(request).name, chosen, text)
    await asyncio.to_thread(request.app[SINK].flush_pending)
    produced = all(v.article_id != article_id for v in store.pending_verdicts())
    return _loads(verdict.to_json()), produced


async def decide_cluster(
    request: web.Request, cluster_id: str, article_ids: Sequence[str], label: object, note: object
) -> tuple[list[dict[str, Any]], bool]:
    """One verdict for the cluster's queued members the reviewer saw (``article_ids``; all
    queued members when empty): one verdict record each, all with ``cluster_id``.

    Refused when one of them has left the cluster (a split) or the queue meanwhile.
    """
    chosen, text = _checked(label, note)
    _, members = request.app[CLAIMS].cluster(cluster_id)
    queued = [m.item.record.article_id for m in members if m.item.status == "queued"]
    wanted = list(dict.fromkeys(article_ids)) or queued
    moved = [article_id for article_id in wanted if article_id not in queued]
    if moved:
        raise ReviewConflictError(
            f"{', '.join(moved)} left the cluster or the queue meanwhile: reload the cluster"
        )
    store = request.app[STORE]
    verdicts = store.decide_all(
        wanted, reviewer_of(request).name, chosen, text, cluster_id=cluster_id
    )
    await asyncio.to_thread(request.app[SINK].flush_pending)
    pending = {v.article_id for v in store.pending_verdicts()}
    return [_loads(v.to_json()) for v in verdicts], not pending & set(wanted)


def _checked(label: object, note: object) -> tuple[VerdictLabel, str]:
    if label not in VERDICTS:
        raise BadRequestError(f"verdict must be one of {', '.join(VERDICTS)}")
    if note is not None and not isinstance(note, str):
        raise BadRequestError("note must be text")
    if note and len(note) > MAX_NOTE:
        raise BadRequestError(f"note is longer than {MAX_NOTE} characters")
    chosen: VerdictLabel = label
    return chosen, (note or "").strip()


def _loads(value: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(value)
    return loaded

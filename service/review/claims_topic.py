"""Memberships out: the store's outbox of claim memberships, produced to ``articles.claims``
(key = cluster id) the way verdicts are (:mod:`service.review.outbox`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.review.claims_store import ClaimStore
from service.review.outbox import OutboxPublisher, Pending


class ClaimPublisher(OutboxPublisher):
    """Sends pending memberships to ``topic``, oldest first."""

    what = "claim membership"

    def __init__(
        self,
        claims: ClaimStore,
        kafka_config: Mapping[str, Any],
        topic: str,
        timeout_s: float = 10.0,
    ) -> None:
        super().__init__(kafka_config, topic, timeout_s)
        self.claims = claims

    def pending(self) -> list[Pending]:
        return list(self.claims.pending_messages())

    def mark_produced(self, handle: Any) -> None:
        self.claims.mark_produced(handle)

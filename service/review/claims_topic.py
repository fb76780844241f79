"""Memberships out: the store's outbox of claim memberships, produced to ``articles.claims``.

As with verdicts (:mod:`service.review.verdicts`), a membership is committed to
SQLite first, then sent (key = cluster id, acks=all) and marked once Kafka has
acknowledged it; anything unacknowledged is sent again, so a broker outage delays
memberships but loses none (a crash between the ack and the mark may send one twice).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from service.errors import ClaimwatchError
from service.review.claims_store import ClaimStore
from service.review.kafka_io import make_producer

log = logging.getLogger(__name__)


class ClaimPublisher:
    """Sends pending memberships to ``topic``, oldest first; safe to call from several threads."""

    def __init__(
        self,
        claims: ClaimStore,
        kafka_config: Mapping[str, Any],
        topic: str,
        timeout_s: float = 10.0,
    ) -> None:
        self.claims = claims
        self.kafka_config = dict(kafka_config)
        self.topic = topic
        self.timeout_s = timeout_s
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def flush_pending(self) -> int:
        """Produce every unacknowledged membership in order; return how many went out."""
        sent = 0
        with self._lock:
            for outbox_id, key, value in self.claims.pending_messages():
                try:
                    producer = self._producer or make_producer(self.kafka_config)
                    self._producer = producer
                    producer.send(self.topic, key=key.encode(), value=value).get(
                        timeout=self.timeout_s
                    )
                except (KafkaError, ClaimwatchError) as error:
                    log.warning("claim membership %d not produced yet: %s", outbox_id, error)
                    break
                self.claims.mark_produced(outbox_id)
                sent += 1
        return sent

    def close(self) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.close(timeout=self.timeout_s)
                self._producer = None

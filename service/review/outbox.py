"""Sending a SQLite outbox to Kafka: the one loop behind verdicts and claim memberships.

A message is committed to SQLite first, then sent (acks=all) and marked once Kafka has
acknowledged it; anything unacknowledged is sent again on the next flush, in order,
so a broker outage delays messages but loses none (a crash between the ack and the
mark may send one twice).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from service.errors import ClaimwatchError
from service.review.kafka_io import make_producer

log = logging.getLogger(__name__)

Pending = tuple[Any, str, bytes]  # (outbox handle, key, value)


class OutboxPublisher:
    """Produces :meth:`pending` messages to ``topic``, oldest first, marking each with
    :meth:`mark_produced` once acknowledged; safe to call from several threads."""

    what = "message"  # for the log line of a message not produced yet

    def __init__(
        self, kafka_config: Mapping[str, Any], topic: str, timeout_s: float = 10.0
    ) -> None:
        self.kafka_config = dict(kafka_config)
        self.topic = topic
        self.timeout_s = timeout_s
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def pending(self) -> list[Pending]:
        raise NotImplementedError

    def mark_produced(self, handle: Any) -> None:
        raise NotImplementedError

    def flush_pending(self) -> int:
        """Produce every unacknowledged message in order; return how many went out."""
        sent = 0
        with self._lock:
            for handle, key, value in self.pending():
                try:
                    producer = self._producer or make_producer(self.kafka_config)
                    self._producer = producer
                    producer.send(self.topic, key=key.encode(), value=value).get(
                        timeout=self.timeout_s
                    )
                except (KafkaError, ClaimwatchError) as error:
                    log.warning("%s %s not produced yet: %s", self.what, handle, error)
                    break
                self.mark_produced(handle)
                sent += 1
        return sent

    def close(self) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.close(timeout=self.timeout_s)
                self._producer = None

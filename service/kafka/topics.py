"""Create claimwatch's topics idempotently with kafka-python's admin client."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from service.reach import check_access, unreachable

# How long a command waits for the first answer of the cluster: long enough for a
# remote TLS handshake, short enough that a newcomer with no broker is told soon.
CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication: int
    config: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TopicsReport:
    created: list[str]
    existing: list[str]


def admin_client(
    client_config: dict[str, Any],
    timeout_s: float = 30.0,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
) -> KafkaAdminClient:
    """An admin client whose requests may take ``timeout_s``, or
    :class:`KafkaUnavailableError` naming the servers when none answers within
    ``connect_timeout_s``; :class:`KafkaRefusedError` when it refuses our credentials
    or certificate."""
    check_access(client_config, connect_timeout_s)
    try:
        return KafkaAdminClient(
            client_id="claimwatch-admin",
            request_timeout_ms=int(timeout_s * 1000),
            api_version_auto_timeout_ms=int(connect_timeout_s * 1000),
            **client_config,
        )
    except KafkaError as error:
        raise unreachable(client_config, error) from None


def ensure_topics(admin: KafkaAdminClient, specs: Iterable[TopicSpec]) -> TopicsReport:
    """Create each topic that does not exist yet; existing ones are left as they are."""
    wanted = list(specs)
    present = set(admin.list_topics())
    missing = [spec for spec in wanted if spec.name not in present]
    created: list[str] = []
    for spec in missing:
        topic = NewTopic(
            spec.name, spec.partitions, spec.replication, topic_configs=dict(spec.config)
        )
        try:
            admin.create_topics([topic])
            created.append(spec.name)
        except TopicAlreadyExistsError:
            pass  # created concurrently by someone else: fine, that is the goal
    if created:
        wait_for_leaders(admin, created)
    existing = [spec.name for spec in wanted if spec.name not in created]
    return TopicsReport(created, existing)


def wait_for_leaders(admin: KafkaAdminClient, names: list[str], timeout_s: float = 30.0) -> None:
    """Return once every partition of ``names`` has a leader (new topics need a moment)."""
    deadline = time.monotonic() + timeout_s
    while True:
        described = admin.describe_topics(names)
        ready = all(
            topic.get("error_code", 0) == 0
            and topic["partitions"]
            and all(p.get("leader", p.get("leader_id", -1)) >= 0 for p in topic["partitions"])
            for topic in described
        )
        if ready or time.monotonic() > deadline:
            return
        time.sleep(0.2)


def partition_leader(client_config: dict[str, Any], topic: str, partition: int) -> int:
    """The id of the broker leading ``partition`` of ``topic`` (-1 while it has none)."""
    admin = admin_client(client_config)
    try:
        [described] = admin.describe_topics([topic])
    finally:
        admin.close()
    [found] = [
        p for p in described["partitions"]
        if p.get("partition_index", p.get("partition")) == partition
    ]
    return int(found.get("leader_id", found.get("leader", -1)))

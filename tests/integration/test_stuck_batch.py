"""A worker whose batch cannot be published says so, and recovers once it can.

The scored topic is created with a maximum message size smaller than any decision,
so the broker refuses every batch (MESSAGE_TOO_LARGE, not retried by the producer):
the batch loop retries it with backoff, `/readyz` turns 503 past
`CLAIMWATCH_STUCK_BATCH_S` naming the problem, and the gauge shows how long. Raising
the limit lets the batch through: readiness and the gauge come back, and every
article is decided.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from kafka.admin import ConfigResource, ConfigResourceType
from worker_proc import TopicReader, WorkerProcess, article, produce, synthetic_articles, wait_until

from service.kafka.topics import TopicSpec, admin_client, ensure_topics
from service.settings import Settings

STUCK_S = 3.0
TINY_MESSAGES = (("max.message.bytes", "64"),)


def failing_seconds(worker: WorkerProcess) -> float:
    with urllib.request.urlopen(worker.url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    found = re.search(r"^claimwatch_batch_failing_seconds (\S+)$", text, re.MULTILINE)
    assert found, "claimwatch_batch_failing_seconds is not exported"
    return float(found.group(1))


def test_a_batch_the_broker_refuses_turns_readiness_false_until_it_goes_through(
    broker_settings: Settings, tmp_path: Path, create_topics: Callable[..., list[str]]
) -> None:
    settings = replace(broker_settings, stuck_batch_s=STUCK_S, topic_partitions=1)
    admin = admin_client(settings.kafka_client_config())
    ids: set[str] = set()
    worker = WorkerProcess(settings, tmp_path)
    reader = None
    try:
        ensure_topics(admin, [TopicSpec(settings.topic_scored, 1, 1, TINY_MESSAGES)])
        create_topics(partitions=1)  # the others; the scored topic exists already
        worker.start().wait_ready(120)
        articles = synthetic_articles(20, "stuck")
        ids = {article_id for article_id, _ in articles}
        produce(settings, [article(i, text) for i, text in articles])

        def stuck() -> dict[str, object] | None:
            worker.assert_alive()
            answer = worker.get("/readyz")
            return answer[1] if answer and answer[0] == 503 else None

        body = wait_until(stuck, 90, "/readyz to turn 503", every_s=0.25)
        assert any("CLAIMWATCH_STUCK_BATCH_S" in p for p in body["problems"]), body
        assert body["batch_failing_s"] > STUCK_S
        assert failing_seconds(worker) > STUCK_S

        admin.alter_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC,
                    settings.topic_scored,
                    configs={"max.message.bytes": "1048588"},
                )
            ]
        )
        worker.wait_ready(90)
        reader = TopicReader(settings, [settings.topic_scored, settings.topic_deadletter])
        reader.read_until(lambda: reader.accounted() >= ids, 60, "every article decided")
        assert failing_seconds(worker) == 0.0
    finally:
        worker.ensure_stopped()
        admin.close()
        if reader is not None:
            reader.close()
    assert "publishing a batch of" in worker.log_path.read_text()

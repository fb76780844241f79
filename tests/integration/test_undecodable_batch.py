"""A batch the worker's client cannot decode stops its partition, loudly, not the worker.

How the undecodable batch is made: the worker runs with cramjam hidden
(``without_cramjam/`` leads its PYTHONPATH), so aiokafka has no snappy codec, and a
librdkafka producer writes a snappy batch between two uncompressed ones. That is the
failure upstream producers caused before the codecs were dependencies, and what any
batch the client cannot decode looks like to the worker: aiokafka raises while the
batch's records are read. A batch with a broken CRC takes the same path
(``tests/unit/service/test_faust_fixes.py`` shows aiokafka's CRC error located).

The test proves: the worker stays up; what comes before the bad batch, and every
other partition, is decided; nothing at or after the bad batch is decided or committed;
one log line names the topic, partition and offset; ``/readyz`` answers 503 saying
so; the counter and the gauge show it; SIGTERM still stops the worker cleanly.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from worker_proc import ROOT, TopicReader, WorkerProcess, wait_until

from service.settings import Settings

HIDE_CRAMJAM = Path(__file__).parent / "without_cramjam"
TEXT = "The minister reportedly approved the contract, a claim her office denied."


def send(settings: Settings, codec: str, partition: int, ids: list[str]) -> None:
    """One batch of ``ids`` to ``partition``, compressed with ``codec``."""
    producer = Producer({"bootstrap.servers": settings.bootstrap_servers, "compression.type": codec,
                         "linger.ms": 50})  # fmt: skip
    for article_id in ids:
        value = json.dumps({"id": article_id, "text": f"{TEXT} ({article_id})"}).encode()
        producer.produce(settings.topic_articles, value=value, partition=partition)
    assert producer.flush(30) == 0


def metric(text: str, name: str) -> float:
    [value] = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name)]
    return value


def test_an_undecodable_batch_stops_its_partition_not_the_worker(
    broker_settings: Settings, create_topics: Callable[..., list[str]], tmp_path: Path
) -> None:
    create_topics(partitions=2)
    settings = Settings(**{**broker_settings.__dict__, "topic_partitions": 2})
    send(settings, "none", 0, ["p0-before-1", "p0-before-2"])  # offsets 0, 1
    send(settings, "snappy", 0, ["p0-snappy-1", "p0-snappy-2"])  # offsets 2, 3
    send(settings, "none", 0, ["p0-after"])  # offset 4
    send(settings, "none", 1, ["p1-1", "p1-2"])
    path = os.pathsep.join([str(HIDE_CRAMJAM), str(ROOT), str(Path(__file__).parent)])
    worker = WorkerProcess(settings, tmp_path).start(
        {"PYTHONPATH": path, "CLAIMWATCH_COMPRESSION": "gzip"}  # gzip needs no cramjam
    )
    reader = TopicReader(settings, [settings.topic_scored, settings.topic_deadletter])
    try:
        reader.read_until(lambda: reader.count(settings.topic_scored) >= 4, 90, "4 decisions")

        def not_ready() -> Any:
            worker.assert_alive()
            answer = worker.get("/readyz")
            return answer if answer and answer[0] == 503 and answer[1]["undecodable"] else None

        _, body = wait_until(not_ready, 30, "/readyz to report the stopped partition")
        problem = (
            f"partition 0 of {settings.topic_articles} is stopped at offset 2: its record batch"
            " cannot be decoded (UnsupportedCodecError: Libraries for snappy compression codec"
            " not found)"
        )
        assert body["problems"] == [problem]
        assert body["undecodable"] == [
            {
                "topic": settings.topic_articles,
                "partition": 0,
                "offset": 2,
                "error": "UnsupportedCodecError: Libraries for snappy compression codec not found",
            }
        ]
        metrics = wait_until(lambda: worker_metrics(worker), 10, "/metrics")
        assert metric(metrics, "claimwatch_undecodable_batches_total{") == 1
        assert metric(metrics, "claimwatch_undecodable_partitions ") == 1
        # committed up to the bad batch in partition 0, and to the end of partition 1
        wait_until(lambda: committed(worker) == {"0": 2, "1": 2}, 15, "the commits")
        reader.read_to_end()
        worker.assert_alive()
        assert worker.stop() == 0
    finally:
        worker.ensure_stopped()
        reader.close()
    assert sorted(reader.ids(settings.topic_scored)) == [
        "p0-before-1", "p0-before-2", "p1-1", "p1-2",
    ]  # fmt: skip
    assert reader.count(settings.topic_deadletter) == 0
    log = worker.log_path.read_text(errors="replace")
    lines = [line for line in log.splitlines() if "cannot decode the record batch" in line]
    assert len(lines) == 1, lines
    assert re.search(
        rf"ERROR claimwatch.undecodable: cannot decode the record batch at "
        rf"{re.escape(settings.topic_articles)} partition 0 offset 2 \(UnsupportedCodecError: "
        r"Libraries for snappy compression codec not found\)",
        lines[0],
    ), lines[0]


def committed(worker: WorkerProcess) -> dict[str, Any] | None:
    answer = worker.get("/stats/consumer")
    if not answer or answer[0] != 200:
        return None
    return {p: state["committed"] for p, state in answer[1]["partitions"].items()}


def worker_metrics(worker: WorkerProcess) -> str | None:
    import urllib.request

    try:
        with urllib.request.urlopen(worker.url + "/metrics", timeout=5) as response:
            return str(response.read().decode())
    except OSError:
        return None

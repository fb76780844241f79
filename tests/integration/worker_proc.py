"""Run `claimwatch worker` as a subprocess for the broker tests, and talk to Kafka.

The worker is configured only through ``CLAIMWATCH_*`` variables built from a
:class:`Settings`, exactly as a deployment would, on a free web port; helpers wait
for ``/readyz`` and for records with deadlines, never with bare sleeps.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from service.settings import PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
# Worker log lines about offsets, batches and the group (WorkerProcess.notable_lines).
NOTABLE = re.compile(
    r"handing back|reading again|arrived before|CommitNotDone|committed offsets of"
    r"|failed|Traceback| ERROR | WARNING |[Rr]ebalanc|generation|Worker ready"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_env(settings: Settings) -> dict[str, str]:
    """``CLAIMWATCH_*`` variables that reproduce ``settings`` (None fields left unset)."""
    env: dict[str, str] = {}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if value is not None:
            env[PREFIX + f.name.upper()] = str(value)
    return env


def wait_until(
    condition: Callable[[], Any], timeout_s: float, what: str, every_s: float = 0.1
) -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(every_s)


class WorkerProcess:
    """One `claimwatch worker` subprocess with its own web port and log file."""

    def __init__(
        self,
        settings: Settings,
        log_dir: Path,
        name: str = "worker",
        module: str = "service.cli",
    ) -> None:
        self.port = free_port()
        self.settings = settings
        self.module = module  # or a test double of the CLI in tests/integration
        self.log_path = log_dir / f"{name}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, extra_env: dict[str, str] | None = None) -> WorkerProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
        env.update(settings_env(self.settings))
        path = os.pathsep.join([str(ROOT), str(Path(__file__).parent)])
        env.update({f"{PREFIX}WEB_PORT": str(self.port), "PYTHONPATH": path})
        env.update(extra_env or {})
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module, "worker"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> tuple[int, dict[str, Any]] | None:
        """(status, JSON body) of a GET on the worker's web server, None if unreachable."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")
        except (OSError, ValueError):
            return None

    def readiness(self) -> dict[str, Any]:
        answer = self.get("/readyz")
        return answer[1] if answer else {}

    def wait_ready(self, timeout_s: float = 60.0) -> dict[str, Any]:
        def ready() -> dict[str, Any] | None:
            self.assert_alive()
            answer = self.get("/readyz")
            return answer[1] if answer and answer[0] == 200 else None

        return wait_until(ready, timeout_s, f"/readyz of {self.describe()}", every_s=0.25)

    def assert_alive(self) -> None:
        assert self.process is not None
        code = self.process.poll()
        if code is not None:
            raise AssertionError(f"worker exited with {code}:\n{self.log_tail()}")

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.wait_exit(30)

    def stop(self, timeout_s: float = 60.0) -> int:
        """SIGTERM and wait: the exit code of a graceful shutdown."""
        self.signal(signal.SIGTERM)
        return self.wait_exit(timeout_s)

    def wait_exit(self, timeout_s: float) -> int:
        assert self.process is not None
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"worker did not exit:\n{self.log_tail()}") from None

    def ensure_stopped(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def notable_lines(self, lines: int = 30) -> str:
        """The log's last lines about offsets and batches (hand-backs, re-reads, gaps,
        refused commits, failures): what a task dump at the end of the log hides."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        kept = [line for line in text.splitlines() if NOTABLE.search(line)]
        return "\n".join(kept[-lines:])

    def describe(self) -> str:
        state = self.get("/stats/consumer")
        consumer = json.dumps(state[1], sort_keys=True) if state else "(no answer)"
        return (
            f"worker on port {self.port} (log {self.log_path.name}):\n{self.log_tail()}\n"
            f"offsets and batches, latest:\n{self.notable_lines()}\n"
            f"consumer state: {consumer}"
        )


def produce(
    settings: Settings,
    messages: Iterable[tuple[bytes | None, bytes | None]],
    partition_of: Callable[[int], int | None] | None = None,
) -> int:
    """Send ``(key, value)`` pairs to the articles topic and wait for every ack."""
    producer = KafkaProducer(
        **settings.kafka_client_config(), acks="all", linger_ms=5, max_request_size=4_000_000
    )
    sent = 0
    try:
        futures = []
        for index, (key, value) in enumerate(messages):
            partition = partition_of(index) if partition_of else None
            futures.append(
                producer.send(settings.topic_articles, key=key, value=value, partition=partition)
            )
            sent += 1
        producer.flush(60)
        for future in futures:
            future.get(timeout=60)
    finally:
        producer.close(10)
    return sent


@dataclass(frozen=True)
class Consumed:
    partition: int
    offset: int
    key: bytes | None
    value: dict[str, Any]


class TopicReader:
    """Reads whole topics from the beginning, incrementally, without a consumer group."""

    def __init__(self, settings: Settings, topics: list[str], read_committed: bool = False):
        self.consumer = KafkaConsumer(
            **settings.kafka_client_config(),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed" if read_committed else "read_uncommitted",
            fetch_max_bytes=50_000_000,
            max_partition_fetch_bytes=10_000_000,
        )
        self.topics = topics
        self.dead_letter_topic = settings.topic_deadletter
        self.records: dict[str, list[Consumed]] = {topic: [] for topic in topics}
        self._assign()

    def _assign(self) -> None:
        partitions = []
        for topic in self.topics:
            found = wait_until(
                lambda topic=topic: self.consumer.partitions_for_topic(topic),
                30,
                f"metadata of {topic}",
            )
            partitions += [TopicPartition(topic, p) for p in sorted(found)]
        self.consumer.assign(partitions)
        self.consumer.seek_to_beginning(*partitions)

    def poll(self) -> int:
        """Fetch what is available now; the number of new records."""
        new = 0
        for tp, batch in self.consumer.poll(timeout_ms=200, max_records=100_000).items():
            for record in batch:
                value = json.loads(record.value) if record.value is not None else {}
                self.records[tp.topic].append(
                    Consumed(record.partition, record.offset, record.key, value)
                )
                new += 1
        return new

    def read_until(self, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        def done() -> bool:
            self.poll()
            return condition()

        wait_until(done, timeout_s, what, every_s=0.0)

    def read_to_end(self, timeout_s: float = 30.0) -> None:
        """Read every record up to the current end (last stable offset when committed-only)."""
        assignment = list(self.consumer.assignment())
        ends = self.consumer.end_offsets(assignment)

        def at_end() -> bool:
            self.poll()
            return all(self.consumer.position(tp) >= end for tp, end in ends.items())

        wait_until(at_end, timeout_s, "the end of the output topics", every_s=0.0)

    def ids(self, topic: str) -> list[str]:
        """Article ids behind the records of an output topic (dead letters: their key)."""
        kind = "deadletter" if topic == self.dead_letter_topic else "decision"
        return [id_of(record, kind) for record in self.records[topic]]

    def accounted(self) -> set[str]:
        """Article ids with an outcome on any topic read (decisions and dead letters)."""
        return {article_id for topic in self.topics for article_id in self.ids(topic)}

    def count(self, topic: str) -> int:
        return len(self.records[topic])

    def close(self) -> None:
        self.consumer.close()


def article(article_id: str, text: str, **fields: Any) -> tuple[bytes, bytes]:
    """A valid ``(key, value)`` message for the articles topic."""
    body = {"id": article_id, "text": text, **fields}
    return article_id.encode(), json.dumps(body).encode()


CLAUSES = (
    "The minister reportedly approved the contract before the vote.",
    "Her office denied that any payment took place.",
    "The council met on Tuesday to discuss the new budget.",
    "Critics say the figures could not be independently verified.",
    "Rail services will run on a reduced timetable during the holiday.",
    "The company claimed record profits, a claim analysts disputed.",
    "Local schools reopened after the storm.",
    "According to unnamed sources, the deal was allegedly signed in secret.",
)


def synthetic_text(index: int) -> str:
    """A short news-like text; different indexes give different cue mixes and words."""
    picks = [CLAUSES[(index * k + k) % len(CLAUSES)] for k in (1, 3, 5)]
    return f"Report {index}. " + " ".join(picks)


def synthetic_articles(count: int, prefix: str) -> list[tuple[str, str]]:
    return [(f"{prefix}{i}", synthetic_text(i)) for i in range(count)]


def id_of(record: Consumed, topic_kind: str) -> str:
    """The article id behind an output record (``topic_kind`` "deadletter": its key)."""
    if topic_kind == "deadletter":
        return str(record.value["key"])
    return str(record.value["article_id"])


def stop_all(workers: Iterable[WorkerProcess]) -> None:
    for worker in workers:
        worker.ensure_stopped()

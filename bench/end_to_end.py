"""End-to-end measurements through a real broker: workers, the naive loop, latency.

Two ways to feed a run:

- **backlog** (throughput): every article is put on the topic first, inside one
  Kafka transaction, while the workers wait (they read only committed messages);
  the clock starts when the transaction commits and stops at the timestamp of the
  last decision. The workers drain a backlog, as after an outage or a burst, and
  the bench's own producer is not competing with them for the CPU.
- **stream**: the bench produces while the workers consume (flat out, or at a fixed
  rate for latency), from the first input's timestamp to the last decision's.

Either way the decisions are read only once they are all on the broker (the bench
watches the output topic's end offsets meanwhile, which costs next to nothing), so
reading them takes no CPU from the run. Times come from Kafka record timestamps: a
decision's is set by the worker's producer when it sends it, so ``decision - its
input`` is one article's end-to-end latency.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from service.kafka.produce import produce_lines
from service.kafka.topics import TopicSpec, admin_client, ensure_topics
from service.settings import Settings
from tests.integration.worker_proc import WorkerProcess, wait_until

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Outcome:
    """Decisions of one run: per article id, (decision timestamp, input timestamp) in ms."""

    articles: int
    stamps: dict[str, tuple[int, int]] = field(default_factory=dict)
    started_ms: int | None = None  # backlog: when the transaction committed
    peak_rss_mb: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)  # per worker, with its scoring process
    bench_cpu_s: float = 0.0  # this process during the run: its producer, the offset watch
    machine_cpu_s: float = 0.0  # every core's busy time, whoever used it (the broker too)

    @property
    def other_cpu_s(self) -> float:
        """CPU the machine spent on neither the workers nor this process: the broker."""
        return max(0.0, self.machine_cpu_s - sum(self.cpu_s) - self.bench_cpu_s)

    @property
    def seconds(self) -> float:
        started = self.started_ms
        if started is None:
            started = min(received for _, received in self.stamps.values())
        last_decision = max(decided for decided, _ in self.stamps.values())
        return max(last_decision - started, 1) / 1000

    @property
    def rate(self) -> float:
        return len(self.stamps) / self.seconds

    def latency_ms(self, quantile: float) -> float:
        latencies = sorted(decided - received for decided, received in self.stamps.values())
        index = min(len(latencies) - 1, max(0, round(quantile * len(latencies)) - 1))
        return float(latencies[index])


def new_settings(bootstrap: str, work: Path, partitions: int) -> Settings:
    """Private topics, group and data directory for one scenario."""
    tag = uuid.uuid4().hex[:8]
    prefix = f"bench{tag}."
    return Settings(
        bootstrap_servers=bootstrap,
        home=work / "home",
        app_id=f"claimwatch-bench-{tag}",
        data_dir=work / f"worker-{tag}",
        topic_articles=prefix + "articles",
        topic_flagged=prefix + "articles.flagged",
        topic_scored=prefix + "articles.scored",
        topic_deadletter=prefix + "articles.deadletter",
        topic_verdicts=prefix + "articles.verdicts",
        topic_claims=prefix + "articles.claims",
        topic_partitions=partitions,
    )


def create_topics(settings: Settings) -> None:
    admin = admin_client(settings.kafka_client_config())
    try:
        specs = [TopicSpec(name, settings.topic_partitions, 1) for name in settings.topics.all()]
        ensure_topics(admin, specs)
    finally:
        admin.close()


def article_producer(settings: Settings, **config: Any) -> KafkaProducer:
    return KafkaProducer(
        **settings.kafka_client_config(), linger_ms=5, max_request_size=4_000_000, **config
    )


def send(settings: Settings, lines: list[bytes], rate: float | None = None) -> None:
    """Produce ``lines`` to the articles topic (keys = ids), at ``rate`` per second if given."""
    producer = article_producer(settings, acks="all")
    try:
        summary = produce_lines(producer, settings.topic_articles, lines, rate=rate)
    finally:
        producer.close(10)
    if summary.sent != len(lines):
        raise RuntimeError(f"producing failed: {summary.describe(settings.topic_articles)}")


@contextmanager
def backlog(settings: Settings, lines: list[bytes]) -> Iterator[Callable[[], None]]:
    """Put ``lines`` on the articles topic in one open transaction; yields the function
    that commits it. Until then no reader of committed messages sees any of them."""
    producer = article_producer(settings, transactional_id=f"bench-{settings.app_id}")
    try:
        producer.init_transactions()
        producer.begin_transaction()
        summary = produce_lines(producer, settings.topic_articles, lines)
        if summary.sent != len(lines):
            raise RuntimeError(f"producing failed: {summary.describe(settings.topic_articles)}")
        yield producer.commit_transaction
    finally:
        producer.close(10)


class RecordCount:
    """How many records a (new, not transactional) topic holds, from its end offsets
    alone: cheap enough to watch without disturbing the run being measured."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self.topic = topic
        self.consumer = KafkaConsumer(**settings.kafka_client_config(), group_id=None)
        found = wait_until(
            lambda: self.consumer.partitions_for_topic(topic), 30, f"metadata {topic}"
        )
        self.partitions = [TopicPartition(topic, p) for p in sorted(found)]

    def now(self) -> int:
        return sum(self.consumer.end_offsets(self.partitions).values())

    def wait_for(self, count: int, timeout_s: float) -> None:
        wait_until(lambda: self.now() >= count, timeout_s, f"{count} records on {self.topic}", 0.02)

    def close(self) -> None:
        self.consumer.close()


def collect(settings: Settings, topic: str, ids: set[str], timeout_s: float) -> Outcome:
    """Read ``topic`` from the start until every id in ``ids`` has a decision."""
    consumer = KafkaConsumer(
        **settings.kafka_client_config(),
        group_id=None,
        enable_auto_commit=False,
        fetch_max_bytes=50_000_000,
        max_partition_fetch_bytes=10_000_000,
    )
    outcome = Outcome(len(ids))
    try:
        found = wait_until(lambda: consumer.partitions_for_topic(topic), 30, f"metadata {topic}")
        partitions = [TopicPartition(topic, p) for p in sorted(found)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)

        def complete() -> bool:
            for batch in consumer.poll(timeout_ms=500, max_records=50_000).values():
                for record in batch:
                    decision = json.loads(record.value)
                    if decision["article_id"] in ids:
                        outcome.stamps.setdefault(
                            decision["article_id"], (record.timestamp, decision["received_at_ms"])
                        )
            return len(outcome.stamps) >= len(ids)

        wait_until(complete, timeout_s, f"{len(ids)} decisions on {topic}", every_s=0.0)
    finally:
        consumer.close()
    return outcome


def proc_status_mb(pid: int, field_name: str) -> float:
    """A ``/proc/PID/status`` memory field (VmRSS, VmHWM) in MB; 0 if unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def family(pid: int) -> list[int]:
    """``pid`` and its child processes (a worker and its scoring process)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields_after_name = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields_after_name[1]) == pid:
            children.append(int(stat.parent.name))
    return [pid, *sorted(children)]


def family_cpu_seconds(pid: int) -> float:
    return sum(cpu_seconds(member) for member in family(pid))


def family_peak_rss_mb(pid: int) -> float:
    """Peak RSS of a worker plus its scoring process (sum of each one's peak: an upper
    bound, as the two peaks need not coincide)."""
    return sum(proc_status_mb(member, "VmHWM") for member in family(pid))


def machine_busy_seconds() -> float:
    """CPU time all cores have spent busy since boot (``/proc/stat``: all but idle and
    iowait); 0 if unreadable."""
    try:
        fields_ = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    return (sum(fields_) - fields_[3] - fields_[4]) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    after_name = stat.rsplit(")", 1)[1].split()
    return (int(after_name[11]) + int(after_name[12])) / os.sysconf("SC_CLK_TCK")


class Workers:
    """``count`` claimwatch workers in one consumer group on private topics."""

    def __init__(
        self, bootstrap: str, work: Path, count: int, partitions: int, **overrides: Any
    ) -> None:
        self.settings = replace(new_settings(bootstrap, work, partitions), **overrides)
        logs = work / "logs"
        self.procs = [WorkerProcess(self.settings, logs, f"worker{i}") for i in range(count)]

    def __enter__(self) -> Workers:
        create_topics(self.settings)
        for proc in self.procs:
            proc.start()
        wait_until(self._balanced, 120, "every partition assigned to a ready worker", 0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.ensure_stopped()

    def _balanced(self) -> bool:
        assigned: list[str] = []
        for proc in self.procs:
            proc.assert_alive()
            answer = proc.get("/readyz")
            if not answer or answer[0] != 200:
                return False
            assigned += answer[1]["partitions"]
        return len(assigned) == len(set(assigned)) == self.settings.topic_partitions

    def pids(self) -> list[int]:
        return [proc.process.pid for proc in self.procs if proc.process is not None]

    def drain(self, lines: list[bytes]) -> Outcome:
        """Throughput: ``lines`` as a backlog released at once (see the module's doc)."""
        return self.measure(lines, held=True)

    def measure(self, lines: list[bytes], rate: float | None = None, held: bool = False) -> Outcome:
        """Produce ``lines`` (held back in a transaction, at ``rate`` per second, or flat
        out) and collect every decision, with the CPU each party used meanwhile."""
        return measure(self.settings, self.pids(), lines, rate, held, timeout_s=300)


def measure(
    settings: Settings,
    pids: list[int],
    lines: list[bytes],
    rate: float | None,
    held: bool,
    timeout_s: float,
) -> Outcome:
    """One run of the processes ``pids`` (each with its children) over ``lines``."""
    with (
        closing(RecordCount(settings, settings.topic_scored)) as decisions,
        backlog(settings, lines) if held else nullcontext() as release,
    ):
        expected = decisions.now() + len(lines)
        cpu_before = [family_cpu_seconds(pid) for pid in pids]
        bench_before, machine_before = time.process_time(), machine_busy_seconds()
        started_ms = int(time.time() * 1000)
        if release is not None:
            release()
        else:
            send(settings, lines, rate)
        decisions.wait_for(expected, timeout_s)
        cpu_s = [
            family_cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)
        ]
        bench_cpu_s = time.process_time() - bench_before
        machine_cpu_s = machine_busy_seconds() - machine_before
    outcome = collect(settings, settings.topic_scored, ids_of(lines), timeout_s)
    outcome.started_ms = started_ms if held else None
    outcome.cpu_s = cpu_s
    outcome.bench_cpu_s = bench_cpu_s
    outcome.machine_cpu_s = machine_cpu_s
    outcome.peak_rss_mb = [family_peak_rss_mb(pid) for pid in pids]
    return outcome


def run_naive(bootstrap: str, work: Path, lines: list[bytes], partitions: int) -> Outcome:
    """The per-message kafka-python loop over the same articles, as a backlog."""
    settings = new_settings(bootstrap, work, partitions)
    create_topics(settings)
    command = [
        sys.executable, "-m", "bench.naive_loop", "--bootstrap", bootstrap,
        "--input", settings.topic_articles, "--output", settings.topic_scored,
        "--group", settings.app_id, "--count", str(len(lines)),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the naive loop did not start")
        outcome = measure(settings, [process.pid], lines, None, held=True, timeout_s=600)
        process.wait(60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
    return outcome


def ids_of(lines: list[bytes]) -> set[str]:
    return {str(json.loads(line)["id"]) for line in lines}

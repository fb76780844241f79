"""`make chaos`: the standing failure drill, a lost-write and duplicate check under faults.

``python -m bench.chaos [--guarantees at_least_once,exactly_once] [--nodes 1|3]
[--rate 100] [--steps sigkill:0,sigstop:1,...] [--session-timeout-s 10]``

In the spirit of Kafka's OffsetValidationTest and Jepsen's lost-write check: for each
processing guarantee, a fresh pair of `claimwatch worker` processes shares 4 input
partitions on its own topics, a producer writes distinct articles at a steady rate
(idempotent, ``acks=all``: an article counts as *acknowledged* only once the broker
said so), and meanwhile the workers and the brokers are hurt one step at a time:

- ``sigkill:N`` — worker N is SIGKILLed and a new one started in its place;
- ``sigterm:N`` — worker N is stopped gracefully (SIGTERM) and replaced;
- ``sigstop:N`` — worker N is frozen (SIGSTOP) for the session timeout + 5 s, so the
  group hands its partitions to the other worker, then resumed (SIGCONT): the
  "zombie" a long GC pause or a stalled VM makes;
- ``broker`` — a broker is SIGKILLed and restarted (with one node: the only one;
  with three: a node that does not lead input partition 0);
- ``leader`` — the leader of input partition 0 is SIGKILLed and restarted (3 nodes).

When the steps are done the producer stops and the drill waits (bounded by
``--drain-timeout-s``) until every acknowledged article has an outcome on
``articles.scored`` or ``articles.deadletter``, then reports per guarantee:
acknowledged, decided, lost (acknowledged, never decided), duplicate decisions
(extra decisions of an article, read with ``read_committed`` under exactly-once),
workers alive at the end (a worker that exited by itself is a crash, with its last
log lines kept), and the time from the producer's stop to the last decision.

A run passes when nothing is lost, every worker is alive, the stream drained, and,
under exactly-once, no article is decided twice. Brokers run on free ports in a
temporary directory that is removed afterwards; worker logs of a run are copied to
``bench/results/chaos-logs/``, the figures to ``bench/results/chaos-<nodes>n.json``.

It scores with the v1 reference artifact (~7x the default v2's speed), so two
workers keep up with the producer on 2 shared cores and the faults, not the model,
decide how long the stream takes to drain.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from bench.end_to_end import new_settings
from bench.run import ROOT, machine
from models.artifact import v1_artifact
from service.kafka import cluster as kafka_cluster
from service.kafka.launcher import Cluster, Node, resolve_jars
from service.kafka.topics import TopicSpec, admin_client, ensure_topics, partition_leader
from service.settings import Settings, default_home
from tests.integration.worker_proc import TopicReader, WorkerProcess, synthetic_text, wait_until

PARTITIONS = 4
WORKERS = 2
GUARANTEES = ("at_least_once", "exactly_once")
# The full drill: every kind of fault, the zombie more than once, on both workers.
FULL_STEPS = "sigkill:0,sigstop:1,sigterm:0,broker,sigstop:0,sigkill:1,sigterm:1,sigstop:1"
STOP_PAST_TIMEOUT_S = 5.0  # a frozen worker stays frozen this long past its session timeout


def say(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------ the producer


class SteadyProducer:
    """Writes ``chaos-<tag>-<n>`` articles at ``rate`` per second from its own thread,
    and remembers which ones the broker acknowledged (``acks=all``, idempotent, so a
    retry over a broker restart never writes an article twice)."""

    def __init__(self, settings: Settings, tag: str, rate: float) -> None:
        self.settings, self.tag, self.rate = settings, tag, rate
        self.acknowledged: set[str] = set()
        self.failed = 0
        self.sent = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-producer", daemon=True)
        self.producer = KafkaProducer(
            **settings.kafka_client_config(),
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            max_block_ms=30_000,
            request_timeout_ms=10_000,
            delivery_timeout_ms=180_000,  # outlasts a broker restart
        )

    def start(self) -> SteadyProducer:
        self._thread.start()
        return self

    def _acked(self, article_id: str) -> Callable[[Any], None]:
        def done(_metadata: Any) -> None:
            with self._lock:
                self.acknowledged.add(article_id)

        return done

    def _failed(self, _error: Exception) -> None:
        with self._lock:
            self.failed += 1

    def _run(self) -> None:
        started = time.monotonic()
        n = 0
        while not self._stop.is_set():
            due = started + n / self.rate
            if (wait := due - time.monotonic()) > 0:
                self._stop.wait(wait)
                continue
            article_id = f"chaos-{self.tag}-{n}"
            body = {"id": article_id, "text": synthetic_text(n), "source": f"source-{n % 7}"}
            try:
                future = self.producer.send(
                    self.settings.topic_articles,
                    key=article_id.encode(),
                    value=json.dumps(body).encode(),
                )
            except KafkaError:  # blocked past max_block_ms (no broker): not acknowledged
                self.failed += 1
            else:
                future.add_callback(self._acked(article_id))
                future.add_errback(self._failed)
            self.sent += 1
            n += 1

    def stop(self) -> None:
        """Stop sending and wait for the outcome of everything sent."""
        self._stop.set()
        self._thread.join(60)
        self.producer.flush(200)
        self.producer.close(10)

    def acked(self) -> set[str]:
        with self._lock:
            return set(self.acknowledged)


# ------------------------------------------------------------------ the workers


@dataclass
class Crash:
    worker: str
    code: int | None
    last_lines: list[str]


class Crew:
    """Two worker slots; each fault replaces or freezes the process in a slot. A process
    that exits without being told to is a crash: recorded, and not replaced."""

    def __init__(self, settings: Settings, logs: Path) -> None:
        self.settings, self.logs = settings, logs
        self.slots: list[WorkerProcess | None] = [None] * WORKERS
        self.started = 0
        self.crashes: list[Crash] = []

    def start(self, slot: int) -> WorkerProcess:
        self.started += 1
        worker = WorkerProcess(self.settings, self.logs, f"w{slot}-{self.started}").start()
        self.slots[slot] = worker
        return worker

    def check(self) -> None:
        """Move workers that exited by themselves from their slot to :attr:`crashes`."""
        for slot, worker in enumerate(self.slots):
            if worker is None or worker.process is None:
                continue
            code = worker.process.poll()
            if code is not None:
                lines = worker.log_tail(400).splitlines()
                telling = [x for x in lines if "rror" in x or "rash" in x or "xception" in x]
                self.crashes.append(Crash(worker.log_path.name, code, telling[-6:]))
                say(f"worker {worker.log_path.name} exited by itself ({code})")
                self.slots[slot] = None

    def alive(self) -> list[WorkerProcess]:
        self.check()
        return [w for w in self.slots if w is not None]

    def wait_balanced(self, timeout_s: float) -> None:
        """Until every live worker is ready and together they own each partition once."""

        def balanced() -> bool:
            owned: list[str] = []
            for worker in self.alive():
                body = worker.readiness()
                if body.get("status") != "ready":
                    return False
                owned += body.get("partitions", [])
            return len(owned) == len(set(owned)) == PARTITIONS

        wait_until(balanced, timeout_s, "workers sharing every partition", every_s=0.5)

    def stop_all(self) -> None:
        for worker in self.slots:
            if worker is not None:
                if worker.process is not None and worker.process.poll() is None:
                    worker.signal(signal.SIGCONT)  # a frozen process cannot die gracefully
                worker.ensure_stopped()


# ------------------------------------------------------------------ the faults


@dataclass
class Drill:
    cluster: Cluster
    libs: Path
    crew: Crew
    session_timeout_s: float
    events: list[str] = field(default_factory=list)

    def note(self, event: str) -> None:
        self.events.append(event)
        say(event)

    def step(self, step: str) -> None:
        kind, _, target = step.partition(":")
        if kind in ("broker", "leader"):
            self.bounce_broker(leader=kind == "leader")
            return
        slot = int(target or 0)
        self.crew.check()
        worker = self.crew.slots[slot]
        if worker is None:
            self.note(f"{step}: worker {slot} is not running (crashed earlier), skipped")
            return
        name = worker.log_path.name
        if kind == "sigkill":
            worker.kill()
            self.crew.start(slot)
            self.note(f"{step}: SIGKILLed {name}, started a replacement")
        elif kind == "sigterm":
            code = worker.stop(90)
            self.crew.start(slot)
            self.note(f"{step}: SIGTERM {name} exited {code}, started a replacement")
        elif kind == "sigstop":
            frozen_s = self.session_timeout_s + STOP_PAST_TIMEOUT_S
            worker.signal(signal.SIGSTOP)
            time.sleep(frozen_s)
            worker.signal(signal.SIGCONT)
            self.note(f"{step}: froze {name} for {frozen_s:.0f} s, resumed it")
        else:
            raise ValueError(f"unknown step {step!r}")

    def settle(self, timeout_s: float) -> None:
        """Wait until the live workers share every partition again, so that faults come
        one at a time (a replacement still starting when the broker goes is a
        different drill); a group that does not settle is noted, and the drill goes on."""
        began = time.monotonic()
        try:
            self.crew.wait_balanced(timeout_s)
        except AssertionError:
            self.note(f"  workers did not share every partition within {timeout_s:.0f} s")
        else:
            self.note(f"  settled in {time.monotonic() - began:.1f} s")

    def bounce_broker(self, leader: bool) -> None:
        node = self.victim(leader)
        kafka_cluster.stop_node(self.cluster, node, kill=True)
        time.sleep(3)
        kafka_cluster.start_node(self.libs, self.cluster, node)
        kafka_cluster.wait_ready(self.cluster, 120)
        what = "the leader of input partition 0" if leader else "a broker"
        kind = "leader" if leader else "broker"
        self.note(f"{kind}: SIGKILLed {what} (node {node.node_id}), restarted it")

    def victim(self, leader: bool) -> Node:
        nodes = self.cluster.nodes
        if len(nodes) == 1:
            return nodes[0]
        first = leader_of_partition_zero(self.crew.settings)
        if leader:
            return next(n for n in nodes if n.node_id == first)
        return next(n for n in nodes if n.node_id != first)


def leader_of_partition_zero(settings: Settings) -> int:
    return partition_leader(settings.kafka_client_config(), settings.topic_articles, 0)


# ------------------------------------------------------------------ one guarantee


def create_topics(settings: Settings, nodes: int) -> None:
    replication = min(3, nodes)
    config = (("min.insync.replicas", "2"),) if replication == 3 else ()
    admin = admin_client(settings.kafka_client_config())
    try:
        specs = [
            TopicSpec(name, PARTITIONS, replication, config) for name in settings.topics.all()
        ]
        ensure_topics(admin, specs)
    finally:
        admin.close()


def run_guarantee(
    cluster: Cluster,
    libs: Path,
    work: Path,
    guarantee: str,
    steps: list[str],
    rate: float,
    session_timeout_s: float,
    gap_s: float,
    drain_timeout_s: float,
    settle_timeout_s: float = 120.0,
) -> dict[str, Any]:
    """One guarantee's drill from fresh topics and workers; its figures."""
    nodes = len(cluster.nodes)
    settings = replace(
        new_settings(cluster.bootstrap_servers, work, PARTITIONS),
        model_path=v1_artifact(),
        processing_guarantee=guarantee,
        session_timeout_s=session_timeout_s,
        topic_replication=min(3, nodes),
    )
    create_topics(settings, nodes)
    logs = work / "logs" / guarantee
    crew = Crew(settings, logs)
    drill = Drill(cluster, libs, crew, session_timeout_s)
    committed_only = guarantee == "exactly_once"
    started = time.monotonic()
    producer: SteadyProducer | None = None
    reader: TopicReader | None = None
    try:
        for slot in range(WORKERS):
            crew.start(slot)
        crew.wait_balanced(180)
        say(f"{guarantee}: {WORKERS} workers ready; producing {rate:g}/s")
        producer = SteadyProducer(settings, guarantee, rate).start()
        time.sleep(gap_s)
        for step in steps:
            drill.step(step)
            drill.settle(settle_timeout_s)
            time.sleep(gap_s)
        producer.stop()
        stopped = time.monotonic()
        acked = producer.acked()
        say(f"{guarantee}: producer stopped, {len(acked):,} acknowledged; draining")
        reader = TopicReader(
            settings, [settings.topic_scored, settings.topic_deadletter], committed_only
        )
        drain_s: float | None = None
        deadline = stopped + drain_timeout_s
        while time.monotonic() < deadline:
            reader.poll()
            if acked <= reader.accounted():
                drain_s = time.monotonic() - stopped
                break
            crew.check()
        if drain_s is None:  # where the live workers are stuck, into their logs
            for worker in crew.alive():
                worker.signal(signal.SIGCONT)
                worker.signal(signal.SIGQUIT)
        reader.read_to_end(60)  # every decision already written, for the duplicate count
        decided = acked & reader.accounted()
        counts = Counter(reader.ids(settings.topic_scored))
        sources: dict[str, list[tuple[int, int]]] = {}
        for record in reader.records[settings.topic_scored]:
            if counts[record.value["article_id"]] > 1:
                where = record.value["source"]
                sources.setdefault(record.value["article_id"], []).append(
                    (where["partition"], where["offset"])
                )
        alive = crew.alive()
        lost = sorted(acked - decided)
        result = {
            "guarantee": guarantee,
            "acknowledged": len(acked),
            "not_acknowledged": producer.sent - len(acked),
            "decided": len(decided),
            "lost": len(lost),
            "lost_examples": lost[:10],
            "lost_where": locate_lost(settings, lost[:10], logs) if lost else {},
            "duplicate_decisions": sum(n - 1 for n in counts.values() if n > 1),
            "articles_decided_twice_or_more": sum(1 for n in counts.values() if n > 1),
            # the same input offset decided twice (a reprocessed message), or two
            # input offsets for one id (the input itself repeated)
            "duplicate_examples": dict(sorted(sources.items())[:5]),
            "dead_lettered": reader.count(settings.topic_deadletter),
            "workers_alive": len(alive),
            "workers": WORKERS,
            "crashes": [asdict(c) for c in crew.crashes],
            "drain_s": drain_s,
            "seconds": time.monotonic() - started,
            "read_committed": committed_only,
            "events": drill.events,
        }
    finally:
        if producer is not None and producer._thread.is_alive():
            producer.stop()
        if reader is not None:
            reader.close()
        crew.stop_all()
    result["passed"] = passed(result)
    return result


def locate_lost(settings: Settings, lost: list[str], logs: Path) -> dict[str, Any]:
    """Where each lost article is: its place in the articles topic (absent: the broker
    or the producer lost it, not a worker), the group's committed offset there, and
    the workers' log lines about that partition. Printed by a drill that lost some."""
    reader = TopicReader(settings, [settings.topic_articles])
    try:
        reader.read_to_end(60)
        places: dict[str, list[tuple[int, int]]] = {}
        for record in reader.records[settings.topic_articles]:
            if record.value.get("id") in lost:
                places.setdefault(record.value["id"], []).append((record.partition, record.offset))
    finally:
        reader.close()
    committed: dict[int, int] = {}
    admin = admin_client(settings.kafka_client_config())
    try:
        for tp, meta in admin.list_consumer_group_offsets(settings.app_id).items():
            if tp.topic == settings.topic_articles:
                committed[tp.partition] = meta.offset
    except KafkaError as error:  # a diagnostic: say so, never fail the drill's report
        say(f"the group's committed offsets could not be read: {error}")
    finally:
        admin.close()
    found: dict[str, Any] = {}
    for article_id in lost:
        where = places.get(article_id, [])
        mentions = {f"partition {p}" for p, _ in where} | {f"partition={p}" for p, _ in where}
        lines = [
            f"{log.name}: {line}"
            for log in sorted(logs.glob("*.log"))
            for line in log.read_text(errors="replace").splitlines()
            if any(m in line for m in mentions)
        ]
        found[article_id] = {
            "in_articles_topic_at": where or "absent: acknowledged, yet not in the topic",
            "committed": {p: committed.get(p) for p, _ in where},
            "log_lines": lines[-12:],
        }
    return found


def passed(result: dict[str, Any]) -> bool:
    """The drill's invariants: nothing lost, drained in time, no worker lost, and no
    article decided twice where the guarantee says exactly once."""
    return (
        result["lost"] == 0
        and result["drain_s"] is not None
        and result["workers_alive"] == result["workers"]
        and (result["guarantee"] != "exactly_once" or result["duplicate_decisions"] == 0)
    )


def describe(result: dict[str, Any]) -> str:
    drain = f"{result['drain_s']:.1f} s" if result["drain_s"] is not None else "NOT DRAINED"
    rows = [
        ("acknowledged", f"{result['acknowledged']:,}"),
        ("decided", f"{result['decided']:,}"),
        ("lost", f"{result['lost']:,}"),
        (
            "duplicate decisions" + (" (read_committed)" if result["read_committed"] else ""),
            f"{result['duplicate_decisions']:,}",
        ),
        ("workers alive at the end", f"{result['workers_alive']} of {result['workers']}"),
        ("time to drain", drain),
        ("verdict", "PASS" if result["passed"] else "FAIL"),
    ]
    lines = [f"== {result['guarantee']}"] + [f"  {k:<40} {v}" for k, v in rows]
    for article_id, where in result["duplicate_examples"].items():
        lines.append(f"  decided twice: {article_id} from (partition, offset) {where}")
    for article_id, where in result.get("lost_where", {}).items():
        lines.append(
            f"  lost: {article_id} at (partition, offset) {where['in_articles_topic_at']},"
            f" committed {where['committed']}"
        )
        lines += [f"    {line[:200]}" for line in where["log_lines"]]
    for crash in result["crashes"]:
        lines.append(f"  crashed: {crash['worker']} (exit {crash['code']})")
        lines += [f"    {line[:200]}" for line in crash["last_lines"]]
    return "\n".join(lines)


# ------------------------------------------------------------------ the whole drill


@contextmanager
def own_cluster(work: Path, nodes: int) -> Iterator[tuple[Cluster, Path]]:
    home = Path(os.environ.get("CLAIMWATCH_HOME") or default_home())
    libs = resolve_jars(home, progress=lambda _m: None)
    cluster = kafka_cluster.up(
        work / "kafka", libs, nodes=nodes, free_ports=True, progress=lambda _m: None
    )
    try:
        yield cluster, libs
    finally:
        kafka_cluster.stop(cluster, progress=lambda _m: None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--guarantees", default=",".join(GUARANTEES))
    parser.add_argument("--nodes", type=int, choices=[1, 3], default=1)
    parser.add_argument("--rate", type=float, default=100.0, help="articles per second")
    parser.add_argument("--steps", default=None, help=f"default: {FULL_STEPS} (+leader on 3)")
    parser.add_argument("--session-timeout-s", type=float, default=10.0)
    parser.add_argument("--gap-s", type=float, default=10.0, help="steady traffic between steps")
    parser.add_argument("--drain-timeout-s", type=float, default=180.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--nice", type=int, default=0, help="run below other work on shared cores")
    args = parser.parse_args(argv)
    os.nice(args.nice)  # the brokers and the workers inherit it
    steps_text = args.steps or (FULL_STEPS + (",leader" if args.nodes == 3 else ""))
    steps = [s for s in steps_text.split(",") if s]
    load = os.getloadavg()
    results = []
    with tempfile.TemporaryDirectory(prefix="claimwatch-chaos-") as tmp:
        work = Path(tmp)
        try:
            with own_cluster(work, args.nodes) as (cluster, libs):
                for guarantee in args.guarantees.split(","):
                    results.append(
                        run_guarantee(
                            cluster,
                            libs,
                            work,
                            guarantee,
                            steps,
                            args.rate,
                            args.session_timeout_s,
                            args.gap_s,
                            args.drain_timeout_s,
                        )
                    )
                    print(describe(results[-1]), flush=True)
        finally:
            logs = args.out / "chaos-logs"
            shutil.rmtree(logs, ignore_errors=True)
            if (work / "logs").exists():
                shutil.copytree(work / "logs", logs)
    report = {
        "command": " ".join(["python -m bench.chaos", *(sys.argv[1:] if argv is None else argv)]),
        "nodes": args.nodes,
        "steps": steps,
        "rate": args.rate,
        "session_timeout_s": args.session_timeout_s,
        "load_before": load,
        "load_after": os.getloadavg(),
        "machine": machine(),
        "results": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"chaos-{args.nodes}n.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

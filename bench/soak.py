"""`make soak`: one worker through a long stream of distinct articles, for bounded state.

``python -m bench.soak [--articles 300000] [--store rocksdict|memory]
[--window-s 604800] [--restarts-at 0,100000,300000]`` starts its own broker and one
worker on private topics (4 partitions), then feeds distinct articles in chunks,
waiting for each chunk's decisions, and samples the worker's RSS after every chunk.
At each ``--restarts-at`` count it stops the worker (SIGTERM), starts a new one and
times restart-to-ready: from the new process's start to ``/readyz`` answering 200
with every partition assigned (Faust recovers the tables before that).

The soak is about the state a worker keeps, not the model: it scores with the v1
reference artifact (~7x the default v2's speed) and short generated texts, so a
300k run fits in about a quarter of an hour on 2 cores. Writes
``bench/results/soak-<store>.json`` and ``soak-<store>.png``. Not part of CI.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.end_to_end import RecordCount, create_topics, new_settings, proc_status_mb, send
from bench.run import PARTITIONS, ROOT, kafka, machine
from models.artifact import v1_artifact
from service.settings import DEFAULT_DEDUPE_WINDOW_S, Settings
from tests.integration.worker_proc import WorkerProcess, synthetic_text, wait_until

CHUNK = 10_000  # articles fed and decided between two RSS samples


def article_line(n: int) -> bytes:
    body = {"id": f"soak-{n}", "text": synthetic_text(n), "source": f"source-{n % 7}"}
    return json.dumps(body).encode()


def ready_with_all_partitions(worker: WorkerProcess) -> bool:
    answer = worker.get("/readyz")
    return bool(answer and answer[0] == 200 and len(answer[1]["partitions"]) == PARTITIONS)


def log_time(worker: WorkerProcess, marker: str) -> datetime | None:
    """When the worker's log first says ``marker`` (Faust's own lines carry a time)."""
    for line in worker.log_path.read_text(errors="replace").splitlines():
        if marker in line:
            return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
    return None


def phases(worker: WorkerProcess, started: datetime) -> dict[str, float | None]:
    """Where a start's time went, from the worker's log: before Faust starts (imports,
    the model, the wait for Kafka), Faust's start to ready (joining the group,
    recovery), and within that the tables read from their changelogs."""
    marks = {
        "faust": log_time(worker, "[^Worker]: Starting"),
        "restore": log_time(worker, "Restoring state from changelog topics"),
        "recovered": log_time(worker, "Recovery complete"),
        "ready": log_time(worker, "[^Worker]: Ready"),
    }

    def between(first: datetime | None, last: datetime | None) -> float | None:
        return (last - first).total_seconds() if first and last else None

    return {
        "before_faust_s": between(started, marks["faust"]),
        "faust_to_ready_s": between(marks["faust"], marks["ready"]),
        "table_recovery_s": between(marks["restore"], marks["recovered"]),
    }


def start_worker(
    settings: Settings, logs: Path, name: str
) -> tuple[WorkerProcess, float, datetime]:
    """A new worker, its restart-to-ready time in seconds, and when it was started."""
    started, started_at = time.monotonic(), datetime.now()
    worker = WorkerProcess(settings, logs, name).start()

    def ready() -> bool:
        worker.assert_alive()
        return ready_with_all_partitions(worker)

    wait_until(ready, 600, f"{name} ready", every_s=0.1)
    return worker, time.monotonic() - started, started_at


def rss_mb(worker: WorkerProcess) -> float:
    assert worker.process is not None
    return proc_status_mb(worker.process.pid, "VmRSS")


def soak(settings: Settings, work: Path, articles: int, restarts_at: list[int]) -> dict[str, Any]:
    logs = work / "logs"
    create_topics(settings)
    result: dict[str, Any] = {"rss": [], "restarts": []}
    worker, _, _ = start_worker(settings, logs, "first")
    try:
        with closing(RecordCount(settings, settings.topic_scored)) as decisions:
            decided = 0
            while True:
                if decided in restarts_at:
                    worker = restart(worker, settings, logs, decided, result)
                if decided >= articles:
                    break
                count = min(CHUNK, articles - decided)
                lines = [article_line(n) for n in range(decided, decided + count)]
                chunk_started = time.monotonic()
                send(settings, lines)
                decisions.wait_for(decided + count, 600)
                result.setdefault("chunks", []).append(
                    {"articles": count, "seconds": time.monotonic() - chunk_started}
                )
                decided += count
                sample(worker, decided, result)
        worker.stop()
    finally:
        worker.ensure_stopped()
    return result


def sample(worker: WorkerProcess, decided: int, result: dict[str, Any]) -> None:
    result["rss"].append({"articles": decided, "rss_mb": rss_mb(worker)})
    print(f"  {decided:,} decided, RSS {result['rss'][-1]['rss_mb']:.0f} MB", flush=True)


def restart(
    worker: WorkerProcess, settings: Settings, logs: Path, decided: int, result: dict[str, Any]
) -> WorkerProcess:
    """Stop ``worker`` gracefully, start a new one, record how long it took to be ready."""
    assert worker.stop() == 0
    worker, seconds, started_at = start_worker(settings, logs, f"after-{decided}")
    split = phases(worker, started_at)
    result["restarts"].append({"articles": decided, "ready_s": seconds, **split})
    print(f"  restart after {decided:,}: ready in {seconds:.1f} s {split}", flush=True)
    sample(worker, decided, result)
    return worker


def verdict(result: dict[str, Any]) -> dict[str, Any]:
    """The issue's two checks, from the samples (None where the run was too short)."""
    rss: dict[int, float] = {}
    for s in result["rss"]:  # at a restart: the process that decided them, not the new one
        rss.setdefault(s["articles"], s["rss_mb"])
    restarts = {r["articles"]: r["ready_s"] for r in result["restarts"]}
    top = max(rss)
    out: dict[str, Any] = {"last_articles": top}
    chunks = result.get("chunks", [])
    if chunks:  # produced and decided, chunk by chunk, restarts left out
        out["articles_per_s"] = sum(c["articles"] for c in chunks) / sum(
            c["seconds"] for c in chunks
        )
    if 50_000 in rss:
        out["rss_last_over_50k"] = rss[top] / rss[50_000]
    if 0 in restarts and len(restarts) > 1:
        out["restart_last_over_empty"] = restarts[max(restarts)] / restarts[0]
    return out


def plot(result: dict[str, Any], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    xs = [s["articles"] / 1000 for s in result["rss"]]
    left.plot(xs, [s["rss_mb"] for s in result["rss"]], marker=".")
    left.set(xlabel="articles decided (thousands)", ylabel="worker RSS (MB)", ylim=(0, None))
    left.set_title("memory")
    restarts = result["restarts"]
    labels = [f"{r['articles'] // 1000}k" for r in restarts]
    right.bar(labels, [r["ready_s"] for r in restarts], label="process start to /readyz")
    right.bar(
        labels,
        [r["table_recovery_s"] or 0.0 for r in restarts],
        width=0.4,
        label="of which: tables read from the changelog",
    )
    right.legend(loc="upper right", fontsize="small")
    right.set(xlabel="history before the restart", ylabel="restart to ready (s)")
    right.set_title("restart time")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--articles", type=int, default=300_000)
    parser.add_argument("--store", choices=["rocksdict", "memory"], default="rocksdict")
    parser.add_argument("--window-s", type=float, default=DEFAULT_DEDUPE_WINDOW_S)
    parser.add_argument("--restarts-at", default="0,100000,300000")
    parser.add_argument(
        "--source-window-s",
        type=float,
        default=60.0,
        help="per-source stats window: the soak packs hours of traffic into minutes, and"
        " a window that holds the whole run would be replayed whole at every restart",
    )
    parser.add_argument("--bootstrap", default=None, help="use this Kafka instead of our own")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="run below other work on shared cores (restart times then depend on that work)",
    )
    args = parser.parse_args(argv)
    os.nice(args.nice)  # the broker and the workers inherit it
    restarts_at = [int(n) for n in args.restarts_at.split(",") if n]
    with tempfile.TemporaryDirectory(prefix="claimwatch-soak-") as tmp:
        work = Path(tmp)
        with kafka(args.bootstrap, work) as bootstrap:
            settings = replace(
                new_settings(bootstrap, work, PARTITIONS),
                model_path=v1_artifact(),
                table_store=args.store,
                dedupe_window_s=args.window_s,
                source_stats_window_s=args.source_window_s,
            )
            started = time.time()
            try:
                result = soak(settings, work, args.articles, restarts_at)
            finally:
                logs = args.out / f"soak-{args.store}-logs"
                shutil.rmtree(logs, ignore_errors=True)
                if (work / "logs").exists():
                    shutil.copytree(work / "logs", logs)
    result.update(
        store=args.store,
        window_s=args.window_s,
        source_window_s=args.source_window_s,
        model="v1 reference artifact",
        texts="generated, ~250 bytes",
        partitions=PARTITIONS,
        seconds=time.time() - started,
        machine=machine(),
        nice=args.nice,
        command=" ".join(["python -m bench.soak", *(sys.argv[1:] if argv is None else argv)]),
    )
    result["verdict"] = verdict(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"soak-{args.store}.json").write_text(json.dumps(result, indent=2) + "\n")
    title = f"soak: one worker, {args.store} store, dedupe window {args.window_s:g} s"
    plot(result, title, args.out / f"soak-{args.store}.png")
    print(json.dumps(result["verdict"]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`make bench`: offline scoring vs. the worker through a real broker vs. a naive loop.

One run, one corpus, one model. Prints a table and writes
``bench/results/bench-<time>.json`` (and ``latest.json``). Starts its own
single-node Kafka on free ports unless ``--bootstrap`` names one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.corpus import Corpus, article_lines, load_corpus
from bench.end_to_end import Outcome, Workers, run_naive
from bench.offline import assess_rate, evidence_rate, stages_rate
from bench.report import render
from models.artifact import load_model, v1_artifact
from models.training.throughput import profile_scoring
from service.kafka import cluster as kafka_cluster
from service.kafka.launcher import KAFKA_VERSION, resolve_jars
from service.settings import Settings, default_home

ROOT = Path(__file__).resolve().parent.parent
PARTITIONS = 4


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--articles", type=int, default=4000, help="per throughput run")
    parser.add_argument("--naive-articles", type=int, default=1500)
    parser.add_argument("--latency-s", type=float, default=20.0, help="length of the latency run")
    parser.add_argument(
        "--tuned-within-s",
        type=float,
        default=0.0,
        help="also measure latency with this CLAIMWATCH_BATCH_WITHIN_S (0: skip)",
    )
    parser.add_argument("--bootstrap", default=None, help="use this Kafka instead of our own")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    return parser.parse_args(argv)


@contextmanager
def kafka(bootstrap: str | None, work: Path) -> Iterator[str]:
    """A bootstrap address: the given one, or a single node started here and stopped after."""
    if bootstrap:
        yield bootstrap
        return
    home = Path(os.environ.get("CLAIMWATCH_HOME") or default_home())
    libs = resolve_jars(home, progress=lambda _m: None)
    cluster = kafka_cluster.up(work / "kafka", libs, nodes=1, free_ports=True, progress=_say)
    try:
        yield cluster.bootstrap_servers
    finally:
        kafka_cluster.stop(cluster, progress=lambda _m: None)


def _say(message: str) -> None:
    print(f"  {message}", flush=True)


def machine() -> dict[str, Any]:
    model_name = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model_name,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "kafka": KAFKA_VERSION,
    }


def offline_section(corpus: Corpus, lines: list[bytes], settings: Settings) -> dict[str, Any]:
    model = load_model()
    texts = [json.loads(line)["text"] for line in lines]
    assess_rate(model, texts[:128], settings.batch_size)  # warm-up
    _say("offline: one by one, batched, whole stages, profile")
    total, parts, top = profile_scoring(model, texts[:1280], settings.batch_size)
    return {
        "model": model.info(),
        "one_by_one_per_s": assess_rate(model, texts[: len(texts) // 4], 1),
        "batched_per_s": assess_rate(model, texts, settings.batch_size),
        "batched_64_per_s": assess_rate(model, texts, 64),
        "stages_per_s": stages_rate(model, lines, settings),
        # side by side in the same run: the v1 reference artifact, and the evidence
        # extraction alone (hedge + tagger + cue scan), which v2 adds per article
        "v1_batched_per_s": assess_rate(load_model(v1_artifact()), texts, settings.batch_size),
        "evidence_only_per_s": evidence_rate(model, texts, settings.batch_size),
        "profile": {
            "profiled_seconds": total,
            "parts": [{"part": p.name, "seconds": p.seconds, "share": p.share} for p in parts],
            "top_own_time": [{"function": f, "seconds": s} for f, s in top],
        },
    }


def summary(outcome: Outcome) -> dict[str, Any]:
    return {
        "articles": len(outcome.stamps),
        "seconds": outcome.seconds,
        "per_s": outcome.rate,
        "p50_ms": outcome.latency_ms(0.50),
        "p95_ms": outcome.latency_ms(0.95),
        "p99_ms": outcome.latency_ms(0.99),
        "peak_rss_mb": outcome.peak_rss_mb,
        "cpu_s": outcome.cpu_s,
        "bench_cpu_s": outcome.bench_cpu_s,
        "machine_cpu_s": outcome.machine_cpu_s,
        "other_cpu_s": outcome.other_cpu_s,
        "per_cpu_s": len(outcome.stamps) / max(sum(outcome.cpu_s), 1e-9),
    }


def warm_up_broker(bootstrap: str, work: Path, corpus: Corpus, articles: int) -> None:
    """The broker is a fresh JVM: whichever scenario ran first used to measure ~25%
    slower than the same scenario run second. A throwaway run first warms it up."""
    with Workers(bootstrap, work, 1, PARTITIONS) as warm:
        warm.drain(article_lines(corpus, articles, "warm0"))


def kafka_section(bootstrap: str, work: Path, corpus: Corpus, args: argparse.Namespace) -> dict:
    results: dict[str, Any] = {}
    _say("warming the broker up")
    warm_up_broker(bootstrap, work, corpus, args.articles)
    with Workers(bootstrap, work, 1, PARTITIONS) as one:
        _say("one worker: warm-up, throughput (backlog, then while producing)")
        one.drain(article_lines(corpus, 200, "warm1"))
        results["one_worker"] = summary(one.drain(article_lines(corpus, args.articles, "one")))
        stream = one.measure(article_lines(corpus, args.articles, "stream"))
        results["one_worker_stream"] = summary(stream)
        # A latency run produces on the same cores as the worker, so its "half the
        # maximum" is half the maximum measured that way; half the backlog one too.
        backlog_rate = results["one_worker"]["per_s"]
        maxima = {"latency_half_load": stream.rate, "latency_half_backlog": backlog_rate}
        for name, maximum in maxima.items():
            rate = maximum / 2
            count = max(100, int(rate * args.latency_s))
            _say(f"one worker: latency at {rate:.0f}/s for {count} articles")
            latency = summary(one.measure(article_lines(corpus, count, name), rate=rate))
            results[name] = {**latency, "input_rate_per_s": rate}
    if args.tuned_within_s:
        within = args.tuned_within_s
        rate = results["latency_half_load"]["input_rate_per_s"]
        count = results["latency_half_load"]["articles"]
        with Workers(bootstrap, work, 1, PARTITIONS, batch_within_s=within) as tuned:
            _say(f"one worker, batch_within_s={within}: latency at {rate:.0f}/s")
            tuned.drain(article_lines(corpus, 200, "warm3"))
            latency = summary(tuned.measure(article_lines(corpus, count, "tuned"), rate=rate))
        results["latency_half_load_tuned"] = {
            **latency,
            "input_rate_per_s": rate,
            "batch_within_s": within,
        }
    with Workers(bootstrap, work, 1, PARTITIONS, scoring="process") as child:
        _say("one worker scoring in a child process: warm-up, throughput")
        child.drain(article_lines(corpus, 200, "warm4"))
        results["one_worker_process"] = summary(
            child.drain(article_lines(corpus, args.articles, "process"))
        )
    _say(f"naive loop: {args.naive_articles} articles")
    naive = run_naive(
        bootstrap, work, article_lines(corpus, args.naive_articles, "naive"), PARTITIONS
    )
    results["naive_loop"] = summary(naive)
    with Workers(bootstrap, work, 2, PARTITIONS) as two:
        _say("two workers: warm-up, throughput")
        two.drain(article_lines(corpus, 200, "warm2"))
        results["two_workers"] = summary(two.drain(article_lines(corpus, args.articles, "two")))
    return results


def ratios(offline: dict[str, Any], kafka_results: dict[str, Any]) -> dict[str, float]:
    one = kafka_results["one_worker"]["per_s"]
    one_cpu = kafka_results["one_worker"]["per_cpu_s"]
    return {
        "end_to_end_over_offline": one / offline["batched_per_s"],
        "end_to_end_per_cpu_s_over_offline": one_cpu / offline["batched_per_s"],
        "claimwatch_over_naive": one / kafka_results["naive_loop"]["per_s"],
        "two_workers_over_one": kafka_results["two_workers"]["per_s"] / one,
        "process_over_thread_scoring": kafka_results["one_worker_process"]["per_s"] / one,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    settings = Settings()
    corpus = load_corpus(args.data)
    lines = article_lines(corpus, args.articles, "offline")
    print(f"claimwatch bench: {corpus.origin}, mean {corpus.mean_bytes()} bytes", flush=True)
    offline = offline_section(corpus, lines, settings)
    with tempfile.TemporaryDirectory(prefix="claimwatch-bench-") as tmp:
        work = Path(tmp)
        with kafka(args.bootstrap, work) as bootstrap:
            kafka_results = kafka_section(bootstrap, work, corpus, args)
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {**machine(), "load_1min": [load_before, os.getloadavg()[0]]},
        "corpus": {"origin": corpus.origin, "mean_bytes": corpus.mean_bytes()},
        "config": {
            "articles": args.articles,
            "naive_articles": args.naive_articles,
            "partitions": PARTITIONS,
            "batch_size": settings.batch_size,
            "batch_within_s": settings.batch_within_s,
        },
        "offline": offline,
        "kafka": kafka_results,
        "ratios": ratios(offline, kafka_results),
        "bench_seconds": time.monotonic() - started,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    text = json.dumps(result, indent=2) + "\n"
    path.write_text(text)
    (args.out / "latest.json").write_text(text)
    print(render(result))
    print(f"results: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

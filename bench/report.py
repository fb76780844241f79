"""The bench result as a plain-text table, with the issue's targets beside the ratios."""

from __future__ import annotations

from typing import Any

# (ratio key, label, the target: at least this much; 0 = none)
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("end_to_end_over_offline", "end-to-end ÷ offline batched", 0.9),
    ("end_to_end_per_cpu_s_over_offline", "  the same per worker CPU-second", 0.0),
    ("claimwatch_over_naive", "claimwatch ÷ naive loop", 3.0),
    ("two_workers_over_one", "two workers ÷ one", 0.0),
    ("process_over_thread_scoring", "scoring process ÷ thread (default)", 0.0),
)
P99_TARGET_MS = 200.0
RSS_TARGET_MB = 400.0


def _row(name: str, value: str, note: str = "") -> str:
    return f"  {name:<44} {value:>14}  {note}"


def _run_rows(label: str, run: dict[str, Any]) -> list[str]:
    rss = ", ".join(f"{mb:.0f}" for mb in run["peak_rss_mb"])
    cpu = ", ".join(f"{s:.1f}" for s in run["cpu_s"])
    per_cpu = run["articles"] / max(sum(run["cpu_s"]), 1e-9)
    note = (
        f"{run['articles']} in {run['seconds']:.1f}s; {per_cpu:,.0f} per worker CPU-s "
        "(worker + its scoring process); "
        f"peak RSS {rss} MB; CPU {cpu} s"
    )
    return [_row(label, f"{run['per_s']:,.0f}/s", note)]


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def render(result: dict[str, Any]) -> str:
    machine, offline, kafka = result["machine"], result["offline"], result["kafka"]
    config = result["config"]
    lines = [
        "",
        f"claimwatch bench — {machine['cpus']} CPUs ({machine['cpu_model']}), "
        f"Python {machine['python']}, Kafka {machine['kafka']}; 1-min load average "
        f"{machine['load_1min'][0]:.1f} before, {machine['load_1min'][1]:.1f} after",
        f"corpus: {result['corpus']['origin']}, mean {result['corpus']['mean_bytes']} bytes; "
        f"model {offline['model']['version']}; batch {config['batch_size']}, "
        f"{config['partitions']} partitions",
        "",
        _row("measurement", "articles/s"),
        _row("offline assess_batch, one by one", f"{offline['one_by_one_per_s']:,.0f}/s"),
        _row(
            f"offline assess_batch, batches of {config['batch_size']}",
            f"{offline['batched_per_s']:,.0f}/s",
            "reference for end-to-end",
        ),
        _row("offline assess_batch, batches of 64", f"{offline['batched_64_per_s']:,.0f}/s"),
        _row(
            "  v1 reference (cues + n-grams), same batches",
            f"{offline.get('v1_batched_per_s', 0):,.0f}/s",
        ),
        _row(
            "  evidence extraction alone (hedge, tagger, cues)",
            f"{offline.get('evidence_only_per_s', 0):,.0f}/s",
        ),
        _row(
            "offline all stages (decode … route), no Kafka",
            f"{offline['stages_per_s']:,.0f}/s",
        ),
        *_run_rows("end-to-end, one worker (backlog)", kafka["one_worker"]),
        *_run_rows("  the same, bench producing meanwhile", kafka["one_worker_stream"]),
        *_run_rows("end-to-end, one worker, scoring process", kafka["one_worker_process"]),
        *_run_rows("naive kafka-python loop (backlog)", kafka["naive_loop"]),
        *_run_rows("end-to-end, two workers (backlog)", kafka["two_workers"]),
        "",
    ]
    latency = kafka["latency_half_load"]
    p99_ok = latency["p99_ms"] <= P99_TARGET_MS
    lines.append(
        f"  latency at {latency['input_rate_per_s']:.0f}/s (half the one-worker maximum with "
        f"the bench producing), {latency['articles']} articles: p50 {latency['p50_ms']:.0f} ms, "
        f"p95 {latency['p95_ms']:.0f} ms, p99 {latency['p99_ms']:.0f} ms "
        f"(target p99 ≤ {P99_TARGET_MS:.0f} ms: {_verdict(p99_ok)})"
    )
    harder = kafka.get("latency_half_backlog")
    if harder:
        lines.append(
            f"  latency at {harder['input_rate_per_s']:.0f}/s (half the backlog maximum): "
            f"p50 {harder['p50_ms']:.0f} ms, p95 {harder['p95_ms']:.0f} ms, "
            f"p99 {harder['p99_ms']:.0f} ms"
        )
    tuned = kafka.get("latency_half_load_tuned")
    if tuned:
        lines.append(
            f"  same load with CLAIMWATCH_BATCH_WITHIN_S={tuned['batch_within_s']}: "
            f"p50 {tuned['p50_ms']:.0f} ms, p95 {tuned['p95_ms']:.0f} ms, "
            f"p99 {tuned['p99_ms']:.0f} ms"
        )
    for name, label in (("one_worker", "backlog"), ("one_worker_stream", "producing")):
        run = kafka[name]
        if run.get("machine_cpu_s"):
            model_cpu = run["articles"] / offline["batched_per_s"]
            lines.append(
                f"  CPU-s of the one-worker run, {label} ({run['seconds'] * machine['cpus']:.1f} "
                f"on {machine['cpus']} cores in {run['seconds']:.1f}s): worker "
                f"{sum(run['cpu_s']):.1f}, bench {run['bench_cpu_s']:.1f}, broker and the "
                f"rest {run['other_cpu_s']:.1f}; the model alone needs {model_cpu:.1f}"
            )
    worker_rss = [mb for name in ("one_worker", "two_workers") for mb in kafka[name]["peak_rss_mb"]]
    child_rss = kafka["one_worker_process"]["peak_rss_mb"]
    peak = max(worker_rss)
    lines.append(
        f"  peak RSS per worker: {peak:.0f} MB "
        f"(target ≤ {RSS_TARGET_MB:.0f} MB: {_verdict(peak <= RSS_TARGET_MB)}); "
        f"with a scoring process, worker + child: {max(child_rss):.0f} MB"
    )
    lines.append("")
    for key, label, target in TARGETS:
        value = result["ratios"][key]
        goal = f"target ≥ {target}: {_verdict(value >= target)}" if target else "no target"
        lines.append(f"  {label:<34} {value:5.2f}  ({goal})")
    lines += ["", "  where the scoring time goes (cProfile, batched assess_batch):"]
    profile = offline["profile"]
    for part in profile["parts"]:
        lines.append(f"    {part['part']:<52} {part['share']:6.1%}")
    lines.append("    top functions by own time:")
    for entry in profile["top_own_time"][:6]:
        share = entry["seconds"] / profile["profiled_seconds"]
        lines.append(f"      {share:6.1%}  {entry['function']}")
    lines.append(f"  bench took {result['bench_seconds']:.0f}s")
    return "\n".join(lines)

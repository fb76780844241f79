"""HTTP views on the worker's Faust web server: metrics, health, readiness, stats."""

from __future__ import annotations

import time
from typing import Any

from service.worker.state import Worker

# The event loop counts as stalled when the heartbeat timer has not run for this long.
LOOP_STALL_S = 10.0


def source_stats(worker: Worker) -> dict[str, Any]:
    """Articles scored and flagged per source in the current rolling window."""
    scored = dict(worker.source_scored.items().now())
    flagged = dict(worker.source_flagged.items().now())
    sources = {
        name: {
            "scored": count,
            "flagged": flagged.get(name, 0),
            "contested_rate": round(flagged.get(name, 0) / count, 4) if count else 0.0,
        }
        for name, count in sorted(scored.items())
    }
    return {
        "window_s": worker.settings.source_stats_window_s,
        "sources": sources,
        "partitions": "this worker's partitions only",
    }


def health(worker: Worker) -> tuple[bool, dict[str, Any]]:
    last_tick = worker.health.get("loop_tick", time.monotonic())
    stalled_for = time.monotonic() - last_tick
    ok = stalled_for < LOOP_STALL_S
    return ok, {"status": "ok" if ok else "stalled", "loop_stalled_s": round(stalled_for, 3)}


def readiness(worker: Worker) -> tuple[bool, dict[str, Any]]:
    problems: list[str] = []
    model = worker.holder.current
    app = worker.app
    try:
        assigned = sorted(
            f"{tp.topic}:{tp.partition}"
            for tp in app.consumer.assignment()
            if tp.topic == worker.settings.topic_articles
        )
    except Exception:
        assigned = []
    if not assigned:
        problems.append("no partitions of the articles topic assigned yet")
    brokers = _known_brokers(worker)
    if brokers == 0:
        problems.append("no Kafka broker reachable")
    if app.rebalancing:
        problems.append("consumer group is rebalancing")
    stopped = undecodable_partitions(worker)
    for place in stopped:
        problems.append(
            f"partition {place['partition']} of {place['topic']} is stopped at offset"
            f" {place['offset']}: its record batch cannot be decoded ({place['error']})"
        )
    failing_s = worker.failing.seconds()
    if worker.failing.stuck(worker.settings.stuck_batch_s):
        problems.append(
            f"a batch has failed to publish for {failing_s:.0f} s, over the"
            f" {worker.settings.stuck_batch_s:g} s of CLAIMWATCH_STUCK_BATCH_S: its partitions"
            " make no progress (see the worker log)"
        )
    body = {
        "status": "ready" if not problems else "not_ready",
        "problems": problems,
        "model": model.info(),
        "model_reload_error": worker.holder.last_error,
        "partitions": assigned,
        "brokers": brokers,
        "undecodable": stopped,
        "batch_failing_s": round(failing_s, 3),
    }
    return not problems, body


def undecodable_partitions(worker: Worker) -> list[dict[str, Any]]:
    """Owned partitions stopped at an undecodable batch; also sets their gauge."""
    try:
        assigned = list(worker.app.consumer.assignment())
    except Exception:
        assigned = []
    stopped = worker.undecodable.stopped(assigned)
    worker.metrics.set_undecodable_partitions(len(stopped))
    return stopped


def consumer_state(worker: Worker) -> dict[str, Any]:
    """Where each assigned articles partition stands: fetching or held back, and offsets.

    For the question "why is partition N not moving?": a partition Faust has taken
    out of its fetch set (``fetching: false``), paused, or whose committed offset
    stays behind the highwater while the worker is idle.
    """
    app = worker.app
    consumer = app.consumer
    topic = worker.settings.topic_articles
    try:
        assigned = sorted(
            (tp for tp in consumer.assignment() if tp.topic == topic), key=lambda tp: tp.partition
        )
    except Exception:
        assigned = []
    active = set(getattr(consumer, "_active_partitions", None) or ())
    paused = set(getattr(consumer, "_paused_partitions", ()))
    buffered = set(getattr(consumer, "_buffered_partitions", ()))
    partitions = {}
    for tp in assigned:
        try:
            highwater = consumer.highwater(tp)
        except Exception:
            highwater = None
        partitions[str(tp.partition)] = {
            "fetching": tp in active,
            "paused": tp in paused,
            "buffer_full": tp in buffered,
            "committed": getattr(consumer, "_committed_offset", {}).get(tp),
            "highwater": highwater,
        }
    return {
        "generation": app.consumer_generation_id,
        "flow_active": bool(app.flow_control.is_active()),
        "rebalancing": bool(app.rebalancing),
        "in_recovery": bool(app.in_recovery),
        "partitions": partitions,
    }


def _known_brokers(worker: Worker) -> int:
    try:
        client = worker.app.consumer._thread._ensure_consumer()._client  # type: ignore[attr-defined]
        return len(client.cluster.brokers())
    except Exception:
        return 0


def register_views(worker: Worker) -> None:
    app = worker.app

    @app.page("/metrics")
    async def metrics_view(self: Any, request: Any) -> Any:
        body, content_type = worker.metrics.render()
        return self.bytes(body, headers={"Content-Type": content_type})

    @app.page("/healthz")
    async def healthz(self: Any, request: Any) -> Any:
        ok, body = health(worker)
        return self.json(body, status=200 if ok else 503)

    @app.page("/readyz")
    async def readyz(self: Any, request: Any) -> Any:
        ok, body = readiness(worker)
        return self.json(body, status=200 if ok else 503)

    @app.page("/stats/sources")
    async def sources(self: Any, request: Any) -> Any:
        return self.json(source_stats(worker))

    @app.page("/stats/consumer")
    async def consumer(self: Any, request: Any) -> Any:
        return self.json(consumer_state(worker))

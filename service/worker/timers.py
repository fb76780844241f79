"""Periodic work of the worker: loop heartbeat, model file watch, lag, source rates,
the dedupe window's sweep."""

from __future__ import annotations

import asyncio
import logging
import signal
import time

from service.worker.expiry import sweep_interval, sweep_seen
from service.worker.state import Worker
from service.worker.web import source_stats, undecodable_partitions

log = logging.getLogger("claimwatch.timers")


def register_timers(worker: Worker) -> None:
    app = worker.app

    @app.timer(interval=1.0)
    async def loop_heartbeat() -> None:
        worker.health["loop_tick"] = time.monotonic()

    @app.timer(interval=2.0)
    async def watch_model_file() -> None:
        if worker.holder.changed_on_disk():
            await reload_model(worker, "file changed")

    @app.timer(interval=5.0)
    async def export_lag_and_sources() -> None:
        await _export_lag(worker)
        undecodable_partitions(worker)  # sets the gauge
        rates = {
            name: (s["scored"], s["flagged"]) for name, s in source_stats(worker)["sources"].items()
        }
        worker.metrics.update_source_rates(rates)

    @app.timer(interval=sweep_interval(worker.settings.dedupe_window_s))
    async def expire_dedupe_entries() -> None:
        if not app.rebalancing:  # not while the table is being recovered
            await sweep_seen(worker)

    @app.task
    async def install_sighup() -> None:
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(
                signal.SIGHUP, lambda: asyncio.ensure_future(reload_model(worker, "SIGHUP"))
            )
        except (NotImplementedError, RuntimeError):
            log.warning("SIGHUP reload is not available here")


async def reload_model(worker: Worker, why: str) -> None:
    log.info("reloading the model (%s)", why)
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(worker.executor, worker.holder.reload)
    if not result.ok:
        log.error("kept the current model: %s", result.detail)


async def _export_lag(worker: Worker) -> None:
    consumer = worker.app.consumer
    try:
        assigned = [
            tp for tp in consumer.assignment() if tp.topic == worker.settings.topic_articles
        ]
        for tp in assigned:
            position = await consumer.position(tp)
            highwater = consumer.highwater(tp)
            if position is not None and highwater is not None:
                worker.metrics.set_lag(tp.topic, tp.partition, max(0, highwater - position))
    except Exception as error:
        log.debug("lag export skipped: %s", error)

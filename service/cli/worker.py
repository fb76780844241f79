"""`claimwatch worker`: the Faust scoring worker, configured from CLAIMWATCH_* variables."""

from __future__ import annotations

import argparse
import faulthandler
import signal
import sys
from typing import Any

from service.settings import Settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("worker", help="run the Faust scoring worker")
    parser.add_argument("--web-port", type=int, default=None, help="overrides CLAIMWATCH_WEB_PORT")
    parser.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace

    from faust.worker import Worker as FaustWorker

    from service.logs import configure_logging, logging_config
    from service.worker.app import build_app, new_metrics
    from service.worker.model_reload import ModelHolder
    from service.worker.startup import wait_for_broker
    from service.worker.timers import register_timers

    if args.web_port:
        settings = replace(settings, web_port=args.web_port)
    metrics = new_metrics(settings)
    holder = ModelHolder(
        settings.model_path,
        on_loaded=lambda model: metrics.model_loaded(model.version, model.sha256),
        on_reload=metrics.model_reload,
    )  # a bad artifact stops here, with one clear line
    print(
        f"claimwatch worker: model {holder.current.version} ({holder.current.sha256[:12]}); "
        f"Kafka {settings.bootstrap_servers}; metrics at "
        f"http://{settings.web_host}:{settings.web_port}/metrics",
        file=sys.stderr,
        flush=True,
    )
    configure_logging(settings)  # the wait's lines in the worker's log format
    if not wait_for_broker(settings, metrics):  # no broker within the timeout: one line
        print("claimwatch worker: stopped while waiting for Kafka", file=sys.stderr, flush=True)
        return 0
    worker = build_app(settings, holder, metrics)
    register_timers(worker)
    # `kill -QUIT <pid>`: every thread's stack into the log, as a JVM does, also when
    # the event loop itself is blocked (mode's SIGUSR1 task dump then never runs;
    # SIGUSR2 is taken: mode opens pdb on it).
    faulthandler.register(signal.SIGQUIT, all_threads=True)
    faust_worker = FaustWorker(
        worker.app,
        loglevel=settings.log_level,
        logging_config=logging_config(settings),
        quiet=True,
        redirect_stdouts=False,
    )
    try:
        faust_worker.execute_from_commandline()
    finally:
        worker.scorer.close()
    return 0

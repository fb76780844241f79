"""Before Faust starts: wait for Kafka, answering an orchestrator's probes meanwhile.

Faust's worker gives up at once, with a long traceback, when no broker answers its
bootstrap (aiokafka's ``KafkaConnectionError: Unable to bootstrap``). In Compose or
Kubernetes the worker and Kafka start together, so the worker waits first:

1. a small HTTP server takes the worker's web port: ``/healthz`` answers 200 (the
   process is alive), ``/readyz`` 503 with what it waits for, ``/metrics`` the
   worker's registry;
2. the bootstrap servers are probed with backoff (:func:`service.reach.wait_for_kafka`),
   one log line per failed attempt;
3. the server stops, which frees the port for Faust's own web server.

SIGTERM during the wait ends it (the worker then exits 0); when
``CLAIMWATCH_STARTUP_TIMEOUT_S`` runs out, :class:`KafkaUnavailableError` ends the
worker with one line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast

from service.errors import ConfigError
from service.reach import Attempt, servers_of, wait_for_kafka
from service.settings import PREFIX, Settings
from service.worker.metrics import ClaimwatchMetrics

log = logging.getLogger("claimwatch.startup")


class _WaitingServer(ThreadingHTTPServer):
    """The HTTP server of the wait; its handlers read ``problem`` and ``metrics``."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], problem: str, metrics: ClaimwatchMetrics):
        self.problem = problem
        self.metrics = metrics
        super().__init__(address, _WaitingHandler)


class _WaitingHandler(BaseHTTPRequestHandler):
    """``/healthz`` alive, ``/readyz`` not ready (and why), ``/metrics``; 404 otherwise."""

    def do_GET(self) -> None:
        server = cast(_WaitingServer, self.server)
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._json(200, {"status": "ok", "phase": "waiting_for_kafka"})
        elif path == "/readyz":
            self._json(503, {"status": "not_ready", "problems": [server.problem]})
        elif path == "/metrics":
            body, content_type = server.metrics.render()
            self._send(200, body, content_type)
        else:
            self._json(404, {"error": "not_found", "detail": "the worker is waiting for Kafka"})

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: probes every few seconds would drown the log."""


class WaitingWeb:
    """The worker's web port while it waits for Kafka, served from a thread."""

    def __init__(self, host: str, port: int, problem: str, metrics: ClaimwatchMetrics) -> None:
        try:
            self._server = _WaitingServer((host, port), problem, metrics)
        except OSError as error:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({PREFIX}WEB_HOST/{PREFIX}WEB_PORT): "
                f"{error.strerror}"
            ) from None
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="claimwatch-waiting-web",
            daemon=True,
        )

    @property
    def problem(self) -> str:
        return self._server.problem

    @problem.setter
    def problem(self, text: str) -> None:
        self._server.problem = text

    def __enter__(self) -> WaitingWeb:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop serving and release the port before Faust binds it."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@contextlib.contextmanager
def stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    """SIGTERM sets ``stop`` while inside (main thread only); the old handler comes back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def wait_for_broker(
    settings: Settings, metrics: ClaimwatchMetrics, stop: threading.Event | None = None
) -> bool:
    """True once Kafka answers; False when SIGTERM (or ``stop``) ended the wait first.

    Raises :class:`KafkaUnavailableError` when ``settings.startup_timeout_s`` passes
    without an answer, and :class:`ConfigError` when the web port is taken.
    """
    config = settings.kafka_client_config()
    stop = stop or threading.Event()
    failed: list[Attempt] = []

    def report(attempt: Attempt) -> None:
        failed.append(attempt)
        web.problem = attempt.describe()
        log.warning(attempt.describe())

    waiting = f"waiting for Kafka at {servers_of(config)}"
    web = WaitingWeb(settings.web_host, settings.web_port, waiting, metrics)
    with web, stop_on_sigterm(stop):
        answered = wait_for_kafka(config, settings.startup_timeout_s, report, stop)
    if answered and failed:
        log.warning("Kafka at %s answers after %d failed attempts", servers_of(config), len(failed))
    return answered

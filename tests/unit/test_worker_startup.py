"""service/worker/startup.py: the worker's web port while it waits for Kafka."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from service.errors import ConfigError, KafkaUnavailableError
from service.settings import Settings
from service.worker.metrics import ClaimwatchMetrics
from service.worker.startup import WaitingWeb, wait_for_broker
from tests.integration.worker_proc import wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str) -> tuple[int, bytes, str]:
    """(status, body, content type) of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers["Content-Type"]


def body(answer: tuple[int, bytes, str]) -> tuple[int, Any]:
    return answer[0], json.loads(answer[1])


def test_waiting_web_is_alive_not_ready_and_serves_metrics() -> None:
    port = free_port()
    metrics = ClaimwatchMetrics()
    web = WaitingWeb("127.0.0.1", port, "waiting for Kafka at k:9092", metrics)
    with web:
        assert body(get(port, "/healthz")) == (200, {"status": "ok", "phase": "waiting_for_kafka"})
        assert body(get(port, "/readyz")) == (
            503,
            {"status": "not_ready", "problems": ["waiting for Kafka at k:9092"]},
        )
        web.problem = "waiting for Kafka at k:9092: host not found (attempt 2; …)"
        assert body(get(port, "/readyz"))[1]["problems"] == [web.problem]
        status, text, content_type = get(port, "/metrics")
        assert status == 200 and content_type.startswith("text/plain")
        assert b"claimwatch_articles_consumed_total 0.0" in text
        assert get(port, "/stats/sources")[0] == 404
    with socket.socket() as sock:  # the port is free again, for Faust's web server
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


def test_a_taken_web_port_is_one_line() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(ConfigError) as info:
            WaitingWeb("127.0.0.1", port, "waiting", ClaimwatchMetrics())
    assert str(info.value) == (
        f"cannot listen on 127.0.0.1:{port} (CLAIMWATCH_WEB_HOST/CLAIMWATCH_WEB_PORT): "
        "Address already in use"
    )


def closed_port_settings(tmp_path: Path, timeout_s: float) -> Settings:
    return Settings(
        bootstrap_servers=f"127.0.0.1:{free_port()}",
        startup_timeout_s=timeout_s,
        web_port=free_port(),
        home=tmp_path,
    )


def test_wait_for_broker_gives_up_and_frees_the_port(tmp_path: Path) -> None:
    settings = closed_port_settings(tmp_path, 1.5)
    with pytest.raises(KafkaUnavailableError) as info:
        wait_for_broker(settings, ClaimwatchMetrics())
    assert str(info.value) == (
        f"cannot reach Kafka at {settings.bootstrap_servers} within 1.5s "
        "(CLAIMWATCH_STARTUP_TIMEOUT_S): connection refused"
    )
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", settings.web_port))


def test_wait_for_broker_returns_false_when_stopped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = closed_port_settings(tmp_path, 120)
    stop = threading.Event()
    result: list[bool] = []
    waiting = threading.Thread(
        target=lambda: result.append(wait_for_broker(settings, ClaimwatchMetrics(), stop))
    )
    with caplog.at_level("WARNING", logger="claimwatch.startup"):
        waiting.start()
        wait_until(  # the first failed attempt shows on /readyz; then stopping ends the wait
            lambda: "(attempt 1;" in str(_readyz(settings.web_port)), 30, "attempt 1 on /readyz"
        )
        stop.set()
        waiting.join(30)
    assert result == [False]
    assert caplog.messages[0] == (
        f"waiting for Kafka at {settings.bootstrap_servers}: connection refused "
        "(attempt 1; next try in 1s; giving up in 120s)"
    )


def _readyz(port: int) -> dict[str, Any] | None:
    try:
        return body(get(port, "/readyz"))[1]
    except OSError:
        return None

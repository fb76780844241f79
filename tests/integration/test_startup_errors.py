"""No broker at all: every command says so in one line, and the long-running ones wait.

Each test points claimwatch at a closed port on 127.0.0.1 (the OS handed it out and
took it back, so a connection is refused at once) and runs the real command line
in a subprocess, as a newcomer would: the exact stderr, stdout and exit code.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from service.settings import PREFIX, Settings
from tests.integration.worker_proc import ROOT, WorkerProcess, free_port, wait_until

KAFKA_UNAVAILABLE_EXIT = 2  # every ClaimwatchError (service/errors.py)
# How long the closed-port commands may take: Python start (~5 s on this machine,
# more while other tests run) plus kafka-python's 2 s bootstrap wait.
COMMAND_TIMEOUT_S = 120


def environment(home: Path, bootstrap: str, **variables: str) -> dict[str, str]:
    """The process environment of a command: no CLAIMWATCH_* of ours, then these."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            f"{PREFIX}BOOTSTRAP_SERVERS": bootstrap,
            f"{PREFIX}HOME": str(home),
            **{PREFIX + name.upper(): value for name, value in variables.items()},
        }
    )
    return env


@pytest.fixture
def closed_bootstrap() -> str:
    return f"127.0.0.1:{free_port()}"


COMMANDS = {
    "tail": ["tail", "articles", "--max", "1"],
    "tail --from-beginning": ["tail", "articles.flagged", "--from-beginning", "--json"],
    "topics list": ["topics", "list"],
    "topics create": ["topics", "create"],
    "produce": ["produce", "{articles}"],
    "review tail": ["review", "tail", "--max", "1"],
    "verdicts export": ["verdicts", "export", "--out", "{out}"],
}


def test_every_kafka_command_reports_an_unreachable_broker_in_one_line(
    tmp_path: Path, closed_bootstrap: str
) -> None:
    articles = tmp_path / "articles.jsonl"
    articles.write_text('{"id": "a1", "text": "The minister reportedly resigned."}\n')
    env = environment(tmp_path / "home", closed_bootstrap)
    started = {
        name: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "service.cli",
                *(a.format(articles=articles, out=tmp_path / "out.jsonl") for a in argv),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, argv in COMMANDS.items()
    }
    results = {name: p.communicate(timeout=COMMAND_TIMEOUT_S) for name, p in started.items()}
    line = f"claimwatch: error [kafka_unavailable]: cannot reach Kafka at {closed_bootstrap}\n"
    for name, process in started.items():
        out, err = results[name]
        assert (process.returncode, out, err) == (KAFKA_UNAVAILABLE_EXIT, "", line), name
    assert not (tmp_path / "out.jsonl").exists()


def test_kafka_status_without_a_local_cluster_says_how_to_start_one(tmp_path: Path) -> None:
    directory = tmp_path / "no-cluster"
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "kafka", "status", "--dir", str(directory)],
        cwd=ROOT,
        env=environment(tmp_path / "home", "127.0.0.1:1"),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
    )
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout == (
        f"state: absent  ({directory}): no local cluster; start one with: claimwatch kafka up\n"
    )


def closed_port_worker(tmp_path: Path, bootstrap: str, timeout_s: float) -> WorkerProcess:
    settings = Settings(
        bootstrap_servers=bootstrap,
        startup_timeout_s=timeout_s,
        home=tmp_path / "home",
        data_dir=tmp_path / "worker-data",
    )
    return WorkerProcess(settings, tmp_path)


WAITING = re.compile(
    r"^\S+ \S+ WARNING claimwatch\.startup: waiting for Kafka at (?P<servers>\S+): "
    r"connection refused \(attempt (?P<attempt>\d+); next try in \d+s; giving up in \d+s\)$"
)


def test_worker_waits_then_gives_up_in_one_line(tmp_path: Path, closed_bootstrap: str) -> None:
    worker = closed_port_worker(tmp_path, closed_bootstrap, timeout_s=12).start()
    try:
        # meanwhile: alive, not ready, and /readyz says what it waits for
        readyz = wait_until(
            lambda: _waiting_answer(worker), 90, "/readyz naming a failed attempt", every_s=0.2
        )
        assert readyz["status"] == "not_ready"
        assert readyz["problems"][0].startswith(
            f"waiting for Kafka at {closed_bootstrap}: connection refused (attempt "
        )
        assert worker.get("/healthz") == (200, {"status": "ok", "phase": "waiting_for_kafka"})
        code = worker.wait_exit(60)
    finally:
        worker.ensure_stopped()
    lines = worker.log_path.read_text().splitlines()
    assert code == KAFKA_UNAVAILABLE_EXIT, lines
    assert lines[0].startswith("claimwatch worker: model ")
    waits = [WAITING.match(line) for line in lines[1:-1]]
    assert all(waits), lines  # nothing else: no traceback, no Faust
    assert [int(m["attempt"]) for m in waits if m] == list(range(1, len(waits) + 1))
    assert len(waits) >= 3  # 1 s, 2 s, 4 s ... apart within 12 s
    assert lines[-1] == (
        f"claimwatch: error [kafka_unavailable]: cannot reach Kafka at {closed_bootstrap} "
        "within 12s (CLAIMWATCH_STARTUP_TIMEOUT_S): connection refused"
    )


def test_worker_stopped_while_waiting_exits_cleanly(tmp_path: Path, closed_bootstrap: str) -> None:
    worker = closed_port_worker(tmp_path, closed_bootstrap, timeout_s=300).start()
    try:
        wait_until(lambda: _waiting_answer(worker), 90, "the first failed attempt", every_s=0.2)
        code = worker.stop(30)
    finally:
        worker.ensure_stopped()
    lines = worker.log_path.read_text().splitlines()
    assert code == 0, lines
    assert lines[-1] == "claimwatch worker: stopped while waiting for Kafka"
    assert not any("Traceback" in line for line in lines)


def get_json(url: str) -> tuple[int, object] | None:
    """(status, JSON body) of a GET, None while nothing listens."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except OSError:
        return None


def _waiting_answer(worker: WorkerProcess) -> dict[str, object] | None:
    """/readyz's body once it names a failed attempt (the worker must still run)."""
    worker.assert_alive()
    answer = worker.get("/readyz")
    if answer and answer[0] == 503 and "(attempt " in str(answer[1].get("problems")):
        return answer[1]
    return None


def test_review_serve_waits_for_kafka_then_gives_up_in_one_line(
    tmp_path: Path, closed_bootstrap: str
) -> None:
    port = free_port()
    env = environment(
        tmp_path / "home",
        closed_bootstrap,
        startup_timeout_s="12",
        review_port=str(port),
        review_db=str(tmp_path / "review.sqlite3"),
        review_token="a-team-token",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "review", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # the page answers while the reader waits
        healthz = f"http://127.0.0.1:{port}/healthz"
        assert wait_until(lambda: get_json(healthz), 60, "/healthz of review serve") == (
            200,
            {"ok": True},
        )
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    assert process.returncode == KAFKA_UNAVAILABLE_EXIT, err
    store = tmp_path / "review.sqlite3"
    assert out == f"claimwatch review: http://127.0.0.1:{port}/ (store {store})\n"
    lines = err.splitlines()
    pattern = re.compile(
        rf"^WARNING service\.review\.consumer: review intake waiting for Kafka at "
        rf"{re.escape(closed_bootstrap)}: connection refused "
        r"\(attempt (\d+); next try in \d+s; giving up in \d+s\)$"
    )
    waits = [pattern.match(line) for line in lines[:-1]]
    assert all(waits), lines
    assert [int(m[1]) for m in waits if m] == list(range(1, len(waits) + 1))
    assert len(waits) >= 3
    assert lines[-1] == (
        f"claimwatch: error [kafka_unavailable]: cannot reach Kafka at {closed_bootstrap} "
        "within 12s (CLAIMWATCH_STARTUP_TIMEOUT_S): connection refused"
    )

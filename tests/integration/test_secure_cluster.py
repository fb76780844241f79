"""A secured cluster: every part of claimwatch over SASL_SSL, and refusals in one line.

One broker for the whole module, started as a user would, with
``claimwatch kafka up --secure --free-ports``; every command then runs with exactly
the client settings that command printed (changing only the mechanism, a password
or the CA file), as a subprocess: the worker, ``produce``, ``tail``, ``topics``,
``review serve`` (its intake of flagged items and its verdict producer),
``review tail`` and ``verdicts export``, with PLAIN and with SCRAM-SHA-512; the
mutual-TLS listener with ``produce`` and ``tail``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from models.article.assess import assess_batch
from models.artifact import load_model
from service.kafka import cluster as kafka_cluster
from service.kafka import secure
from service.kafka.launcher import Cluster
from service.kafka.topics import TopicSpec, admin_client, ensure_topics
from service.settings import PREFIX, Settings, default_home
from tests.integration.worker_proc import (
    ROOT,
    WorkerProcess,
    free_port,
    synthetic_articles,
    wait_until,
)

REFUSED_EXIT = 2  # every ClaimwatchError (service/errors.py)
COMMAND_TIMEOUT_S = 120  # Python start and a TLS + SASL login; a hang fails here instead
# The worker's start (model, Faust, the group's first rebalance) on a loaded 2-core machine.
WORKER_TIMEOUT_S = 240
TOKEN = "a-reviewer-token"
UP = ("kafka", "up", "--secure", "--free-ports")


def _jars_home() -> Path:
    configured = os.environ.get(f"{PREFIX}HOME")
    return Path(configured) if configured else default_home()


def _exports(text: str, commented: bool = False) -> dict[str, str]:
    """The variables of the ``export`` lines, or of the commented ones (the mutual-TLS
    alternative)."""
    start = "#   export " if commented else "export "
    lines = [line.removeprefix(start) for line in text.splitlines() if line.startswith(start)]
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture(scope="module")
def secure_broker(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, dict[str, str]]]:
    """(cluster directory, the SASL_SSL settings `kafka up --secure` printed)."""
    directory = tmp_path_factory.mktemp("secure-kafka")
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env.update({"PYTHONPATH": str(ROOT), f"{PREFIX}HOME": str(_jars_home())})
    up = subprocess.run(
        [sys.executable, "-m", "service.cli", *UP, "--dir", str(directory)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    try:
        assert up.returncode == 0, up.stderr
        yield directory, up.stdout
    finally:
        cluster = Cluster.load(directory)
        if cluster:
            kafka_cluster.stop(cluster, progress=lambda _m: None)


@pytest.fixture
def client_env(secure_broker: tuple[Path, str], tmp_path: Path, unique: str) -> dict[str, str]:
    """A process environment with the printed settings and topics private to this test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env.update(_exports(secure_broker[1]))
    prefix = f"s{unique}."
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            f"{PREFIX}HOME": str(tmp_path / "home"),
            f"{PREFIX}APP_ID": f"claimwatch-{unique}",
            f"{PREFIX}DATA_DIR": str(tmp_path / "worker-data"),
            f"{PREFIX}TOPIC_PARTITIONS": "2",
            f"{PREFIX}STARTUP_TIMEOUT_S": "60",
            f"{PREFIX}REVIEW_DB": str(tmp_path / "review.sqlite3"),
            f"{PREFIX}REVIEW_TOKEN": TOKEN,
            **{
                f"{PREFIX}TOPIC_{name.upper()}": prefix + topic
                for name, topic in Settings().topics.__dict__.items()
            },
        }
    )
    return env


def claimwatch(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(
    process: subprocess.Popen[str], timeout_s: float = COMMAND_TIMEOUT_S
) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout_s)
    return process.returncode, out, err


def stop_all(processes: Iterable[subprocess.Popen[str]]) -> None:
    """Kill whatever is still running (a test that failed part-way)."""
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)


# ---------------------------------------------------------------- the whole loop


def _api(base: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "X-Reviewer": "alice",
            "Content-Type": "application/json",
        },
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _queue(base: str, serve: subprocess.Popen[str]) -> list[str] | None:
    assert serve.poll() is None, serve.communicate()
    try:
        return [item["article_id"] for item in _api(base, "/api/queue")["items"]]
    except OSError:
        return None


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
def test_the_service_runs_over_sasl_ssl(
    client_env: dict[str, str], tmp_path: Path, mechanism: str
) -> None:
    env = {**client_env, f"{PREFIX}SASL_MECHANISM": mechanism}
    settings = Settings.from_env(env)
    articles = synthetic_articles(12, f"{mechanism.lower()}-")
    model = load_model()  # the worker's default artifact
    ids, texts = [i for i, _ in articles], [t for _, t in articles]
    flagged = {a.article_id for a in assess_batch(model, ids, texts) if a.flagged}
    assert 0 < len(flagged) < len(articles)  # the loop below has something to review
    source = tmp_path / "articles.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in articles))
    admin = admin_client(settings.kafka_client_config())
    try:
        ensure_topics(admin, [TopicSpec(name, 2, 1) for name in settings.topics.all()])
    finally:
        admin.close()

    # All at once, as in a deployment: the worker, the review app, an upstream, a reader.
    worker = WorkerProcess(settings, tmp_path).start(extra_env=env)
    review_port = free_port()
    serve = claimwatch({**env, f"{PREFIX}REVIEW_PORT": str(review_port)}, "review", "serve")
    base = f"http://127.0.0.1:{review_port}"
    producing = claimwatch(env, "produce", str(source))
    tail = ["--from-beginning", "--max", "12", "--timeout", "150", "--json"]
    tailing = claimwatch(env, "tail", settings.topic_scored, *tail)
    try:
        code, _, err = finished(producing)
        assert code == 0, err
        assert re.fullmatch(
            rf"sent 12 to {re.escape(settings.topic_articles)} in \S+ \(\S+\); failed 0; skipped 0",
            err.splitlines()[-1],
        ), err
        code, out, err = finished(tailing, WORKER_TIMEOUT_S)
        assert code == 0, (err, worker.log_tail())
        decisions = {
            m["value"]["article_id"]: m["value"] for m in map(json.loads, out.splitlines())
        }
        assert set(decisions) == set(ids)
        assert {i for i, d in decisions.items() if d["flagged"]} == flagged

        # review serve: its intake reads the flagged items, its producer sends a verdict
        wait_until(
            lambda: set(_queue(base, serve) or ()) == flagged,
            60,
            "the flagged articles in the review queue",
        )
        chosen = sorted(flagged)[0]
        answer = _api(base, f"/api/articles/{chosen}/verdict", {"verdict": "contested"})
        assert answer["produced"] is True, answer
        exporting = claimwatch(env, "verdicts", "export", "--out", str(tmp_path / "verdicts.jsonl"))
        assert worker.stop() == 0, worker.log_tail()
        code, _, err = finished(exporting)
        assert code == 0, err
    finally:
        serve.terminate()
        serve.communicate(timeout=30)
        stop_all([producing, tailing])
        worker.ensure_stopped()
    (line,) = (tmp_path / "verdicts.jsonl").read_text().splitlines()
    exported = json.loads(line)
    assert (exported["id"], exported["label"]) == (chosen, "contested")
    assert exported["text"] == dict(articles)[chosen]


# ---------------------------------------------------------------- refusals


@pytest.fixture
def untrusted_ca(tmp_path: Path) -> Path:
    """Another throwaway CA's certificate: it did not sign the broker's."""
    other = secure.secure_files(tmp_path / "another-cluster")
    secure.prepare(other)
    return other.ca


COMMANDS = {
    "tail": ["tail", "{articles}", "--max", "1"],
    "topics list": ["topics", "list"],
    "produce": ["produce", "{file}"],
    "review tail": ["review", "tail", "--max", "1"],
    "verdicts export": ["verdicts", "export", "--out", "{out}"],
}


def _auth_line(bootstrap: str, mechanism: str) -> re.Pattern[str]:
    return re.compile(
        rf"claimwatch: error \[kafka_auth_failed\]: Kafka at {re.escape(bootstrap)} refused "
        rf"the SASL {mechanism} login of user 'claimwatch': "
        r"[^\n]*(invalid credentials|Invalid username or password)[^\n]*"
        r" \(CLAIMWATCH_SASL_USERNAME/CLAIMWATCH_SASL_PASSWORD\)\n"
    )


def _tls_line(bootstrap: str, cafile: Path) -> re.Pattern[str]:
    return re.compile(
        rf"claimwatch: error \[kafka_tls_failed\]: TLS with Kafka at {re.escape(bootstrap)} "
        r"failed: [^\n]*certificate[^\n]* "
        rf"\(CLAIMWATCH_SSL_CAFILE={re.escape(str(cafile))}, no client certificate\)\n"
    )


def test_a_wrong_password_or_an_untrusted_certificate_ends_each_command_in_one_line(
    client_env: dict[str, str], tmp_path: Path, untrusted_ca: Path
) -> None:
    articles = tmp_path / "articles.jsonl"
    articles.write_text('{"id": "r1", "text": "The minister reportedly resigned."}\n')
    bootstrap = client_env[f"{PREFIX}BOOTSTRAP_SERVERS"]
    wrong = {**client_env, f"{PREFIX}SASL_PASSWORD": "not-the-password"}
    # each command once with a wrong password, the mechanisms taking turns; one untrusted CA
    mechanisms = ("SCRAM-SHA-512", "PLAIN")
    cases = {
        (name, mechanisms[i % 2]): ({**wrong, f"{PREFIX}SASL_MECHANISM": mechanisms[i % 2]}, argv)
        for i, (name, argv) in enumerate(COMMANDS.items())
    }
    untrusted = {**client_env, f"{PREFIX}SSL_CAFILE": str(untrusted_ca)}
    cases[("tail", "untrusted")] = (untrusted, COMMANDS["tail"])
    started = {
        case: claimwatch(
            env,
            *(
                arg.format(
                    articles=client_env[f"{PREFIX}TOPIC_ARTICLES"],
                    file=articles,
                    out=tmp_path / "out.jsonl",
                )
                for arg in argv
            ),
        )
        for case, (env, argv) in cases.items()
    }
    try:
        results = {case: finished(process) for case, process in started.items()}
    finally:
        stop_all(started.values())
    for (name, kind), (code, out, err) in results.items():
        line = (
            _tls_line(bootstrap, untrusted_ca)
            if kind == "untrusted"
            else _auth_line(bootstrap, kind)
        )
        assert (code, out) == (REFUSED_EXIT, ""), (name, kind, err)
        assert line.fullmatch(err), (name, kind, err)
    assert not (tmp_path / "out.jsonl").exists()


def test_the_worker_and_review_serve_stop_at_a_refusal_without_waiting(
    client_env: dict[str, str], tmp_path: Path, untrusted_ca: Path
) -> None:
    bootstrap = client_env[f"{PREFIX}BOOTSTRAP_SERVERS"]
    wrong = {**client_env, f"{PREFIX}SASL_PASSWORD": "not-the-password"}
    worker = WorkerProcess(Settings.from_env(wrong), tmp_path).start(extra_env=wrong)
    untrusted = {
        **client_env,
        f"{PREFIX}SSL_CAFILE": str(untrusted_ca),
        f"{PREFIX}REVIEW_PORT": str(free_port()),
    }
    serve = claimwatch(untrusted, "review", "serve")
    try:
        code = worker.wait_exit(COMMAND_TIMEOUT_S)
        serve_code, serve_out, serve_err = finished(serve)
    finally:
        worker.ensure_stopped()
        stop_all([serve])
    lines = worker.log_path.read_text().splitlines()
    assert code == REFUSED_EXIT, lines
    assert lines[0].startswith("claimwatch worker: model ")
    # no "waiting for Kafka" attempts and no traceback: the refusal is the next line
    assert len(lines) == 2, lines
    assert _auth_line(bootstrap, "SCRAM-SHA-512").fullmatch(lines[1] + "\n"), lines
    assert serve_code == REFUSED_EXIT, serve_err
    assert serve_out.startswith("claimwatch review: http://127.0.0.1:")
    assert _tls_line(bootstrap, untrusted_ca).fullmatch(serve_err), serve_err


# ---------------------------------------------------------------- mutual TLS


def test_mutual_tls_clients_need_the_client_certificate(
    secure_broker: tuple[Path, str], client_env: dict[str, str], tmp_path: Path
) -> None:
    directory, printed = secure_broker
    mtls = _exports(printed, commented=True)
    assert mtls[f"{PREFIX}SECURITY_PROTOCOL"] == "SSL"
    sasl_only = (f"{PREFIX}SASL_MECHANISM", f"{PREFIX}SASL_USERNAME", f"{PREFIX}SASL_PASSWORD")
    env = {k: v for k, v in client_env.items() if k not in sasl_only} | mtls
    no_certificate = {
        k: v for k, v in env.items() if k not in (f"{PREFIX}SSL_CERTFILE", f"{PREFIX}SSL_KEYFILE")
    }
    articles = tmp_path / "articles.jsonl"
    articles.write_text('{"id": "m1", "text": "The minister reportedly resigned."}\n')
    topic = env[f"{PREFIX}TOPIC_ARTICLES"]
    tail = ["tail", topic, "--from-beginning", "--max", "1", "--timeout", "60", "--json"]
    producing = claimwatch(env, "produce", str(articles))
    tailing = claimwatch(env, *tail)
    refused = claimwatch(no_certificate, "produce", str(articles))
    status = claimwatch(env, "kafka", "status", "--dir", str(directory))
    try:
        results = [finished(p) for p in (producing, tailing, refused, status)]
    finally:
        stop_all([producing, tailing, refused, status])

    code, _, err = results[0]
    assert code == 0, err
    code, out, err = results[1]
    assert code == 0, err
    (message,) = map(json.loads, out.splitlines())
    assert (message["key"], message["value"]["id"]) == ("m1", "m1")
    code, out, err = results[2]
    assert (code, out) == (REFUSED_EXIT, ""), err
    mtls_bootstrap = mtls[f"{PREFIX}BOOTSTRAP_SERVERS"]
    assert err.startswith(
        f"claimwatch: error [kafka_tls_failed]: TLS with Kafka at {mtls_bootstrap} failed: "
    ), err
    assert err.endswith(
        f"({PREFIX}SSL_CAFILE={mtls[f'{PREFIX}SSL_CAFILE']}, no client certificate)\n"
    )
    code, out, err = results[3]
    assert code == 0, err
    assert f"mutual TLS: {mtls_bootstrap}\n" in out
    assert f"client settings (SASL_SSL): {directory / 'secure' / 'client.env'}\n" in out

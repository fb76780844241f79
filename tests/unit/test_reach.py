"""service/reach.py: the error line, the probe's words and the wait with backoff."""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from kafka.errors import KafkaConnectionError, NoBrokersAvailable, UnrecognizedBrokerVersion

from service.errors import KafkaUnavailableError
from service.reach import (
    Attempt,
    backoff_delays,
    check_access,
    host_and_port,
    probe_kafka,
    unreachable,
    wait_for_kafka,
)

CONFIG: dict[str, Any] = {"bootstrap_servers": ["127.0.0.1:1"], "security_protocol": "PLAINTEXT"}


def closed_port() -> int:
    """A port nothing listens on (the OS just handed it out and took it back)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (None, "cannot reach Kafka at 127.0.0.1:1"),
        (NoBrokersAvailable(), "cannot reach Kafka at 127.0.0.1:1"),
        (KafkaConnectionError(), "cannot reach Kafka at 127.0.0.1:1"),
        (
            UnrecognizedBrokerVersion("broker too old"),
            "cannot reach Kafka at 127.0.0.1:1: UnrecognizedBrokerVersion: broker too old",
        ),
    ],
)
def test_unreachable_says_more_only_when_kafka_python_does(
    error: BaseException | None, line: str
) -> None:
    found = unreachable(CONFIG, error)
    assert isinstance(found, KafkaUnavailableError) and found.code == "kafka_unavailable"
    assert str(found) == line


def test_unreachable_names_every_bootstrap_server() -> None:
    config = {"bootstrap_servers": ["a:9092", "b:9092"]}
    assert str(unreachable(config)) == "cannot reach Kafka at a:9092,b:9092"


@pytest.mark.parametrize(
    ("server", "pair"),
    [
        ("kafka:9092", ("kafka", 9092)),
        (" 10.0.0.1:29092 ", ("10.0.0.1", 29092)),
        ("[::1]:9093", ("::1", 9093)),
        ("kafka", ("kafka", 9092)),
    ],
)
def test_host_and_port(server: str, pair: tuple[str, int]) -> None:
    assert host_and_port(server) == pair


def test_probe_names_a_refused_connection_at_once() -> None:
    port = closed_port()
    assert probe_kafka({"bootstrap_servers": [f"127.0.0.1:{port}"]}, 5.0) == "connection refused"


def test_probe_names_the_problem_of_each_server() -> None:
    port = closed_port()
    servers = ["nowhere.invalid:9092", f"127.0.0.1:{port}"]
    assert probe_kafka({"bootstrap_servers": servers}, 5.0) == (
        f"nowhere.invalid:9092 host not found; 127.0.0.1:{port} connection refused"
    )


def test_probe_of_a_server_that_is_not_kafka_says_no_broker_answered() -> None:
    with socket.socket() as silent:  # accepts connections, never answers a request
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        config = {"bootstrap_servers": [f"127.0.0.1:{silent.getsockname()[1]}"]}
        assert probe_kafka(config, 0.5) == "no broker answered"


def test_backoff_doubles_up_to_its_cap() -> None:
    assert list(itertools.islice(backoff_delays(1.0, 10.0), 7)) == [1, 2, 4, 8, 10, 10, 10]


class FakeProbe:
    """Answers with the given problems in turn, then None (Kafka answers)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        self.calls = 0

    def __call__(self, config: Mapping[str, Any], timeout_s: float) -> str | None:
        self.calls += 1
        return self.problems.pop(0) if self.problems else None


def tiny_delays() -> Iterator[float]:
    return itertools.repeat(0.01)


def test_wait_reports_each_failed_attempt_then_returns_true() -> None:
    attempts: list[Attempt] = []
    probe = FakeProbe(["connection refused", "connection refused", "no broker answered"])
    assert wait_for_kafka(CONFIG, 60, attempts.append, probe=probe, delays=tiny_delays())
    assert probe.calls == 4
    assert [(a.number, a.problem) for a in attempts] == [
        (1, "connection refused"),
        (2, "connection refused"),
        (3, "no broker answered"),
    ]
    first = attempts[0]
    assert first.describe() == (
        f"waiting for Kafka at 127.0.0.1:1: connection refused (attempt 1; "
        f"next try in 0s; giving up in {first.remaining_s:.0f}s)"
    )
    assert first.describe().endswith("giving up in 60s)")


def test_attempt_line() -> None:
    attempt = Attempt("kafka:9092", 3, "host not found", 4.0, 171.2)
    assert attempt.describe() == (
        "waiting for Kafka at kafka:9092: host not found "
        "(attempt 3; next try in 4s; giving up in 171s)"
    )


def test_wait_gives_up_with_one_line_when_the_time_runs_out() -> None:
    attempts: list[Attempt] = []
    probe = FakeProbe(["connection refused"] * 1000)
    with pytest.raises(KafkaUnavailableError) as info:
        wait_for_kafka(CONFIG, 0.3, attempts.append, probe=probe, delays=itertools.repeat(0.05))
    assert str(info.value) == (
        "cannot reach Kafka at 127.0.0.1:1 within 0.3s (CLAIMWATCH_STARTUP_TIMEOUT_S): "
        "connection refused"
    )
    assert [a.number for a in attempts] == list(range(1, len(attempts) + 1))
    assert probe.calls == len(attempts) + 1 >= 3  # the last attempt ends the wait


def test_wait_ends_when_stopped() -> None:
    stop = threading.Event()
    probe = FakeProbe(["connection refused"] * 1000)

    def stop_after_two(attempt: Attempt) -> None:
        if attempt.number == 2:
            stop.set()

    assert not wait_for_kafka(CONFIG, 60, stop_after_two, stop, probe=probe, delays=tiny_delays())
    assert probe.calls == 2


def test_access_check_leaves_plaintext_alone() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        check_access({"bootstrap_servers": [f"127.0.0.1:{port}"], "security_protocol": "PLAINTEXT"})
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listener.accept()  # nobody connected


def test_access_check_leaves_an_unreachable_secure_broker_to_the_caller() -> None:
    config = {
        "bootstrap_servers": [f"127.0.0.1:{closed_port()}"],
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": "u",
        "sasl_plain_password": "p",
    }
    check_access(config, timeout_s=1.0)  # no error of its own: the client says "cannot reach"

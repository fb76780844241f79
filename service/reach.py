"""Reaching Kafka the same way everywhere: one probe, one wait at start, one error line.

A command run by a person fails at once with :func:`unreachable`'s line. A process
started together with its broker (Compose, Kubernetes: the worker, the review app's
reader) calls :func:`wait_for_kafka` instead, which probes with backoff until
``CLAIMWATCH_STARTUP_TIMEOUT_S`` runs out and reports every attempt in one line.
The probe is kafka-python's, with the settings' SASL/TLS pass-through, so a
broker that needs credentials is probed with them.

On a secured cluster a broker that answers can still refuse us: a wrong password,
a certificate we do not trust. kafka-python's clients retry that forever (it logs
each refusal and raises nothing), so :func:`check_access` opens one connection
first and turns a refusal into :class:`KafkaAuthError` or :class:`KafkaTlsError`:
every command and the start-up wait end with that one line instead of hanging.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from service.errors import KafkaAuthError, KafkaTlsError, KafkaUnavailableError
from service.settings import PREFIX

# The first retry comes soon (a broker that starts with us is often up in seconds);
# later ones at most every 10 s, so a long wait costs the broker little.
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 10.0
# One attempt: a refused connection fails at once; a silent host takes this long.
PROBE_TIMEOUT_S = 5.0
# kafka-python's words when nothing answered at all; anything else is worth printing.
NOBODY_ANSWERED = ("NoBrokersAvailable", "KafkaConnectionError")
NO_ANSWER = "no broker answered"

Probe = Callable[[Mapping[str, Any], float], str | None]


def servers_of(config: Mapping[str, Any]) -> str:
    """The bootstrap servers of a kafka-python config, as the user wrote them."""
    servers = config.get("bootstrap_servers", [])
    return servers if isinstance(servers, str) else ",".join(servers)


def problem_of(error: BaseException) -> str:
    """Why a connection attempt failed, in a few words (kafka-python's own, when useful)."""
    name = type(error).__name__
    detail = str(error)
    if name in NOBODY_ANSWERED and detail in ("", name, f"{name}: {name}"):
        return NO_ANSWER
    if not detail or detail.startswith(name):  # kafka-python's errors name themselves
        return detail or name
    return f"{name}: {detail}"


def unreachable(
    config: Mapping[str, Any], error: BaseException | None = None
) -> KafkaUnavailableError:
    """The error a command raises when Kafka does not answer: ``cannot reach Kafka at S``,
    with kafka-python's reason appended only when it says more than "nobody answered"."""
    detail = f"cannot reach Kafka at {servers_of(config)}"
    problem = problem_of(error) if error is not None else NO_ANSWER
    if problem != NO_ANSWER:
        detail += f": {problem}"
    return KafkaUnavailableError(detail)


def host_and_port(server: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port``; Kafka's 9092 when no port is given) as a pair."""
    host, colon, port = server.strip().rpartition(":")
    if not colon or not port.isdigit() or (host.count(":") and not host.startswith("[")):
        return server.strip().strip("[]"), 9092
    return host.strip("[]"), int(port)


def connection_problem(server: str, timeout_s: float) -> str | None:
    """None when ``server`` accepts a TCP connection; otherwise why not, in a few words."""
    host, port = host_and_port(server)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except socket.gaierror:
        return "host not found"
    except TimeoutError:
        return "connection timed out"
    except ConnectionRefusedError:
        return "connection refused"
    except OSError as error:
        return (error.strerror or type(error).__name__).lower()


def socket_problem(config: Mapping[str, Any], timeout_s: float) -> str | None:
    """None when some bootstrap server accepts a connection; otherwise each one's problem
    (just the problem when there is one server), so the wait's line says what is wrong."""
    servers = [s for s in servers_of(config).split(",") if s.strip()]
    problems = {s.strip(): connection_problem(s, timeout_s) for s in servers}
    if not problems or any(problem is None for problem in problems.values()):
        return None
    if len(problems) == 1:
        return next(iter(problems.values()))
    return "; ".join(f"{server} {problem}" for server, problem in problems.items())


def probe_kafka(config: Mapping[str, Any], timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """None when a metadata request through the bootstrap servers lists at least one
    broker within about ``timeout_s``; otherwise why not, in a few words. A broker
    that refuses our credentials or certificate raises (:func:`check_access`): no
    wait makes that better.

    A plain TCP connection is tried first: a refused or unresolvable server is
    reported at once and by name, where kafka-python would retry for ``timeout_s``
    and only say that no broker answered.
    """
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    refused = socket_problem(config, timeout_s)
    if refused is not None:
        return refused
    check_access(config, timeout_s)
    timeout_ms = max(100, int(timeout_s * 1000))
    try:
        admin = KafkaAdminClient(
            client_id="claimwatch-probe",
            request_timeout_ms=timeout_ms,
            api_version_auto_timeout_ms=timeout_ms,
            **config,
        )
    except (KafkaError, OSError) as error:
        return problem_of(error)
    try:
        brokers = admin.describe_cluster().get("brokers") or []
    except (KafkaError, OSError) as error:
        return problem_of(error)
    finally:
        admin.close()
    return None if brokers else "the cluster lists no brokers yet"


def check_access(config: Mapping[str, Any], timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Raise :class:`KafkaTlsError` or :class:`KafkaAuthError` when the first bootstrap
    server that accepts a TCP connection refuses our TLS handshake or SASL login.

    Plaintext settings, and servers that do not answer at all, pass: reaching Kafka
    is for the caller's own client to report (:func:`unreachable`).
    """
    protocol = str(config.get("security_protocol", "PLAINTEXT")).upper()
    if protocol == "PLAINTEXT":
        return
    for server in servers_of(config).split(","):
        if server.strip() and connection_problem(server, timeout_s) is None:
            _check_server(config, server.strip(), protocol, timeout_s)
            return


def _check_server(config: Mapping[str, Any], server: str, protocol: str, timeout_s: float) -> None:
    from kafka.conn import BrokerConnection, ConnectionStates
    from kafka.errors import KafkaError

    class Recorded(BrokerConnection):
        """Remembers in which state the connection was first closed, and why."""

        failed: tuple[str, BaseException] | None = None

        def close(self, error: BaseException | None = None) -> None:
            if error is not None and self.failed is None:
                self.failed = (self.state, error)
            super().close(error)

    host, port = host_and_port(server)
    options = {k: v for k, v in config.items() if k != "bootstrap_servers"}
    connection = Recorded(host, port, socket.AF_UNSPEC, client_id="claimwatch-access", **options)
    try:
        connection.connect_blocking(timeout_s)
    except ssl.SSLError as handshake:  # kafka-python raises a failed certificate check
        raise _tls_refused(server, config, handshake) from None
    except (KafkaError, OSError):
        return
    finally:
        connection.close()
    if connection.failed is None:
        return
    state, error = connection.failed
    if state == ConnectionStates.HANDSHAKE or isinstance(error, ssl.SSLError):
        raise _tls_refused(server, config, error)
    if state == ConnectionStates.AUTHENTICATING and "SASL" in protocol:
        raise _auth_refused(server, config, error)


def _tls_refused(server: str, config: Mapping[str, Any], error: BaseException) -> KafkaTlsError:
    reason = getattr(error, "verify_message", None) or getattr(error, "reason", None) or error
    if "closed by server" in str(reason):
        reason = "the broker closed the handshake"
    trusted = config.get("ssl_cafile")
    files = [f"{PREFIX}SSL_CAFILE={trusted}" if trusted else "the system's CAs"]
    certificate = config.get("ssl_certfile")
    files.append(f"{PREFIX}SSL_CERTFILE={certificate}" if certificate else "no client certificate")
    return KafkaTlsError(f"TLS with Kafka at {server} failed: {reason} ({', '.join(files)})")


def _auth_refused(server: str, config: Mapping[str, Any], error: BaseException) -> KafkaAuthError:
    mechanism = config.get("sasl_mechanism") or "PLAIN"
    user = config.get("sasl_plain_username")
    said = str(error).split(": ", 1)[-1].strip() or type(error).__name__
    return KafkaAuthError(
        f"Kafka at {server} refused the SASL {mechanism} login of user {user!r}: {said} "
        f"({PREFIX}SASL_USERNAME/{PREFIX}SASL_PASSWORD)"
    )


def backoff_delays(
    first_s: float = BACKOFF_FIRST_S, max_s: float = BACKOFF_MAX_S
) -> Iterator[float]:
    """Seconds to wait before each retry: ``first_s``, doubling, capped at ``max_s``."""
    delay = first_s
    while True:
        yield delay
        delay = min(delay * 2, max_s)


@dataclass(frozen=True)
class Attempt:
    """One failed probe: what the wait says about it, in one line."""

    servers: str
    number: int
    problem: str
    next_in_s: float
    remaining_s: float

    def describe(self) -> str:
        return (
            f"waiting for Kafka at {self.servers}: {self.problem} (attempt {self.number}; "
            f"next try in {self.next_in_s:.0f}s; giving up in {self.remaining_s:.0f}s)"
        )


def gave_up(servers: str, timeout_s: float, problem: str) -> KafkaUnavailableError:
    """The error that ends a wait: the servers, how long we waited and the last problem."""
    return KafkaUnavailableError(
        f"cannot reach Kafka at {servers} within {timeout_s:g}s "
        f"({PREFIX}STARTUP_TIMEOUT_S): {problem}"
    )


def wait_for_kafka(
    config: Mapping[str, Any],
    timeout_s: float,
    on_attempt: Callable[[Attempt], None],
    stop: threading.Event | None = None,
    probe: Probe = probe_kafka,
    delays: Iterator[float] | None = None,
) -> bool:
    """Probe until Kafka answers (True) or ``stop`` is set (False); raise
    :class:`KafkaUnavailableError` once ``timeout_s`` has passed without an answer.

    ``on_attempt`` hears of every failed attempt before the pause that follows it.
    """
    stop = stop or threading.Event()
    delays = delays or backoff_delays()
    servers = servers_of(config)
    deadline = time.monotonic() + timeout_s
    number = 0
    while True:
        number += 1
        problem = probe(config, min(PROBE_TIMEOUT_S, max(0.1, deadline - time.monotonic())))
        if problem is None:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise gave_up(servers, timeout_s, problem)
        pause = min(next(delays), remaining)
        on_attempt(Attempt(servers, number, problem, pause, remaining))
        if stop.wait(pause):
            return False

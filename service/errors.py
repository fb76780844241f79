"""The service's exception hierarchy.

Every error a user can meet carries a stable ``code``: the CLI prints it, the
dead-letter record stores it, and metrics use it as a label, so one word names
one failure everywhere.
"""

from __future__ import annotations


class ClaimwatchError(Exception):
    """Base class for errors the CLI reports as one clear line (no traceback)."""

    code = "error"
    exit_code = 2

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def __str__(self) -> str:
        return self.detail


class ConfigError(ClaimwatchError):
    """A setting (environment variable or flag) has a value we cannot use."""

    code = "config_error"


class KafkaUnavailableError(ClaimwatchError):
    """The Kafka cluster could not be reached within the allowed time."""

    code = "kafka_unavailable"


class KafkaRefusedError(KafkaUnavailableError):
    """A broker answered but refused us: no retry helps until a setting changes."""

    code = "kafka_refused"


class KafkaAuthError(KafkaRefusedError):
    """The broker refused the SASL login (wrong user or password, mechanism not offered)."""

    code = "kafka_auth_failed"


class KafkaTlsError(KafkaRefusedError):
    """The TLS handshake failed (certificate not trusted, wrong host, no client certificate)."""

    code = "kafka_tls_failed"


class InputFileError(ClaimwatchError):
    """A file given to a command is not what it should be (names the line)."""

    code = "invalid_input"

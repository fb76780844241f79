"""One settings object, read from ``CLAIMWATCH_*`` environment variables in one place.

Nothing else in the code base reads the environment: the CLI calls
:meth:`Settings.from_env` once and passes the result down. Tests build their own
``Settings(...)`` directly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from service.errors import ConfigError

PREFIX = "CLAIMWATCH_"
SCORING_MODES = ("process", "thread")  # where batches are scored (service/worker/scorer.py)
# What both Kafka clients (kafka-python and Faust's aiokafka) accept with a user and password.
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
# Codecs of the worker's outputs: Kafka's five (librdkafka and the Java client name them so).
COMPRESSION_TYPES = ("none", "gzip", "snappy", "lz4", "zstd")
TABLE_STORES = ("rocksdict", "memory")  # where the dedupe table lives (service/worker/app.py)
# A week: wire services re-send and correct stories over days (a re-send after a
# week is rare and scoring it again costs one decision), while at 500k articles a
# day a week is ~3.5M ids, which the disk-backed store keeps off the heap.
DEFAULT_DEDUPE_WINDOW_S = 7 * 24 * 3600.0
# A week too: a rumour is re-told for days; a claim back after a quiet week starts a
# new cluster (issue 16).
DEFAULT_CLAIM_WINDOW_S = 7 * 24 * 3600.0


def default_home() -> Path:
    """Per-user directory for the Kafka jars, local broker data and caches."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "claimwatch"


@dataclass(frozen=True)
class Topics:
    """Topic names; defaults follow DESIGN.md."""

    articles: str = "articles"
    flagged: str = "articles.flagged"
    scored: str = "articles.scored"
    deadletter: str = "articles.deadletter"
    verdicts: str = "articles.verdicts"
    claims: str = "articles.claims"

    def all(self) -> list[str]:
        return [
            self.articles,
            self.flagged,
            self.scored,
            self.deadletter,
            self.verdicts,
            self.claims,
        ]


@dataclass(frozen=True)
class Settings:
    """Every tunable of claimwatch, with defaults that work against the local broker.

    Each field maps to ``CLAIMWATCH_<FIELD NAME IN UPPER CASE>``; see README.md.
    """

    bootstrap_servers: str = "127.0.0.1:9092"
    # how long the worker and the review app wait at start for Kafka to answer
    startup_timeout_s: float = 180.0
    home: Path = field(default_factory=default_home)
    # topics
    topic_articles: str = "articles"
    topic_flagged: str = "articles.flagged"
    topic_scored: str = "articles.scored"
    topic_deadletter: str = "articles.deadletter"
    topic_verdicts: str = "articles.verdicts"
    topic_claims: str = "articles.claims"  # claim memberships, from the review app
    topic_partitions: int = 4
    topic_replication: int = 1
    # worker
    app_id: str = "claimwatch"
    model_path: Path | None = None
    threshold: float | None = None
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    batch_size: int = 256
    batch_within_s: float = 0.02
    max_text_bytes: int = 200_000
    processing_guarantee: str = "at_least_once"
    scoring: str = "thread"  # or "process": where batches are scored (service/worker/scorer.py)
    session_timeout_s: float = 60.0  # a dead worker's partitions move after this long
    # codec of the worker's output batches: zstd made them ~4.9x smaller than none, as
    # small as gzip, at no worker CPU we could measure (python -m bench.compression;
    # README "Configuration")
    compression: str = "zstd"
    # languages the model scores (comma-separated ISO 639-1 codes); others are skipped
    languages: str = "en"
    stuck_batch_s: float = 60.0  # a batch failing this long turns /readyz false
    data_dir: Path | None = None
    # an id not decided within this long counts as new (service/pipeline/dedupe.py)
    dedupe_window_s: float = DEFAULT_DEDUPE_WINDOW_S
    table_store: str = "rocksdict"  # or "memory": the dedupe table's store
    log_format: str = "text"
    log_level: str = "INFO"
    source_stats_window_s: float = 3600.0
    # claim clustering (models/claims/): a cluster not joined for this long expires;
    # the similarity threshold defaults to the one chosen on FNC-1 (README "Claim clusters")
    claim_window_s: float = DEFAULT_CLAIM_WINDOW_S
    claim_threshold: float | None = None
    metrics_max_sources: int = 50
    # Kafka security pass-through (all optional)
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    # review app
    review_host: str = "127.0.0.1"
    review_port: int = 8080
    review_db: Path | None = None
    review_token: str | None = None
    review_lock_s: float = 300.0
    review_users: Path | None = None

    @property
    def supported_languages(self) -> tuple[str, ...]:
        """``languages`` as a tuple of lower-case codes, in the order given."""
        return tuple(code.strip().lower() for code in self.languages.split(",") if code.strip())

    @property
    def topics(self) -> Topics:
        return Topics(
            self.topic_articles,
            self.topic_flagged,
            self.topic_scored,
            self.topic_deadletter,
            self.topic_verdicts,
            self.topic_claims,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``CLAIMWATCH_*`` variables; ``overrides`` win (CLI flags)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, str(f.type), raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse values that cannot work, with the variable name in the message."""
        if self.processing_guarantee not in ("at_least_once", "exactly_once"):
            raise ConfigError(
                f"{PREFIX}PROCESSING_GUARANTEE must be at_least_once or exactly_once, "
                f"not {self.processing_guarantee!r}"
            )
        if self.scoring not in SCORING_MODES:
            raise ConfigError(f"{PREFIX}SCORING must be process or thread, not {self.scoring!r}")
        if self.table_store not in TABLE_STORES:
            raise ConfigError(
                f"{PREFIX}TABLE_STORE must be rocksdict or memory, not {self.table_store!r}"
            )
        if not self.dedupe_window_s > 0:
            raise ConfigError(f"{PREFIX}DEDUPE_WINDOW_S must be more than 0 seconds")
        if not self.claim_window_s > 0:
            raise ConfigError(f"{PREFIX}CLAIM_WINDOW_S must be more than 0 seconds")
        if self.claim_threshold is not None and not 0.0 < self.claim_threshold <= 1.0:
            raise ConfigError(
                f"{PREFIX}CLAIM_THRESHOLD must be more than 0 and at most 1, "
                f"not {self.claim_threshold}"
            )
        if self.threshold is not None and not 0.0 < self.threshold < 1.0:
            raise ConfigError(f"{PREFIX}THRESHOLD must be between 0 and 1, not {self.threshold}")
        if self.startup_timeout_s <= 0:
            raise ConfigError(f"{PREFIX}STARTUP_TIMEOUT_S must be more than 0 seconds")
        for name in ("batch_size", "max_text_bytes", "topic_partitions", "topic_replication"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{PREFIX}{name.upper()} must be at least 1")
        if self.compression not in COMPRESSION_TYPES:
            raise ConfigError(
                f"{PREFIX}COMPRESSION must be one of {', '.join(COMPRESSION_TYPES)}, "
                f"not {self.compression!r}"
            )
        codes = self.supported_languages
        if not codes or not all(2 <= len(c) <= 3 and c.isascii() and c.isalpha() for c in codes):
            raise ConfigError(
                f"{PREFIX}LANGUAGES must be comma-separated language codes such as en or "
                f"en,de, not {self.languages!r}"
            )
        if self.log_format not in ("text", "json"):
            raise ConfigError(f"{PREFIX}LOG_FORMAT must be text or json, not {self.log_format!r}")
        self._check_security()

    def _check_security(self) -> None:
        """Refuse what the Kafka clients would fail on with a traceback, or a hang."""
        if self.security_protocol not in SECURITY_PROTOCOLS:
            raise ConfigError(
                f"{PREFIX}SECURITY_PROTOCOL must be one of {', '.join(SECURITY_PROTOCOLS)}, "
                f"not {self.security_protocol!r}"
            )
        if not self.security_protocol.startswith("SASL_"):
            return
        if self.sasl_mechanism is not None and self.sasl_mechanism not in SASL_MECHANISMS:
            raise ConfigError(
                f"{PREFIX}SASL_MECHANISM must be one of {', '.join(SASL_MECHANISMS)}, "
                f"not {self.sasl_mechanism!r}"
            )
        if not self.sasl_username or not self.sasl_password:
            raise ConfigError(
                f"{PREFIX}SECURITY_PROTOCOL={self.security_protocol} needs "
                f"{PREFIX}SASL_USERNAME and {PREFIX}SASL_PASSWORD"
            )

    def kafka_client_config(self) -> dict[str, Any]:
        """Connection settings in kafka-python's keyword form (SASL/TLS pass-through)."""
        config: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers.split(","),
            "security_protocol": self.security_protocol,
        }
        sasl = self.security_protocol.startswith("SASL_")
        optional = {
            # PLAIN when none is named, as the worker's Faust credentials do
            "sasl_mechanism": self.sasl_mechanism or ("PLAIN" if sasl else None),
            "sasl_plain_username": self.sasl_username,
            "sasl_plain_password": self.sasl_password,
            "ssl_cafile": self.ssl_cafile,
            "ssl_certfile": self.ssl_certfile,
            "ssl_keyfile": self.ssl_keyfile,
        }
        config.update({k: v for k, v in optional.items() if v is not None})
        return config


def _parse(name: str, type_name: str, raw: str) -> Any:
    variable = PREFIX + name.upper()
    try:
        if "Path" in type_name:
            return Path(raw).expanduser()
        if type_name.startswith("int"):
            return int(raw)
        if type_name.startswith("float"):
            return float(raw)
    except ValueError:
        raise ConfigError(f"{variable}={raw!r} is not a valid {type_name.split(' ')[0]}") from None
    return raw

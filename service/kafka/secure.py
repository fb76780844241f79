"""What a local broker started with ``--secure`` needs: a throwaway CA, certificates, users.

``claimwatch kafka up --secure`` serves clients SASL_SSL (PLAIN and SCRAM-SHA-512)
and mutual TLS instead of PLAINTEXT, so the service can be tried against settings
like a managed cluster's. Everything lives in the cluster's ``secure/`` directory
and is made once per cluster (certificates again when they near their end):

- ``ca.pem`` — a self-signed certificate authority made for this cluster alone;
  clients trust it through ``CLAIMWATCH_SSL_CAFILE``;
- ``broker.pem`` — the brokers' private key and certificate (for 127.0.0.1 and
  localhost) signed by that CA, in the PEM form Kafka reads (``ssl.keystore.type=PEM``);
- ``client.pem`` / ``client-key.pem`` — a client certificate for the mutual-TLS
  listener;
- ``credentials.json`` — the generated passwords of the client user and of the
  brokers' own user (inter-broker traffic is SASL_SSL with PLAIN);
- ``client.env`` — the ``CLAIMWATCH_*`` settings a client uses, ready for ``source``.

The CA and certificates are made by :mod:`service.kafka.certificates`. Files
holding a secret are mode 0600. SCRAM users must exist before the broker starts
(KRaft keeps them in the metadata log), so :func:`scram_format_args` gives
``kafka-storage format`` its ``--add-scram``.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from service.kafka.certificates import (
    SecureFiles,
    ensure_certificates,
    secure_files,
    write_private,
)
from service.kafka.launcher import Cluster, LauncherError
from service.settings import PREFIX, Settings

CLIENT_USER = "claimwatch"
BROKER_USER = "broker"  # inter-broker traffic authenticates as this user, with PLAIN
MECHANISMS = ("PLAIN", "SCRAM-SHA-512")
DEFAULT_MECHANISM = "SCRAM-SHA-512"
SCRAM_ITERATIONS = 8192  # Kafka's default for SCRAM-SHA-512 credentials
# The listener names the secure broker uses (listener.security.protocol.map).
SASL_LISTENER = "SASL_SSL"
MTLS_LISTENER = "SSL"


@dataclass(frozen=True)
class Credentials:
    """The passwords made for one secure cluster (``credentials.json``)."""

    client_password: str
    broker_password: str

    @classmethod
    def new(cls) -> Credentials:
        # URL-safe text: no quote, comma, '=' or ']' that the JAAS line or --add-scram would trip on
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24))


def read_credentials(files: SecureFiles) -> Credentials:
    try:
        data = json.loads(files.credentials_path.read_text())
        return Credentials(data["client_password"], data["broker_password"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise LauncherError(
            f"cannot read {files.credentials_path} ({error}); "
            "run `claimwatch kafka down --purge` and start again"
        ) from None


def prepare(files: SecureFiles, now: dt.datetime | None = None) -> Credentials:
    """Make whatever of the cluster's TLS material and credentials is missing or ending.

    Credentials are made once and kept, so clients configured earlier keep working
    across restarts; so is the CA, while it is valid.
    """
    now = now or dt.datetime.now(dt.UTC)
    files.directory.mkdir(parents=True, exist_ok=True)
    files.directory.chmod(0o700)
    if not files.credentials_path.exists():
        write_private(files.credentials_path, json.dumps(asdict(Credentials.new())).encode())
    credentials = read_credentials(files)
    ensure_certificates(files, CLIENT_USER, now)
    return credentials


# ---------------------------------------------------------------- broker and clients


def _jaas(module: str, **options: str) -> str:
    return (
        f"org.apache.kafka.common.security.{module} required "
        + "".join(f'{key}="{value}" ' for key, value in options.items()).rstrip()
        + ";"
    )


def broker_properties(files: SecureFiles, credentials: Credentials) -> dict[str, object]:
    """The server.properties lines that secure a node's client and inter-broker listeners.

    The controller listener stays PLAINTEXT on 127.0.0.1: it answers only the
    controller quorum's own requests.
    """
    users = {
        f"user_{BROKER_USER}": credentials.broker_password,
        f"user_{CLIENT_USER}": credentials.client_password,
    }
    sasl = f"listener.name.{SASL_LISTENER.lower()}"
    return {
        "inter.broker.listener.name": SASL_LISTENER,
        "sasl.enabled.mechanisms": ",".join(MECHANISMS),
        "sasl.mechanism.inter.broker.protocol": "PLAIN",
        f"{sasl}.plain.sasl.jaas.config": _jaas(
            "plain.PlainLoginModule",
            username=BROKER_USER,
            password=credentials.broker_password,
            **users,
        ),
        f"{sasl}.scram-sha-512.sasl.jaas.config": _jaas("scram.ScramLoginModule"),
        f"listener.name.{MTLS_LISTENER.lower()}.ssl.client.auth": "required",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": files.broker_keystore,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": files.ca,
        "ssl.endpoint.identification.algorithm": "https",
    }


def scram_format_args(credentials: Credentials) -> list[str]:
    """``kafka-storage format`` arguments that create the client's SCRAM-SHA-512 user."""
    scram = (
        f"SCRAM-SHA-512=[name={CLIENT_USER},password={credentials.client_password},"
        f"iterations={SCRAM_ITERATIONS}]"
    )
    return ["--add-scram", scram]


def client_settings(
    bootstrap_servers: str,
    files: SecureFiles,
    credentials: Credentials,
    mechanism: str = DEFAULT_MECHANISM,
) -> dict[str, str]:
    """The ``CLAIMWATCH_*`` variables of a SASL_SSL client of this cluster."""
    if mechanism not in MECHANISMS:
        raise LauncherError(f"the local secure broker offers {' and '.join(MECHANISMS)}")
    return {
        f"{PREFIX}BOOTSTRAP_SERVERS": bootstrap_servers,
        f"{PREFIX}SECURITY_PROTOCOL": "SASL_SSL",
        f"{PREFIX}SASL_MECHANISM": mechanism,
        f"{PREFIX}SASL_USERNAME": CLIENT_USER,
        f"{PREFIX}SASL_PASSWORD": credentials.client_password,
        f"{PREFIX}SSL_CAFILE": str(files.ca),
    }


def mtls_settings(bootstrap_servers: str, files: SecureFiles) -> dict[str, str]:
    """The ``CLAIMWATCH_*`` variables of a mutual-TLS client (the SSL listener)."""
    return {
        f"{PREFIX}BOOTSTRAP_SERVERS": bootstrap_servers,
        f"{PREFIX}SECURITY_PROTOCOL": "SSL",
        f"{PREFIX}SSL_CAFILE": str(files.ca),
        f"{PREFIX}SSL_CERTFILE": str(files.client_cert),
        f"{PREFIX}SSL_KEYFILE": str(files.client_key),
    }


def client_config(variables: Mapping[str, str]) -> dict[str, Any]:
    """kafka-python's configuration for these variables, as every claimwatch command builds it."""
    return Settings.from_env(variables).kafka_client_config()


def env_text(sasl: Mapping[str, str], mtls: Mapping[str, str]) -> str:
    """``client.env``: the SASL_SSL settings as ``export`` lines, then the alternatives."""
    lines = [f"export {key}={value}" for key, value in sasl.items()]
    lines.append(f"# the same user with PLAIN: export {PREFIX}SASL_MECHANISM=PLAIN")
    lines.append("# or mutual TLS (no SASL) on the SSL listener:")
    lines.extend(f"#   export {key}={value}" for key, value in mtls.items())
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- a cluster's security


def client_security(cluster: Cluster) -> dict[str, Any]:
    """kafka-python's security settings for the launcher's own requests to ``cluster``:
    none for a plain cluster, the client user's SASL_SSL settings for a secure one."""
    if not cluster.secure:
        return {}
    files = secure_files(cluster.directory)
    variables = client_settings(cluster.bootstrap_servers, files, read_credentials(files))
    config = client_config(variables)
    del config["bootstrap_servers"]
    return config


def cluster_security(cluster: Cluster) -> tuple[dict[str, object] | None, list[str]]:
    """A secure cluster's server.properties lines and format arguments (SCRAM users),
    after making its certificates and credentials and writing ``client.env``."""
    if not cluster.secure:
        return None, []
    files = secure_files(cluster.directory)
    credentials = prepare(files)
    sasl = client_settings(cluster.bootstrap_servers, files, credentials)
    mtls = mtls_settings(cluster.mtls_bootstrap_servers, files)
    write_private(files.client_env, env_text(sasl, mtls))
    return broker_properties(files, credentials), scram_format_args(credentials)


def status(cluster: Cluster) -> dict[str, object]:
    """What `kafka status` adds for a secure cluster."""
    if not cluster.secure:
        return {}
    return {
        "mtls_bootstrap_servers": cluster.mtls_bootstrap_servers,
        "client_settings": str(secure_files(cluster.directory).client_env),
    }

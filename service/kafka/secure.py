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

Keys are EC P-256 (made in milliseconds by :mod:`cryptography`; Kafka's PEM
keystore reads unencrypted PKCS#8 keys). Files holding a secret are mode 0600.
SCRAM users must exist before the broker starts (KRaft keeps them in the metadata
log), so :func:`scram_format_args` gives ``kafka-storage format`` its ``--add-scram``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from service.kafka.launcher import HOST, Cluster, LauncherError
from service.settings import PREFIX, Settings

CLIENT_USER = "claimwatch"
BROKER_USER = "broker"  # inter-broker traffic authenticates as this user, with PLAIN
MECHANISMS = ("PLAIN", "SCRAM-SHA-512")
DEFAULT_MECHANISM = "SCRAM-SHA-512"
SCRAM_ITERATIONS = 8192  # Kafka's default for SCRAM-SHA-512 credentials
CERT_DAYS = 365
RENEW_BEFORE = dt.timedelta(days=7)  # a certificate this close to its end is made again
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


@dataclass(frozen=True)
class SecureFiles:
    """Where one cluster's TLS material and credentials live."""

    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca-key.pem"

    @property
    def broker_keystore(self) -> Path:
        return self.directory / "broker.pem"

    @property
    def client_cert(self) -> Path:
        return self.directory / "client.pem"

    @property
    def client_key(self) -> Path:
        return self.directory / "client-key.pem"

    @property
    def credentials_path(self) -> Path:
        return self.directory / "credentials.json"

    @property
    def client_env(self) -> Path:
        return self.directory / "client.env"

    def credentials(self) -> Credentials:
        try:
            data = json.loads(self.credentials_path.read_text())
            return Credentials(data["client_password"], data["broker_password"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise LauncherError(
                f"cannot read {self.credentials_path} ({error}); "
                "run `claimwatch kafka down --purge` and start again"
            ) from None


def secure_files(cluster_directory: Path) -> SecureFiles:
    return SecureFiles(cluster_directory / "secure")


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` readable by its owner only, from the first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data.encode() if isinstance(data, str) else data)
    path.chmod(0o600)


# ---------------------------------------------------------------- certificates


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
    credentials = files.credentials()
    if not all(_valid(p, now) for p in (files.ca, files.broker_keystore, files.client_cert)):
        _make_certificates(files, now)
    return credentials


def _valid(path: Path, now: dt.datetime) -> bool:
    from cryptography import x509

    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    return certificate.not_valid_after_utc - RENEW_BEFORE > now


def _make_certificates(files: SecureFiles, now: dt.datetime) -> None:
    from cryptography.hazmat.primitives import serialization

    ca_key, ca_cert = _certificate_authority(now)
    broker_key, broker_cert = _leaf("claimwatch local broker", ca_key, ca_cert, now, server=True)
    client_key, client_cert = _leaf(CLIENT_USER, ca_key, ca_cert, now, server=False)
    pem = serialization.Encoding.PEM
    pkcs8 = serialization.PrivateFormat.PKCS8
    plain = serialization.NoEncryption()
    files.ca.write_bytes(ca_cert.public_bytes(pem))
    write_private(files.ca_key, ca_key.private_bytes(pem, pkcs8, plain))
    write_private(
        files.broker_keystore,
        broker_key.private_bytes(pem, pkcs8, plain)
        + broker_cert.public_bytes(pem)
        + ca_cert.public_bytes(pem),
    )
    files.client_cert.write_bytes(client_cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    write_private(files.client_key, client_key.private_bytes(pem, pkcs8, plain))


def _name(common_name: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "claimwatch (throwaway, local)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _certificate_authority(now: dt.datetime) -> tuple[Any, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("claimwatch local CA")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _leaf(
    common_name: str, ca_key: Any, ca_cert: Any, now: dt.datetime, *, server: bool
) -> tuple[Any, Any]:
    """A key and a certificate signed by the CA: for the brokers (who also act as
    clients of each other) or for a mutual-TLS client."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = ec.generate_private_key(ec.SECP256R1())
    purposes = [ExtendedKeyUsageOID.CLIENT_AUTH]
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if server:
        purposes.append(ExtendedKeyUsageOID.SERVER_AUTH)
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
    builder = builder.add_extension(x509.ExtendedKeyUsage(purposes), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def _usage(*, cert_sign: bool) -> Any:
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not cert_sign,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


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
    variables = client_settings(cluster.bootstrap_servers, files, files.credentials())
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

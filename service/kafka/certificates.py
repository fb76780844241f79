"""The throwaway certificate authority of a secure local broker, and where its files live.

One CA per cluster signs the brokers' certificate (for 127.0.0.1 and localhost; the
brokers also present it to each other) and one client certificate for the
mutual-TLS listener. Keys are EC P-256, made in milliseconds by :mod:`cryptography`
(PyCA's X.509 builder), and written as unencrypted PKCS#8 PEM, which both Kafka's
PEM keystore (``ssl.keystore.type=PEM``) and Python's :mod:`ssl` read; files
holding a key are mode 0600 from their first byte.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.kafka.launcher import HOST

CERT_DAYS = 365
RENEW_BEFORE = dt.timedelta(days=7)  # a certificate this close to its end is made again


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


def secure_files(cluster_directory: Path) -> SecureFiles:
    return SecureFiles(cluster_directory / "secure")


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` readable by its owner only, from the first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data.encode() if isinstance(data, str) else data)
    path.chmod(0o600)


def ensure_certificates(files: SecureFiles, client_name: str, now: dt.datetime) -> None:
    """Make the CA and both certificates again unless all of them are valid past
    ``RENEW_BEFORE`` from ``now`` (a CA is kept while it lasts)."""
    if not all(_valid(p, now) for p in (files.ca, files.broker_keystore, files.client_cert)):
        _make_certificates(files, client_name, now)


def _valid(path: Path, now: dt.datetime) -> bool:
    from cryptography import x509

    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    return certificate.not_valid_after_utc - RENEW_BEFORE > now


def _make_certificates(files: SecureFiles, client_name: str, now: dt.datetime) -> None:
    from cryptography.hazmat.primitives import serialization

    ca_key, ca_cert = _certificate_authority(now)
    broker_key, broker_cert = _leaf("claimwatch local broker", ca_key, ca_cert, now, server=True)
    client_key, client_cert = _leaf(client_name, ca_key, ca_cert, now, server=False)
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

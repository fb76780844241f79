"""The secure local broker's material: certificates that verify, users, properties, settings.

These check the files with independent tools (Python's ``ssl`` and
``cryptography``'s verifier), not with the code that wrote them; the broker
itself reads them in tests/integration/test_secure_cluster.py.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store

from service.kafka import certificates, secure
from service.kafka.launcher import Cluster, LauncherError, Node, plan_nodes, server_properties


def _properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def _certificates(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


@pytest.fixture
def files(tmp_path: Path) -> secure.SecureFiles:
    return secure.secure_files(tmp_path / "cluster")


def test_the_broker_certificate_verifies_for_127_0_0_1_against_the_ca(
    files: secure.SecureFiles,
) -> None:
    secure.prepare(files)
    (ca,) = _certificates(files.ca)
    broker, *chain = _certificates(files.broker_keystore)
    verifier = (
        PolicyBuilder()
        .store(Store([ca]))
        .build_server_verifier(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    )
    verified = verifier.verify(broker, chain)
    assert verified[-1] == ca
    names = broker.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]


def test_python_ssl_loads_the_client_files(files: secure.SecureFiles) -> None:
    secure.prepare(files)
    context = ssl.create_default_context(cafile=str(files.ca))
    context.load_cert_chain(str(files.client_cert), str(files.client_key))  # raises if they differ
    (client, ca) = _certificates(files.client_cert)
    assert client.issuer == ca.subject
    usage = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]


def test_secrets_are_readable_by_their_owner_only(files: secure.SecureFiles) -> None:
    secure.prepare(files)
    for path in (files.ca_key, files.broker_keystore, files.client_key, files.credentials_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(files.directory.stat().st_mode) == 0o700


def test_credentials_and_ca_are_kept_across_restarts(files: secure.SecureFiles) -> None:
    first = secure.prepare(files)
    ca = files.ca.read_bytes()
    assert secure.prepare(files) == first
    assert files.ca.read_bytes() == ca
    assert first.client_password != first.broker_password
    assert len(first.client_password) >= 32


def test_certificates_near_their_end_are_made_again(files: secure.SecureFiles) -> None:
    then = dt.datetime.now(dt.UTC) - dt.timedelta(days=certificates.CERT_DAYS - 3)
    credentials = secure.prepare(files, now=then)
    ca = files.ca.read_bytes()
    assert secure.prepare(files) == credentials
    assert files.ca.read_bytes() != ca


def test_unreadable_credentials_say_how_to_start_over(files: secure.SecureFiles) -> None:
    files.directory.mkdir(parents=True)
    files.credentials_path.write_text("{not json")
    with pytest.raises(LauncherError, match="kafka down --purge"):
        secure.prepare(files)


def test_a_secure_node_serves_sasl_ssl_and_mutual_tls(files: secure.SecureFiles) -> None:
    credentials = secure.Credentials("client-pw", "broker-pw")
    cluster = Cluster(files.directory.parent, "cid", [Node(1, 9092, 19093, tls_port=9094)])
    props = _properties(
        server_properties(cluster, cluster.nodes[0], secure.broker_properties(files, credentials))
    )
    assert props["listeners"] == (
        "SASL_SSL://127.0.0.1:9092,SSL://127.0.0.1:9094,CONTROLLER://127.0.0.1:19093"
    )
    assert props["advertised.listeners"] == "SASL_SSL://127.0.0.1:9092,SSL://127.0.0.1:9094"
    assert props["inter.broker.listener.name"] == "SASL_SSL"
    assert props["sasl.enabled.mechanisms"] == "PLAIN,SCRAM-SHA-512"
    assert props["listener.name.ssl.ssl.client.auth"] == "required"
    assert "ssl.client.auth" not in props  # the SASL_SSL listener asks for no certificate
    assert props["listener.name.sasl_ssl.plain.sasl.jaas.config"] == (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        'username="broker" password="broker-pw" '
        'user_broker="broker-pw" user_claimwatch="client-pw";'
    )
    assert props["ssl.keystore.location"] == str(files.broker_keystore)
    assert "PLAINTEXT://" not in props["listeners"]


def test_a_secure_node_without_a_tls_port_is_refused(files: secure.SecureFiles) -> None:
    cluster = Cluster(files.directory.parent, "cid", [Node(1, 9092, 19093)])
    properties = secure.broker_properties(files, secure.Credentials("a", "b"))
    with pytest.raises(LauncherError, match="no mutual-TLS port"):
        server_properties(cluster, cluster.nodes[0], properties)


def test_secure_ports_are_planned_per_node() -> None:
    fixed = plan_nodes(1, 0, 0, find_free=True, tls_port=0)
    assert len({fixed[0].port, fixed[0].controller_port, fixed[0].tls_port}) == 3
    assert plan_nodes(1, 0, 0, find_free=True)[0].tls_port is None


def test_scram_user_is_created_at_format_time() -> None:
    args = secure.scram_format_args(secure.Credentials("s3cret-pw", "other"))
    assert args == [
        "--add-scram",
        "SCRAM-SHA-512=[name=claimwatch,password=s3cret-pw,iterations=8192]",
    ]


def test_client_settings_are_what_the_service_parses(files: secure.SecureFiles) -> None:
    credentials = secure.Credentials("client-pw", "broker-pw")
    variables = secure.client_settings("127.0.0.1:9092", files, credentials, "PLAIN")
    config = secure.client_config(variables)
    assert config == {
        "bootstrap_servers": ["127.0.0.1:9092"],
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": "claimwatch",
        "sasl_plain_password": "client-pw",
        "ssl_cafile": str(files.ca),
    }
    mtls = secure.client_config(secure.mtls_settings("127.0.0.1:9094", files))
    assert mtls["security_protocol"] == "SSL"
    assert (mtls["ssl_certfile"], mtls["ssl_keyfile"]) == (
        str(files.client_cert),
        str(files.client_key),
    )
    with pytest.raises(LauncherError, match="PLAIN and SCRAM-SHA-512"):
        secure.client_settings("127.0.0.1:9092", files, credentials, "SCRAM-SHA-256")


def test_client_env_exports_the_sasl_settings_and_shows_the_others(
    files: secure.SecureFiles,
) -> None:
    credentials = secure.Credentials("client-pw", "broker-pw")
    text = secure.env_text(
        secure.client_settings("127.0.0.1:9092", files, credentials),
        secure.mtls_settings("127.0.0.1:9094", files),
    )
    exported = dict(
        line.removeprefix("export ").split("=", 1)
        for line in text.splitlines()
        if line.startswith("export ")
    )
    assert exported["CLAIMWATCH_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert exported["CLAIMWATCH_SASL_PASSWORD"] == "client-pw"
    assert "#   export CLAIMWATCH_SECURITY_PROTOCOL=SSL" in text.splitlines()


def test_a_plain_cluster_is_unchanged_by_the_secure_option(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, "cid", [Node(1, 9092, 19093)])
    assert secure.cluster_security(cluster) == (None, [])
    assert secure.client_security(cluster) == {}
    assert secure.status(cluster) == {}
    assert not (tmp_path / "secure").exists()


def test_secure_cluster_state_round_trips(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, "cid", [Node(1, 1, 2, pid=42, tls_port=3)], secure=True)
    cluster.save()
    assert Cluster.load(tmp_path) == cluster
    assert cluster.mtls_bootstrap_servers == "127.0.0.1:3"


def test_a_cluster_recorded_before_secure_mode_loads_as_plain(tmp_path: Path) -> None:
    (tmp_path / "cluster.json").write_text(
        '{"directory": "x", "cluster_id": "cid", "kafka_version": "4.3.1",'
        ' "nodes": [{"node_id": 1, "port": 1, "controller_port": 2, "pid": null}]}'
    )
    loaded = Cluster.load(tmp_path)
    assert loaded is not None and not loaded.secure
    assert loaded.nodes[0].tls_port is None

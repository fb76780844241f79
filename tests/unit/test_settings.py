from __future__ import annotations

from pathlib import Path

import pytest

from service.errors import ConfigError
from service.settings import Settings


def test_defaults_work_against_the_local_broker() -> None:
    settings = Settings.from_env({})
    assert settings.bootstrap_servers == "127.0.0.1:9092"
    assert settings.web_port == 6066
    assert settings.startup_timeout_s == 180.0
    assert settings.topics.all() == [
        "articles",
        "articles.flagged",
        "articles.scored",
        "articles.deadletter",
        "articles.verdicts",
        "articles.claims",
    ]


def test_environment_variables_are_parsed_by_type() -> None:
    settings = Settings.from_env(
        {
            "CLAIMWATCH_BOOTSTRAP_SERVERS": "a:1,b:2",
            "CLAIMWATCH_BATCH_SIZE": "128",
            "CLAIMWATCH_THRESHOLD": "0.4",
            "CLAIMWATCH_MODEL_PATH": "models/x.skops",
            "CLAIMWATCH_PROCESSING_GUARANTEE": "exactly_once",
        }
    )
    assert settings.batch_size == 128
    assert settings.threshold == 0.4
    assert settings.model_path == Path("models/x.skops")
    assert settings.kafka_client_config()["bootstrap_servers"] == ["a:1", "b:2"]


def test_overrides_win_over_environment() -> None:
    settings = Settings.from_env({"CLAIMWATCH_WEB_PORT": "7000"}, web_port=7001)
    assert settings.web_port == 7001


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CLAIMWATCH_BATCH_SIZE", "many", "CLAIMWATCH_BATCH_SIZE='many' is not a valid int"),
        ("CLAIMWATCH_BATCH_SIZE", "0", "CLAIMWATCH_BATCH_SIZE must be at least 1"),
        ("CLAIMWATCH_THRESHOLD", "1.5", "CLAIMWATCH_THRESHOLD must be between 0 and 1"),
        ("CLAIMWATCH_PROCESSING_GUARANTEE", "maybe", "must be at_least_once or exactly_once"),
        ("CLAIMWATCH_SCORING", "gpu", "CLAIMWATCH_SCORING must be process or thread"),
        ("CLAIMWATCH_STARTUP_TIMEOUT_S", "0", "CLAIMWATCH_STARTUP_TIMEOUT_S must be more than 0"),
        ("CLAIMWATCH_STARTUP_TIMEOUT_S", "soon", "CLAIMWATCH_STARTUP_TIMEOUT_S='soon' is not"),
        ("CLAIMWATCH_SECURITY_PROTOCOL", "sasl_ssl", "CLAIMWATCH_SECURITY_PROTOCOL must be one of"),
        ("CLAIMWATCH_SECURITY_PROTOCOL", "SASL_SSL", "needs CLAIMWATCH_SASL_USERNAME and"),
        (
            "CLAIMWATCH_COMPRESSION",
            "brotli",
            "CLAIMWATCH_COMPRESSION must be one of none, gzip, snappy, lz4, zstd, not 'brotli'",
        ),
        ("CLAIMWATCH_LANGUAGES", "english", "CLAIMWATCH_LANGUAGES must be comma-separated"),
        ("CLAIMWATCH_LANGUAGES", " , ", "CLAIMWATCH_LANGUAGES must be comma-separated"),
        ("CLAIMWATCH_TABLE_STORE", "redis", "CLAIMWATCH_TABLE_STORE must be rocksdict or memory"),
        ("CLAIMWATCH_DEDUPE_WINDOW_S", "0", "CLAIMWATCH_DEDUPE_WINDOW_S must be more than 0"),
        ("CLAIMWATCH_DEDUPE_WINDOW_S", "nan", "CLAIMWATCH_DEDUPE_WINDOW_S must be more than 0"),
        ("CLAIMWATCH_CLAIM_WINDOW_S", "-1", "CLAIMWATCH_CLAIM_WINDOW_S must be more than 0"),
        ("CLAIMWATCH_CLAIM_THRESHOLD", "1.5", "CLAIMWATCH_CLAIM_THRESHOLD must be more than 0"),
        ("CLAIMWATCH_CLAIM_THRESHOLD", "0", "CLAIMWATCH_CLAIM_THRESHOLD must be more than 0"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        Settings.from_env({name: value})


def test_dedupe_window_and_table_store_defaults_and_variables() -> None:
    default = Settings.from_env({})
    assert default.dedupe_window_s == 7 * 24 * 3600 and default.table_store == "rocksdict"
    chosen = Settings.from_env(
        {"CLAIMWATCH_DEDUPE_WINDOW_S": "90", "CLAIMWATCH_TABLE_STORE": "memory"}
    )
    assert chosen.dedupe_window_s == 90.0 and chosen.table_store == "memory"


def test_claim_window_and_threshold_defaults_and_variables() -> None:
    default = Settings.from_env({})
    assert default.claim_window_s == 7 * 24 * 3600 and default.claim_threshold is None
    chosen = Settings.from_env(
        {"CLAIMWATCH_CLAIM_WINDOW_S": "3600", "CLAIMWATCH_CLAIM_THRESHOLD": "0.2"}
    )
    assert chosen.claim_window_s == 3600.0 and chosen.claim_threshold == 0.2


def test_sasl_and_tls_settings_pass_through() -> None:
    config = Settings.from_env(
        {
            "CLAIMWATCH_SECURITY_PROTOCOL": "SASL_SSL",
            "CLAIMWATCH_SASL_MECHANISM": "PLAIN",
            "CLAIMWATCH_SASL_USERNAME": "u",
            "CLAIMWATCH_SASL_PASSWORD": "p",
            "CLAIMWATCH_SSL_CAFILE": "ca.pem",
        }
    ).kafka_client_config()
    assert config["security_protocol"] == "SASL_SSL"
    assert config["sasl_plain_username"] == "u" and config["sasl_plain_password"] == "p"
    assert config["ssl_cafile"] == "ca.pem"


SASL = {
    "CLAIMWATCH_SECURITY_PROTOCOL": "SASL_SSL",
    "CLAIMWATCH_SASL_USERNAME": "u",
    "CLAIMWATCH_SASL_PASSWORD": "p",
}


def test_sasl_without_a_mechanism_is_plain_for_every_client() -> None:
    assert Settings.from_env(SASL).kafka_client_config()["sasl_mechanism"] == "PLAIN"
    assert "sasl_mechanism" not in Settings.from_env({}).kafka_client_config()


def test_a_sasl_mechanism_the_clients_lack_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="CLAIMWATCH_SASL_MECHANISM must be one of PLAIN, SCRAM"):
        Settings.from_env({**SASL, "CLAIMWATCH_SASL_MECHANISM": "GSSAPI"})


def test_mutual_tls_needs_no_sasl_user() -> None:
    config = Settings.from_env(
        {
            "CLAIMWATCH_SECURITY_PROTOCOL": "SSL",
            "CLAIMWATCH_SSL_CERTFILE": "client.pem",
            "CLAIMWATCH_SSL_KEYFILE": "client-key.pem",
        }
    ).kafka_client_config()
    assert (config["ssl_certfile"], config["ssl_keyfile"]) == ("client.pem", "client-key.pem")
    assert "sasl_mechanism" not in config


def test_codec_and_languages_from_the_environment() -> None:
    env = {"CLAIMWATCH_COMPRESSION": "lz4", "CLAIMWATCH_LANGUAGES": "EN, de"}
    settings = Settings.from_env(env)
    assert settings.compression == "lz4"
    assert settings.supported_languages == ("en", "de")

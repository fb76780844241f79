"""Logging setup: JSON lines with decision context, text lines, and no article text."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from service.errors import ConfigError
from service.logs import (
    JsonFormatter,
    TextFormatter,
    configure_logging,
    log_level,
    logging_config,
)
from service.settings import Settings

ARTICLE = "The minister allegedly met the lobbyist; she denied any meeting."


def make_record(message: str = "flagged %s", *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(
        "service.pipeline.decide", logging.INFO, __file__, 1, message, args, None
    )
    for key, value in extra.items():
        setattr(record, key, value)
    return record


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_line_has_the_fixed_fields_and_the_decision_context() -> None:
    record = make_record(
        "flagged %s", "a-1", article_id="a-1", partition=2, offset=41, model_version="2024.2"
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "service.pipeline.decide"
    assert entry["message"] == "flagged a-1"
    assert entry["ts"].endswith("+00:00")
    assert (entry["article_id"], entry["partition"], entry["offset"]) == ("a-1", 2, 41)
    assert entry["model_version"] == "2024.2"


def test_article_text_is_replaced_by_its_length_unless_asked_for() -> None:
    record = make_record("scored", article_id="a-1", text=ARTICLE, article_text=ARTICLE)
    line = JsonFormatter().format(record)
    assert "allegedly" not in line
    entry = json.loads(line)
    assert entry["text_chars"] == len(ARTICLE)
    assert "text" not in entry and "article_text" not in entry
    assert "allegedly" not in TextFormatter().format(record)
    assert json.loads(JsonFormatter(include_article_text=True).format(record))["text"] == ARTICLE


def test_multiline_messages_and_tracebacks_stay_on_one_json_line() -> None:
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "service.worker.agent", logging.ERROR, __file__, 1, "two\nlines", None, sys.exc_info()
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "two\nlines"
    assert "ValueError: bad" in entry["exception"]


def test_values_json_cannot_encode_are_written_as_text() -> None:
    entry = json.loads(JsonFormatter().format(make_record("x", path=object.__new__(object))))
    assert entry["path"].startswith("<object object")


def test_text_lines_carry_the_context_as_key_value_pairs() -> None:
    line = TextFormatter().format(make_record("flagged", article_id="a-1", offset=41))
    assert line.endswith("INFO service.pipeline.decide: flagged article_id=a-1 offset=41")


@pytest.mark.usefixtures("restore_root_logging")
@pytest.mark.parametrize("log_format", ["json", "text"])
def test_configure_logging_routes_the_root_logger(
    log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(Settings(log_format=log_format, log_level="warning"))
    log = logging.getLogger("service.pipeline.route")
    log.info("hidden")
    log.warning("dead letter", extra={"article_id": "a-9", "code": "invalid_json"})
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    if log_format == "json":
        entry = json.loads(lines[0])
        assert (entry["message"], entry["code"], entry["level"]) == (
            "dead letter",
            "invalid_json",
            "WARNING",
        )
    else:
        expected = "WARNING service.pipeline.route: dead letter article_id=a-9 code=invalid_json"
        assert expected in lines[0]


def test_logging_config_is_a_fresh_dict_config_for_faust() -> None:
    # Faust's worker pops keys from the dict it is given: each call builds a new one.
    settings = Settings(log_format="json", log_level="DEBUG")
    first, second = logging_config(settings), logging_config(settings)
    assert first == second and first is not second
    assert first["root"]["level"] == logging.DEBUG
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(first["formatters"]["claimwatch"]["()"]())
    assert isinstance(handler.formatter, JsonFormatter)


def test_unknown_level_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="CLAIMWATCH_LOG_LEVEL"):
        log_level(Settings(log_level="LOUD"))
    assert log_level(Settings(log_level="error")) == logging.ERROR

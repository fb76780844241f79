"""Logging set up from settings: human-readable text, or one JSON object per line.

Decision-related log calls pass their context as ``extra`` (``article_id``,
``offset``, ``partition``, ``model_version`` ...), which both formats print. Article
text is never written unless a formatter is built with ``include_article_text=True``:
fields that carry it are replaced by their length, so a careless ``extra`` cannot leak
a whole article into the logs.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

from service.errors import ConfigError
from service.settings import PREFIX, Settings

# Extra fields that hold article text; redacted unless explicitly allowed.
ARTICLE_TEXT_FIELDS = frozenset({"text", "article_text", "body"})
# Attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
) | {"message", "asctime", "taskName"}


def record_extras(record: logging.LogRecord, include_article_text: bool = False) -> dict[str, Any]:
    """The ``extra`` fields of a record, with article text replaced by its length."""
    extras: dict[str, Any] = {}
    for key, value in vars(record).items():
        if key in _RECORD_ATTRIBUTES or key.startswith("_"):
            continue
        if key in ARTICLE_TEXT_FIELDS and not include_article_text:
            extras[key + "_chars"] = len(value) if isinstance(value, str) else None
            continue
        extras[key] = value
    return extras


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``message``, then extras."""

    def __init__(self, include_article_text: bool = False) -> None:
        super().__init__()
        self.include_article_text = include_article_text

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record_extras(record, self.include_article_text).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # json.dumps escapes newlines, so one record is always one line.
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message key=value ...`` for people reading a terminal."""

    def __init__(self, include_article_text: bool = False) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.include_article_text = include_article_text

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = record_extras(record, self.include_article_text)
        if not extras:
            return line
        context = " ".join(f"{key}={value}" for key, value in extras.items())
        head, newline, tail = line.partition("\n")  # keep a traceback below the context
        return f"{head} {context}{newline}{tail}"


def log_level(settings: Settings) -> int:
    """The numeric level for ``settings.log_level``, refusing names logging does not know."""
    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        raise ConfigError(
            f"{PREFIX}LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, "
            f"not {settings.log_level!r}"
        )
    return level


def logging_config(settings: Settings, include_article_text: bool = False) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict for the settings.

    Faust's worker takes it as ``logging_config=`` (it would otherwise install its own
    coloured handler); :func:`configure_logging` applies it outside Faust.
    """
    formatter = JsonFormatter if settings.log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "claimwatch": {
                "()": formatter,
                "include_article_text": include_article_text,
            }
        },
        "handlers": {
            "claimwatch": {
                "class": "logging.StreamHandler",
                "formatter": "claimwatch",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": log_level(settings), "handlers": ["claimwatch"]},
    }


def configure_logging(settings: Settings, include_article_text: bool = False) -> None:
    """Route all logging to stderr in the configured format and level."""
    logging.config.dictConfig(logging_config(settings, include_article_text))

"""Verdict export: the labelled JSONL shape, unsure and missing-text skips, the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from review_factory import DEFAULT_TEXT, make_record

from service.cli.main import main
from service.review.records import Verdict, read_review_record
from service.review.store import ReviewStore
from service.review.verdicts import (
    ArticleText,
    articles_from_topic,
    latest_verdicts,
    write_export,
)


def message(value: bytes) -> SimpleNamespace:
    return SimpleNamespace(value=value)


def verdict(article_id: str, label: str, reviewer: str = "alice") -> Verdict:
    return Verdict(article_id, label, reviewer, "2025-11-25T10:00:00.000+00:00", "7")  # type: ignore[arg-type]


def test_export_lines_have_the_training_shape() -> None:
    verdicts = {
        "b": verdict("b", "not_contested"),
        "a": verdict("a", "contested"),
        "u": verdict("u", "unsure"),
        "m": verdict("m", "contested"),
    }
    articles = {
        "a": ArticleText("text a", "Title A"),
        "b": ArticleText("text b"),
        "u": ArticleText("text u"),
    }
    out = io.StringIO()
    counts = write_export(verdicts, articles, out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines == [
        {
            "id": "a",
            "text": "text a",
            "label": "contested",
            "verdict": "contested",
            "reviewer": "alice",
            "decided_at": "2025-11-25T10:00:00.000+00:00",
            "model_version": "7",
            "title": "Title A",
        },
        {
            "id": "b",
            "text": "text b",
            "label": "not_contested",
            "verdict": "not_contested",
            "reviewer": "alice",
            "decided_at": "2025-11-25T10:00:00.000+00:00",
            "model_version": "7",
        },
    ]
    assert (counts.exported, counts.unsure, counts.missing_text) == (2, 1, 1)
    assert counts.missing_ids == ["m"]
    assert "skipped 1 unsure and 1 without article text" in counts.summary()


def test_a_later_verdict_supersedes_and_bad_ones_are_counted() -> None:
    messages = [
        message(verdict("a", "contested").to_json()),
        message(b"nope"),
        message(verdict("a", "not_contested", "bob").to_json()),
    ]
    latest, invalid = latest_verdicts(messages)
    assert (latest["a"].verdict, latest["a"].reviewer, invalid) == ("not_contested", "bob", 1)


def test_articles_topic_fills_missing_text() -> None:
    messages = [
        message(b'{"id": "a", "text": "A", "title": "T"}'),
        message(b"[]"),
        message(b'{"id": "b", "text": ""}'),
        message(b'{"id": "z", "text": "Z"}'),
    ]
    assert articles_from_topic(messages, {"a", "b"}) == {"a": ArticleText("A", "T")}


def test_cli_exports_from_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "review.sqlite3"
    store = ReviewStore(db)
    store.add([read_review_record(make_record(i)) for i in ("a", "b", "c")])
    store.decide("a", "alice", "contested")
    store.decide("b", "bob", "unsure")
    store.close()
    monkeypatch.setenv("CLAIMWATCH_REVIEW_DB", str(db))
    out = tmp_path / "out" / "labelled.jsonl"
    assert main(["verdicts", "export", "--from-store", "--out", str(out)]) == 0
    (line,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert (line["id"], line["label"], line["text"]) == ("a", "contested", DEFAULT_TEXT)
    assert "exported 1 labelled articles; skipped 1 unsure" in capsys.readouterr().err


def test_cli_export_without_a_store_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLAIMWATCH_REVIEW_DB", str(tmp_path / "missing.sqlite3"))
    assert main(["verdicts", "export", "--from-store"]) == 2
    assert capsys.readouterr().err.startswith("claimwatch: error [config_error]: no review store")

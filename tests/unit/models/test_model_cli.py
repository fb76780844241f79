"""``claimwatch score``: text file, JSONL file and stdin, one record per article."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from model_samples import RECORD_FIELDS as FIELDS
from sample_texts import DESIGN_EXAMPLE as DESIGN

from service.cli.main import main


def records(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_score_text_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "article.txt"
    path.write_text(DESIGN, encoding="utf-8")
    assert main(["score", str(path)]) == 0
    [record] = records(capsys.readouterr().out)
    assert set(record) == FIELDS
    assert record["article_id"] == "article"
    assert record["flagged"] is True


def test_score_jsonl_keeps_order_and_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "batch.jsonl"
    lines = [
        json.dumps({"id": f"a{i}", "text": DESIGN if i % 2 else "Sunny today."}) for i in range(300)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["score", str(path)]) == 0
    got = records(capsys.readouterr().out)
    assert [r["article_id"] for r in got] == [f"a{i}" for i in range(300)]
    assert [r["flagged"] for r in got[:4]] == [False, True, False, True]


def test_score_jsonl_uses_the_title_as_the_headline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "titled.jsonl"
    path.write_text(json.dumps({"id": "t", "title": "IMIS claims, US denies", "text": DESIGN}))
    assert main(["score", str(path)]) == 0
    [record] = records(capsys.readouterr().out)
    cues = {(c["text"], c["start"]) for c in record["signals"]}
    assert ("claims", 5) in cues  # offsets index "title\n\ntext"


def test_score_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(DESIGN))
    assert main(["score", "-"]) == 0
    [record] = records(capsys.readouterr().out)
    assert record["article_id"] == "stdin"


def test_bad_jsonl_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x"}\n', encoding="utf-8")
    assert main(["score", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("claimwatch: error [input_invalid]")
    assert len(err.strip().splitlines()) == 1


def test_tampered_model_path_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from models.artifact import card_path_for, default_artifact

    model = tmp_path / "m.skops"
    model.write_bytes(default_artifact().read_bytes()[:-10])
    card_path_for(model).write_text(card_path_for(default_artifact()).read_text())
    text = tmp_path / "a.txt"
    text.write_text(DESIGN)
    assert main(["score", "--model", str(model), str(text)]) == 2
    assert "[artifact_hash_mismatch]" in capsys.readouterr().err


def test_threshold_out_of_range_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "a.txt"
    text.write_text(DESIGN)
    assert main(["score", "--threshold", "1.5", str(text)]) == 2
    assert "[input_invalid]" in capsys.readouterr().err

"""``claimwatch claims cluster FILE.jsonl``: one line per article, in order; bad input refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_claims_cluster import BANKSY_A, BANKSY_B, SPIDER

from service.cli.main import main

ARTICLES = [
    {"id": "a1", "text": BANKSY_A, "source": "paper.example"},
    {"id": "s1", "text": SPIDER},
    {"id": "a2", "text": BANKSY_B, "title": "Banksy arrested, website claims"},
]


def write(path: Path, articles: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    return path


def test_one_line_per_article_in_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["claims", "cluster", str(write(tmp_path / "in.jsonl", ARTICLES))]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["article_id"] for line in lines] == ["a1", "s1", "a2"]
    assert all(set(line) == {"article_id", "cluster_id"} for line in lines)
    assert lines[0]["cluster_id"] == lines[2]["cluster_id"] != lines[1]["cluster_id"]


def test_a_threshold_of_one_keeps_every_article_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "in.jsonl", ARTICLES)
    assert main(["claims", "cluster", str(path), "--threshold", "1.0"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len({line["cluster_id"] for line in lines}) == 3


def test_the_output_does_not_depend_on_the_process(tmp_path: Path) -> None:
    """Python salts str hashes per process; the clusterer must not depend on them."""
    path = write(tmp_path / "in.jsonl", ARTICLES * 3)
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-m", "service.cli", "claims", "cluster", str(path)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=120,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "line 2: not JSON"),
        ('{"text": "x"}', "line 2: needs a non-empty string id"),
        ('{"id": "x", "text": 5}', "line 2: needs a string text"),
        ('{"id": "x", "text": "t", "title": 3}', "line 2: title must be a string"),
        ("[1, 2]", "line 2: not a JSON object"),
    ],
)
def test_a_bad_line_is_refused_with_its_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(ARTICLES[0]) + "\n" + line + "\n", encoding="utf-8")
    assert main(["claims", "cluster", str(path)]) == 2
    err = capsys.readouterr().err
    assert "[invalid_input]" in err and message in err


def test_a_missing_file_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["claims", "cluster", str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_a_threshold_of_zero_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "in.jsonl", ARTICLES)
    assert main(["claims", "cluster", str(path), "--threshold", "0"]) == 2
    assert "--threshold must be more than 0" in capsys.readouterr().err

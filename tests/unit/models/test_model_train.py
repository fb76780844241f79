"""``claimwatch train`` / ``evaluate`` end to end on a tiny synthetic data directory."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from models.artifact import load_model
from service.cli.main import main

HEDGED = (
    "Reports claimed that {t} happened, but officials denied it. The footage "
    "reportedly shows {t}; it could not be independently verified. Critics say {t}."
)
PLAIN = "{t} happened on Monday. The agency confirmed {t} in a statement. {t} is done."
ORDINARY = "The {t} results were published. Sales rose. The {t} team won the {t} game."


def write_data(root: Path) -> None:
    (root / "fnc-1").mkdir(parents=True)
    (root / "ordinary-news").mkdir()
    bodies, stances = [], []
    for body in range(60):
        topic = f"topic{body % 12}"
        contested = body % 3 != 0
        bodies.append(
            {"Body ID": str(body), "articleBody": (HEDGED if contested else PLAIN).format(t=topic)}
        )
        stances.append(
            {
                "Headline": f"Headline about {topic}",
                "Body ID": str(body),
                "Stance": "discuss" if contested else "agree",
            }
        )
        if body % 5 == 0:
            stances.append(
                {"Headline": f"Denial of {topic}", "Body ID": str(body), "Stance": "disagree"}
            )
    for name, rows in (("train_bodies.csv", bodies), ("train_stances.csv", stances)):
        with (root / "fnc-1" / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    for domain in ("biz", "edu", "sports"):
        for number in range(1, 7):
            text = ORDINARY.format(t=f"{domain}{number}")
            (root / "ordinary-news" / f"{domain}{number:02d}.legit.txt").write_text(
                f"Title {number}\n\n{text}\n", encoding="utf-8"
            )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("data")
    write_data(root)
    extra = root / "verdicts.jsonl"
    extra.write_text(
        "\n".join(
            json.dumps(
                {
                    "id": f"v{i}",
                    "text": HEDGED.format(t=f"extra{i}") if i % 2 else PLAIN.format(t=f"extra{i}"),
                    "label": "contested" if i % 2 else "not_contested",
                    "reviewer": "ignored",
                }
            )
            for i in range(10)
        )
        + "\n",
        encoding="utf-8",
    )
    out = root / "out"
    assert (
        main(
            ["train", "--data", str(root), "--out", str(out), "--extra", str(extra), "--seed", "3"]
        )
        == 0
    )
    return root, extra, out / "claimwatch-contested.skops"


def test_train_writes_a_loadable_artifact_with_card(trained: tuple[Path, Path, Path]) -> None:
    _, _, artifact = trained
    model = load_model(artifact)
    card = model.card
    assert card["seed"] == 3
    assert card["articles"]["total"] == 60 + 18 + 10
    assert any(entry["name"] == "extra" for entry in card["training_data"])
    assert 0 < card["thresholds"]["flag"] <= card["thresholds"]["high"] <= 1
    scores = model.score_batch([HEDGED.format(t="new"), ORDINARY.format(t="new")])
    assert scores.contested[0] > scores.contested[1]


def test_training_is_deterministic(trained: tuple[Path, Path, Path], tmp_path: Path) -> None:
    root, extra, artifact = trained
    assert (
        main(
            [
                "train",
                "--data",
                str(root),
                "--out",
                str(tmp_path),
                "--extra",
                str(extra),
                "--seed",
                "3",
            ]
        )
        == 0
    )
    again = load_model(tmp_path / artifact.name)
    first = load_model(artifact)
    texts = [HEDGED.format(t="x"), PLAIN.format(t="y")]
    assert (
        first.score_batch(texts).contested.tolist() == again.score_batch(texts).contested.tolist()
    )
    assert first.card["cv"]["metrics"] == again.card["cv"]["metrics"]


def test_evaluate_reproduces_card_and_compares(
    trained: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    root, extra, artifact = trained
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(artifact),
                "--compare",
                str(artifact),
                "--data",
                str(root),
                "--extra",
                str(extra),
                "--labelled",
                str(extra),
                "--out",
                str(tmp_path),
                "--no-baselines",
            ]
        )
        == 0
    )
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["model"]["matches_card"] is True
    assert report["compare"]["cv_metrics"] == report["model"]["cv_metrics"]
    assert report["model"]["labelled"]["articles"] == 10
    for name in ("pr_curve.png", "calibration.png", "score_histograms.png", "compare_pr_curve.png"):
        assert (tmp_path / name).stat().st_size > 1000
    assert report["model"]["threshold_table"][0].keys() >= {
        "threshold",
        "precision",
        "recall",
        "flag_rate_ordinary",
    }


def test_bad_extra_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "data"
    write_data(root)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "text": "x", "label": "maybe"}\n')
    assert main(["train", "--data", str(root), "--out", str(tmp_path), "--extra", str(bad)]) == 2
    assert "[data_invalid]" in capsys.readouterr().err

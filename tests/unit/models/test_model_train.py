"""``claimwatch train`` / ``evaluate`` end to end on a tiny synthetic data directory."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from models.article.assess import assess_batch
from models.artifact import load_model
from models.training.crossval import OutOfFold, metrics
from models.training.data import Corpus
from models.training.train import POLITICAL_BUDGET, choose_thresholds
from service.cli.main import main

HEDGED = (
    "Reports claimed that {t} happened, but officials denied it. The footage "
    "reportedly shows {t}; it could not be independently verified. Critics say {t}."
)
PLAIN = "{t} happened on Monday. The agency confirmed {t} in a statement. {t} is done."
ORDINARY = "The {t} results were published. Sales rose. The {t} team won the {t} game."


SPEAKERS = ("Officials", "The mayor", "Anna Berg", "The ministry", "Police", "Tom Reed")
WEASEL_UNCERTAIN = "Some experts believe that the {t} may have been larger than reported ."
WEASEL_CERTAIN = "The {t} was built in 1958 by the city ."


def write_evidence_data(root: Path) -> None:
    """Tiny wiki-weasel and PolNeAR look-alikes in their real formats (CSV, BRAT)."""
    (root / "wiki-weasel").mkdir(parents=True)
    with (root / "wiki-weasel" / "train.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for i in range(60):
            uncertain = i % 3 == 0
            writer.writerow([(WEASEL_UNCERTAIN if uncertain else WEASEL_CERTAIN).format(
                t=f"tower{i}"), int(uncertain)])
    for split, count in (("train", 8), ("dev", 3)):
        (root / "polnear" / split / "text").mkdir(parents=True)
        (root / "polnear" / split / "attributions").mkdir(parents=True)
        for article in range(count):
            text, lines, n = "", [], 0
            for k in range(6):
                speaker = SPEAKERS[(article + k) % len(SPEAKERS)]
                content = f"the plan {article}{k} would cost more"
                sentence = f"{speaker} said {content}. "
                base = len(text)
                for role, part in (("Source", speaker), ("Cue", "said"), ("Content", content)):
                    start = base + sentence.index(part)
                    n += 1
                    lines.append(f"T{n}\t{role} {start} {start + len(part)}\t{part}")
                lines.append(f"E{k + 1}\tAttribution:T{n - 1} Content:T{n} Cue:T{n - 1} "
                             f"Source:T{n - 2}")
                text += sentence
            name = f"pub_{split}{article:02d}"
            (root / "polnear" / split / "text" / f"{name}.txt").write_text(text, encoding="utf-8")
            (root / "polnear" / split / "attributions" / f"{name}_ann1.ann").write_text(
                "\n".join(lines) + "\n", encoding="utf-8"
            )


def write_data(root: Path) -> None:
    write_evidence_data(root)
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
    assert card["format"] == 2
    assert {e["name"] for e in card["training_data"]} >= {"wiki-weasel", "polnear", "fnc-1"}
    assert card["cv"]["metrics"]["flags_without_evidence"] == 0
    assessed = assess_batch(model, ["h", "o"], [HEDGED.format(t="new"), ORDINARY.format(t="new")])
    assert assessed[0].score > assessed[1].score


def test_retraining_can_keep_the_evidence_models(
    trained: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    root, extra, artifact = trained
    args = ["train", "--data", str(root), "--out", str(tmp_path), "--extra", str(extra),
            "--evidence-from", str(artifact), "--seed", "3"]
    assert main(args) == 0
    again = load_model(tmp_path / artifact.name)
    first = load_model(artifact)
    assert again.card["evidence_models"]["taken_from"]["sha256"] == first.sha256
    texts = [HEDGED.format(t="x"), PLAIN.format(t="y")]
    assert [a.score for a in assess_batch(again, ["a", "b"], texts)] == [
        a.score for a in assess_batch(first, ["a", "b"], texts)
    ]


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
    assert [a.to_dict() for a in assess_batch(again, ["a", "b"], texts)] == [
        {**a.to_dict(), "model": again.info()} for a in assess_batch(first, ["a", "b"], texts)
    ]
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


def test_evaluate_measures_the_evidence_models_on_given_data(
    trained: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    root, _extra, artifact = trained
    args = ["evaluate", "--model", str(artifact), "--out", str(tmp_path),
            "--hedge-csv", str(root / "wiki-weasel" / "train.csv"),
            "--attributions", str(root / "polnear" / "dev")]
    assert main(args) == 0
    report = json.loads((tmp_path / "evidence.json").read_text())
    assert report["hedge"]["sentences"] == 60 and report["hedge"]["uncertain"] == 20
    assert report["attributions"]["articles"] == 3
    assert report["attributions"]["n_gold_attributions"] == 18
    assert 0.0 <= report["attributions"]["cue_span"]["r"] <= 1.0


def test_the_flag_threshold_keeps_political_news_within_its_budget() -> None:
    corpus = Corpus()
    for i in range(20):
        corpus.add(f"c{i}", "text", 1, i % 2, f"fnc:c{i}", "fnc")
    for i in range(10):
        corpus.add(f"a{i}", "text", 0, 0, f"fnc:a{i}", "fnc")
    for i in range(20):
        corpus.add(f"o{i}", "text", 0, 0, "ordinary:biz", "ordinary:biz")
    scores = np.concatenate(
        [np.linspace(0.5, 0.95, 20), np.linspace(0.1, 0.3, 10), np.linspace(0.0, 0.2, 20)]
    )
    political = np.linspace(0.0, 0.9, 50)
    folds = np.zeros(len(scores), dtype=int)
    without = choose_thresholds(corpus, OutOfFold(scores, scores * 0, folds))
    within = choose_thresholds(corpus, OutOfFold(scores, scores * 0, folds, political))
    assert (political >= without["flag"]).mean() > POLITICAL_BUDGET
    assert (political >= within["flag"]).mean() <= POLITICAL_BUDGET
    found = metrics(corpus, OutOfFold(scores, scores * 0, folds, political), within["flag"])
    assert found["political_flag_rate"] == (political >= within["flag"]).mean()
    assert "political_flag_rate" not in metrics(
        corpus, OutOfFold(scores, scores * 0, folds), within["flag"]
    )


def test_training_holds_the_political_news_budget(trained: tuple[Path, Path, Path]) -> None:
    card = load_model(trained[2]).card
    assert card["cv"]["metrics"]["political_flag_rate"] <= POLITICAL_BUDGET
    assert all("political_flag_rate" in row for row in card["cv"]["grid"])
    assert "political news" in card["threshold_reason"]

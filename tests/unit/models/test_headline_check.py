"""The hand-labelled headline check: its labels file, and the check on the shipped model."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from unittest import mock

from model_samples import shared_model

from models.article.assess import assess_batch
from models.training.headline_check import (
    GROUPS,
    LABELS,
    check,
    headline_key,
    labelled_headlines,
    load_labels,
)

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


def test_the_labels_file_is_keys_labels_and_groups() -> None:
    lines = [line for line in LABELS.read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    labels = load_labels()
    assert len(labels) == len(lines)  # no key twice
    assert all(len(key) == 16 and int(key, 16) >= 0 for key in labels)
    assert {label for label, _ in labels.values()} == {"R", "A", "X"}
    assert {group for _, group in labels.values()} == set(GROUPS)
    sizes = Counter(group for _, group in labels.values())
    assert sizes["check"] == sizes["check2"] == 150


def test_every_labelled_headline_is_an_fnc1_headline() -> None:
    rows = labelled_headlines(DATA, load_labels())
    assert len(rows) == len(load_labels())
    assert all(load_labels()[headline_key(h)] == (label, group) for h, label, group in rows)


def test_the_check_counts_and_ranks_each_group() -> None:
    rows = labelled_headlines(DATA, load_labels())
    result = check(shared_model(), rows)
    for group in GROUPS:
        kept = [label for _, label, g in rows if g == group]
        assert result[group]["reported"] == kept.count("R")
        assert result[group]["asserted"] == kept.count("A")
    assert result["all"]["reported"] == sum(result[g]["reported"] for g in GROUPS)


def test_a_headline_cue_never_lowers_a_score() -> None:
    """Evidence weights are bounded at 0 (the sign rule), so a cue can only add."""
    model = shared_model()
    headlines = [h for h, _, _ in labelled_headlines(DATA, load_labels())]
    ids = [str(i) for i in range(len(headlines))]
    with_cues = assess_batch(model, ids, headlines)
    with mock.patch("models.evidence.signals.headline_cues", return_value=[]):
        without = assess_batch(model, ids, headlines)
    gained = [i for i, (a, b) in enumerate(zip(with_cues, without, strict=True))
              if len(a.signals.cues) > len(b.signals.cues)]
    assert len(gained) > 50
    for i in range(len(headlines)):
        assert with_cues[i].score >= without[i].score - 1e-9, headlines[i]
    assert all(with_cues[i].score > without[i].score for i in gained)

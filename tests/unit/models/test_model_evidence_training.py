"""The cue shift chosen on dev: the largest smaller-of cue-span P and R, left applied."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
from model_samples import shared_model

from models.evidence.attribution import LABELS
from models.training.attribution import GoldAttribution, evaluate, load_polnear
from models.training.evidence import CUE_BIASES, choose_cue_bias

DEV = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "polnear" / "dev"


def test_the_chosen_cue_shift_is_the_best_of_the_grid_and_stays_applied() -> None:
    docs = load_polnear(DEV)[:6]
    tagger = copy.deepcopy(shared_model().evidence.tagger)
    before = copy.deepcopy(tagger.context_weights[0])
    chosen, rows = choose_cue_bias(tagger, docs)
    assert [row["bias"] for row in rows] == list(CUE_BIASES)
    balanced = max(min(row["p"], row["r"]) for row in rows)
    assert min(next(row for row in rows if row["bias"] == chosen)[k] for k in "pr") == balanced
    # the tagger is left at the chosen shift, relative to where it started
    b_cue = LABELS.index("B-CUE")
    assert np.allclose(tagger.context_weights[0][:, b_cue] - before[:, b_cue], chosen)
    assert round(evaluate(tagger, docs)["cue_span"]["r"], 4) == next(
        row["r"] for row in rows if row["bias"] == chosen
    )


def test_every_same_sentence_source_is_found_or_says_why_not() -> None:
    text = "Officials said the bridge was closed. The mayor denied it."

    def at(word: str, after: int = 0) -> tuple[tuple[int, int], ...]:
        start = text.index(word, after)
        return ((start, start + len(word)),)

    gold = [
        GoldAttribution(at("Officials"), at("said"), at("the bridge was closed")),
        GoldAttribution(at("The mayor"), at("denied"), at("it", 40)),
        # no tagger takes "bridge" for a cue: this one is lost with its cue
        GoldAttribution(at("Officials"), at("bridge"), ()),
    ]
    figures = evaluate(shared_model().evidence.tagger, [(text, gold)])
    why_not = figures["same_sentence_not_found"]
    found = round(figures["same_sentence_source"] * figures["n_same_sentence"])
    assert figures["n_same_sentence"] == 3
    assert found + sum(why_not.values()) == 3
    assert why_not["cue_missed"] >= 1

"""The cue shift chosen on dev: the largest smaller-of cue-span P and R, left applied."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
from model_samples import shared_model

from models.evidence.attribution import LABELS
from models.training.attribution import evaluate, load_polnear
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

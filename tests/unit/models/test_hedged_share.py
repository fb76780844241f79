"""The hedged-sentence share per kind of news (models.training.hedged_share)."""

from __future__ import annotations

from pathlib import Path

import pytest
from model_samples import shared_model

from models.training.hedged_share import SETS, hedged_share, main, news_sets

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


def test_the_share_counts_sentences_at_the_models_own_threshold() -> None:
    model = shared_model()
    hedged = "It is widely believed that the minister may have been involved."
    plain = "The match ended 2-1 on Saturday."
    assert hedged_share(model, [hedged + " " + plain]) == 0.5
    assert hedged_share(model, [plain, plain + " " + plain]) == 0.0
    assert hedged_share(model, []) == 0.0


def test_the_sets_split_the_training_data_and_the_command_prints_each_share(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sets = news_sets(DATA)
    assert tuple(sets) == SETS and all(sets.values())
    assert not set(sets["contested"]) & set(sets["asserted"])
    assert main(["--data", str(DATA)]) == 0
    out = capsys.readouterr().out
    assert '"hedged_share"' in out and '"political"' in out

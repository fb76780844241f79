"""The hedge model's training: CV over blocks of articles and a vocabulary spread over them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from models.training import hedge as hedge_training
from models.training.hedge import (
    BLOCK_ROWS,
    HedgeParams,
    block_groups,
    block_rows,
    cross_validate_hedge,
    fit_hedge_pipeline,
    spread_vocabulary,
)


def test_a_block_is_consecutive_rows_and_a_copy_goes_with_its_first() -> None:
    duplicates = np.array([0, 1, 2, 0, 3, 4, 1])
    # first copies at rows 0, 1, 2, 4, 5; row 3 copies row 0, row 6 copies row 1
    assert block_groups(duplicates, rows=2).tolist() == [0, 0, 1, 0, 2, 2, 0]
    assert block_groups(duplicates, rows=100).tolist() == [0] * 7


def test_the_vocabulary_keeps_ngrams_found_in_enough_blocks() -> None:
    texts = [
        "It is said the river flooded.",  # block 0
        "It is said the bridge fell.",  # block 1
        "Some say it is said often.",  # block 2
        "Zanzibar exports cloves.",  # block 2
    ]
    groups = np.array([0, 1, 2, 2])
    params = HedgeParams(word_ngrams=(1, 2), min_blocks=3)
    kept = spread_vocabulary(texts, groups, params)
    assert kept is not None
    assert {"is said", "it is", "said", "is", "it"} <= set(kept)
    # in two blocks, or one: not kept, however often it occurs within a block
    assert not {"the", "said the", "zanzibar", "cloves", "some"} & set(kept)
    for term in kept:  # every word of a kept n-gram is kept
        assert set(term.split()) <= set(kept)
    assert spread_vocabulary(texts, groups, HedgeParams(min_blocks=1)) is None


def test_the_fitted_model_knows_only_the_spread_vocabulary() -> None:
    texts = ["It is said the river flooded.", "It is said the bridge fell.",
             "The river is long.", "The bridge is new."]
    labels = np.array([1, 1, 0, 0])
    groups = np.array([0, 1, 2, 3])
    params = HedgeParams(word_ngrams=(1, 2), min_blocks=2)
    pipeline, weasel = fit_hedge_pipeline(params, texts, labels, groups)
    assert weasel is None
    vectorizer = pipeline.named_steps["features"]
    assert sorted(vectorizer.vocabulary_) == spread_vocabulary(texts, groups, params)
    assert "flooded" not in vectorizer.vocabulary_  # one block only


def _synthetic(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    topics = ["river", "bridge", "election", "vaccine", "harbour", "museum", "railway"]
    texts, labels = [], []
    for i in range(n):
        topic = topics[(i // 10) % len(topics)]
        hedged = bool(rng.random() < 0.4)
        opener = rng.choice(["It is said that", "Some believe that"]) if hedged else "The"
        texts.append(f"{opener} the {topic} was opened in {1900 + i}.")
        labels.append(int(hedged))
    return texts, np.asarray(labels)


def test_cv_keeps_each_block_in_one_fold_and_counts_spread_on_the_training_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts, labels = _synthetic(200, seed=3)
    groups = block_groups(np.arange(len(texts)), rows=10)
    seen: list[set[int]] = []
    real = hedge_training.spread_vocabulary

    def recording(prepared: Any, spread: np.ndarray, params: HedgeParams) -> Any:
        seen.append(set(np.asarray(spread).tolist()))
        return real(prepared, spread, params)

    monkeypatch.setattr(hedge_training, "spread_vocabulary", recording)
    params = HedgeParams(word_ngrams=(1, 2), min_blocks=3, C=1.0)
    report = cross_validate_hedge(texts, labels, groups, params, folds=5, seed=0)
    fold_of = report["fold_of"]
    for group in np.unique(groups):
        assert len(set(fold_of[groups == group].tolist())) == 1
    assert len(seen) == 5
    for fold, blocks in enumerate(seen):  # the vocabulary never sees the held-out blocks
        assert not blocks & set(groups[fold_of == fold].tolist())
    assert report["auc_pooled"] > 0.9  # the hedge phrases carry over to unseen blocks


def test_a_small_file_gets_smaller_blocks_so_every_fold_has_ten() -> None:
    assert block_rows(7343) == BLOCK_ROWS
    assert block_rows(60) == 1
    assert block_rows(1000) == 20
    assert len(set(block_groups(np.arange(1000), block_rows(1000)).tolist())) >= 50


def test_a_spread_vocabulary_needs_a_vocabulary() -> None:
    with pytest.raises(ValueError, match="hashing"):
        spread_vocabulary(["a b"], np.array([0]), HedgeParams(min_blocks=2, hashing=True))


def test_the_l1_model_keeps_few_weights() -> None:
    texts, labels = _synthetic(200, seed=5)
    l1, _ = fit_hedge_pipeline(HedgeParams(l1=True, C=1.0), texts, labels, np.arange(200))
    l2, _ = fit_hedge_pipeline(HedgeParams(C=1.0), texts, labels, np.arange(200))
    weights = [np.count_nonzero(p.named_steps["clf"].coef_) for p in (l1, l2)]
    assert 0 < weights[0] < weights[1] // 4  # the years and topics get no weight

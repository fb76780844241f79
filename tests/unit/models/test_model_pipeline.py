"""The fast scoring path equals scikit-learn's own predict_proba."""

from __future__ import annotations

import numpy as np

from models.article.pipeline import union_features
from models.artifact import load_model

TEXTS = [
    "Officials denied the report, which claimed that the bridge had collapsed.",
    "The team won 3-1 on Sunday.",
    "",
    "Reportedly, allegedly, purportedly. " * 50,
    "\u201cNo,\u201d she said \u2014 it was unconfirmed.",
]


def test_fast_path_matches_sklearn_predict_proba() -> None:
    model = load_model()
    scores = model.score_batch(TEXTS)
    expected = model.pipeline.predict_proba(TEXTS)[:, 1]
    np.testing.assert_allclose(scores.contested, expected, rtol=1e-10, atol=1e-12)
    features = model.pipeline.named_steps["features"].transform(TEXTS)
    columns = model.denial_columns
    expected_denial = model.denial.predict_proba(features[:, :columns])[:, 1]
    np.testing.assert_allclose(scores.denial, expected_denial, rtol=1e-10, atol=1e-12)


def test_union_features_match_feature_union() -> None:
    union = load_model().pipeline.named_steps["features"]
    ours = union_features(union, TEXTS)
    theirs = union.transform(TEXTS)
    assert ours.shape == theirs.shape
    assert abs(ours - theirs).max() < 1e-12

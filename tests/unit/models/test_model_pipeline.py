"""The fast scoring path equals scikit-learn's own predict_proba."""

from __future__ import annotations

import numpy as np
import pytest

from models.article.pipeline import union_features
from models.artifact import load_model, v1_artifact

TEXTS = [
    "Officials denied the report, which claimed that the bridge had collapsed.",
    "The team won 3-1 on Sunday.",
    "",
    "Reportedly, allegedly, purportedly. " * 50,
    "\u201cNo,\u201d she said \u2014 it was unconfirmed.",
]


def test_fast_path_matches_sklearn_predict_proba() -> None:
    model = load_model(v1_artifact())
    scores = model.score_batch(TEXTS)
    expected = model.pipeline.predict_proba(TEXTS)[:, 1]
    np.testing.assert_allclose(scores.contested, expected, rtol=1e-10, atol=1e-12)
    features = model.pipeline.named_steps["features"].transform(TEXTS)
    columns = model.denial_columns
    expected_denial = model.denial.predict_proba(features[:, :columns])[:, 1]
    np.testing.assert_allclose(scores.denial, expected_denial, rtol=1e-10, atol=1e-12)


def test_union_features_match_feature_union() -> None:
    union = load_model(v1_artifact()).pipeline.named_steps["features"]
    ours = union_features(union, TEXTS)
    theirs = union.transform(TEXTS)
    assert ours.shape == theirs.shape
    assert abs(ours - theirs).max() < 1e-12


def test_v2_scores_and_contributions_match_sklearn() -> None:
    from models.article.evidence_model import WORDING, EvidenceClaimModel

    model = load_model()
    assert isinstance(model, EvidenceClaimModel)
    evidence = model.extract(TEXTS)
    scaled = np.hstack(
        [model.scaler.transform(model.features.transform(evidence)),
         model.features.wording_rows(evidence)]
    )
    scores = model.score_evidence(evidence)
    expected = model.contested.predict_proba(scaled)[:, 1]
    np.testing.assert_allclose(scores.contested, expected, rtol=1e-10, atol=1e-12)
    expected_refutation = model.refutation.predict_proba(scaled)[:, 1]
    np.testing.assert_allclose(scores.refutation, expected_refutation, rtol=1e-10, atol=1e-12)
    # each reason's weight is its feature's exact share of the linear decision
    calibrated = model.contested.calibrated_classifiers_[0]
    direction = np.sign(-calibrated.calibrators[0].a_)  # Platt: higher decision, higher p
    names = list(model.features.get_feature_names_out())
    coef = calibrated.estimator.coef_.ravel()
    wording = np.array([name.startswith("wording=") for name in names])
    for row, reasons in zip(scaled, scores.reasons, strict=True):
        for reason in reasons:
            if reason.feature == WORDING:  # the block's net part: the sum over its columns
                exact = float((row * coef * direction)[wording].sum())
            else:
                j = names.index(reason.feature)
                exact = row[j] * coef[j] * direction
            assert reason.contribution == pytest.approx(exact, rel=1e-9)

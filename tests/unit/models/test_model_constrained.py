"""The article model's linear head in which evidence can only raise a score."""

from __future__ import annotations

import numpy as np
import pytest
from model_samples import shared_model
from sklearn.linear_model import LogisticRegression

from models.article.constrained import NonNegativeLogisticRegression


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(400, 4))
    margin = 1.5 * rows[:, 0] - 2.0 * rows[:, 1] + 0.5 * rows[:, 2]
    return rows, (rng.random(400) < 1 / (1 + np.exp(-margin))).astype(int)


def test_unconstrained_it_is_scikit_learns_logistic_regression() -> None:
    rows, labels = data()
    ours = NonNegativeLogisticRegression(C=0.5).fit(rows, labels)
    theirs = LogisticRegression(C=0.5, solver="lbfgs", tol=1e-10, max_iter=5000).fit(rows, labels)
    assert np.allclose(ours.coef_, theirs.coef_, atol=1e-4)
    assert np.allclose(ours.intercept_, theirs.intercept_, atol=1e-4)
    assert np.allclose(ours.predict_proba(rows), theirs.predict_proba(rows), atol=1e-4)


def test_the_first_columns_can_only_raise_the_score() -> None:
    rows, labels = data()
    free = NonNegativeLogisticRegression(C=1.0).fit(rows, labels)
    assert free.coef_[0, 1] < -1.0  # the data says column 1 lowers the score
    bounded = NonNegativeLogisticRegression(C=1.0, n_nonnegative=2).fit(rows, labels)
    assert bounded.coef_[0, 0] > 0.5
    assert bounded.coef_[0, 1] == 0.0
    assert bounded.coef_[0, 3] != 0.0  # past n_nonnegative a weight may be negative or not
    probabilities = bounded.predict_proba(rows)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert np.array_equal(bounded.predict(rows), (probabilities[:, 1] > 0.5).astype(int))


def test_a_sample_weight_counts_as_repeated_rows() -> None:
    rows, labels = data(1)
    weights = np.where(np.arange(len(rows)) % 3 == 0, 2.0, 1.0)
    weighted = NonNegativeLogisticRegression(n_nonnegative=2).fit(rows, labels, weights)
    twice = np.flatnonzero(weights == 2.0)
    repeated = NonNegativeLogisticRegression(n_nonnegative=2).fit(
        np.vstack([rows, rows[twice]]), np.concatenate([labels, labels[twice]])
    )
    assert np.allclose(weighted.coef_, repeated.coef_, atol=1e-5)


def test_bad_settings_are_refused() -> None:
    rows, labels = data()
    with pytest.raises(ValueError, match="two classes"):
        NonNegativeLogisticRegression().fit(rows, np.zeros(len(rows)))
    with pytest.raises(ValueError, match="n_nonnegative"):
        NonNegativeLogisticRegression(n_nonnegative=5).fit(rows, labels)


def test_the_shipped_model_has_no_negative_evidence_weight() -> None:
    model = shared_model()
    n_evidence = int(model.features.n_features_out_)
    for head in (model.contested, model.refutation):
        linear = head.calibrated_classifiers_[0].estimator
        assert isinstance(linear, NonNegativeLogisticRegression)
        assert linear.n_nonnegative == n_evidence
        assert (linear.coef_[0, :n_evidence] >= 0).all()

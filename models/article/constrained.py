"""A logistic regression in which evidence can only raise a score.

FNC-1's labels taught the unconstrained article model that a denial cue or a claim ↔
denial pair *lowers* the chance that an article is contested (its asserted bodies
include debunks full of denials), so the product's own example, "X claimed … Y
denied", scored under the threshold. :class:`NonNegativeLogisticRegression` keeps
the coefficients of the first ``n_nonnegative`` columns (the evidence features) at
or above zero and leaves the rest (the wording block) free: more evidence never
lowers a score. Fitted by L-BFGS-B on the L2-penalised log-loss, as scikit-learn's
``lbfgs`` solver fits ``LogisticRegression``, with bounds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted


class NonNegativeLogisticRegression(ClassifierMixin, BaseEstimator):
    """Binary L2 logistic regression with ``coef_[0, :n_nonnegative] >= 0``.

    ``C`` is the inverse penalty strength as in ``LogisticRegression`` (the intercept
    is not penalised). Exposes ``coef_``, ``intercept_`` and ``classes_`` like it, so
    calibration and exact per-feature contributions work unchanged. Deterministic:
    the optimisation starts from zero.
    """

    def __init__(self, C: float = 1.0, n_nonnegative: int = 0, max_iter: int = 2000) -> None:
        self.C = C
        self.n_nonnegative = n_nonnegative
        self.max_iter = max_iter

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None
    ) -> NonNegativeLogisticRegression:
        rows = np.asarray(X, dtype=np.float64)
        labels = np.asarray(y)
        self.classes_ = np.unique(labels)
        if len(self.classes_) != 2:
            raise ValueError(f"needs two classes, got {len(self.classes_)}")
        if not 0 <= self.n_nonnegative <= rows.shape[1]:
            raise ValueError(f"n_nonnegative {self.n_nonnegative} outside 0..{rows.shape[1]}")
        target = (labels == self.classes_[1]).astype(np.float64)
        weight = (
            np.ones(len(target)) if sample_weight is None
            else np.asarray(sample_weight, dtype=np.float64)
        )
        penalty = 1.0 / self.C

        def loss_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
            intercept, coef = theta[0], theta[1:]
            margin = rows @ coef + intercept
            loss = np.sum(weight * (np.logaddexp(0.0, margin) - target * margin))
            residual = weight * (expit(margin) - target)
            gradient = np.concatenate(([residual.sum()], rows.T @ residual + penalty * coef))
            return float(loss + 0.5 * penalty * coef @ coef), gradient

        n_features = rows.shape[1]
        bounds = [(None, None)] + [(0.0, None)] * self.n_nonnegative
        bounds += [(None, None)] * (n_features - self.n_nonnegative)
        result = minimize(
            loss_and_gradient, np.zeros(n_features + 1), jac=True, method="L-BFGS-B",
            bounds=bounds, options={"maxiter": self.max_iter},
        )
        self.intercept_ = np.asarray([result.x[0]])
        self.coef_ = np.asarray(result.x[1:])[None, :]
        self.n_iter_ = np.asarray([result.nit])
        self.n_features_in_ = n_features
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return np.asarray(X, dtype=np.float64) @ self.coef_[0] + self.intercept_[0]

    def predict_proba(self, X: Any) -> np.ndarray:
        positive = expit(self.decision_function(X))
        return np.column_stack([1.0 - positive, positive])

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.classes_[(self.decision_function(X) > 0).astype(int)])

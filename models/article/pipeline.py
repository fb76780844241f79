"""The classifier: signal features ⊕ word n-grams → calibrated logistic regression.

:func:`build_pipeline` makes the unfitted scikit-learn ``Pipeline``;
:class:`ClaimModel` wraps a fitted one plus the denial head and the model card,
and scores a batch of articles in one vectorized call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn import config_context
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler

from models.article.features import Document, SignalFeatures, document_lede, document_text

DEFAULT_PARAMS: dict[str, Any] = {
    "label_rule": "majority",
    "ordinary_weight": 1.0,
    "C": 10.0,
    "denial_C": 3.0,
    "signal_weight": 1.0,
    "lede": True,
    "ngram_range": (1, 1),
    "lede_ngram_range": (1, 2),
    "min_df": 3,
    "max_features": None,
    "calibration_folds": 5,
}


def _ngrams(preprocessor: Any, params: dict[str, Any], ngram_range: Any) -> TfidfVectorizer:
    return TfidfVectorizer(
        preprocessor=preprocessor,
        ngram_range=tuple(ngram_range),
        min_df=params["min_df"],
        max_df=0.9,
        max_features=params["max_features"],
        sublinear_tf=True,
        dtype=np.float64,
    )


def build_features(params: dict[str, Any]) -> FeatureUnion:
    """Signal features (scaled) joined with TF-IDF word n-grams of the text (and its lede)."""
    signals = Pipeline([("extract", SignalFeatures()), ("scale", StandardScaler())])
    parts: list[tuple[str, Any]] = [
        ("signals", signals),
        ("ngrams", _ngrams(document_text, params, params["ngram_range"])),
    ]
    if params["lede"]:
        parts.append(("lede", _ngrams(document_lede, params, params["lede_ngram_range"])))
    weights = {name: 1.0 for name, _ in parts}
    weights["signals"] = params["signal_weight"]
    return FeatureUnion(parts, transformer_weights=weights)


def build_classifier(params: dict[str, Any], seed: int) -> CalibratedClassifierCV:
    """Logistic regression with sigmoid (Platt) calibration fitted out of fold."""
    linear = LogisticRegression(
        C=params["C"], solver="liblinear", max_iter=2000, random_state=seed
    )
    return CalibratedClassifierCV(
        linear, method="sigmoid", cv=params["calibration_folds"], ensemble=False
    )


def drop_stop_words(pipeline: Pipeline) -> None:
    """Delete the vectorizers' ``stop_words_``: only introspection uses it, and it is large."""
    for _, part in pipeline.named_steps["features"].transformer_list:
        if isinstance(part, TfidfVectorizer) and hasattr(part, "stop_words_"):
            delattr(part, "stop_words_")


def denial_columns(pipeline: Pipeline) -> int:
    """How many leading feature columns the denial head reads: signals + body n-grams.

    The lede n-grams help the contested head but hurt the denial head in CV.
    """
    union = pipeline.named_steps["features"]
    parts = dict(union.transformer_list)
    signals = parts["signals"].named_steps["extract"].n_features_out_
    return int(signals + len(parts["ngrams"].vocabulary_))


def build_pipeline(params: dict[str, Any] | None = None, seed: int = 0) -> Pipeline:
    """The unfitted contested-claim pipeline."""
    merged = {**DEFAULT_PARAMS, **(params or {})}
    return Pipeline(
        [("features", build_features(merged)), ("classifier", build_classifier(merged, seed))]
    )


@dataclass(frozen=True)
class Scores:
    """Calibrated probabilities per article: contested claim, and denial of a claim."""

    contested: np.ndarray
    denial: np.ndarray


class CardInfo:
    """What every article model reads from its card: name, version, thresholds, tiers."""

    card: dict[str, Any]
    sha256: str

    @property
    def name(self) -> str:
        return str(self.card.get("name", "claimwatch-contested"))

    @property
    def version(self) -> str:
        return str(self.card.get("version", "0"))

    @property
    def threshold(self) -> float:
        return float(self.card.get("thresholds", {}).get("flag", 0.5))

    @property
    def high_threshold(self) -> float:
        return float(self.card.get("thresholds", {}).get("high", self.threshold))

    def info(self) -> dict[str, str]:
        """Name, version and artifact hash: goes into every decision."""
        return {"name": self.name, "version": self.version, "sha256": self.sha256}

    def tier_for(self, score: float, threshold: float | None = None) -> str:
        """The review tier: "high" or "medium" if flagged at ``threshold``, else "low"."""
        flag = self.threshold if threshold is None else threshold
        if score >= max(flag, self.high_threshold):
            return "high"
        return "medium" if score >= flag else "low"


class ClaimModel(CardInfo):
    """v1: a fitted pipeline + denial head + model card, as loaded from an artifact.

    Scores cues and word n-grams of the whole text; kept as the bench reference of
    :class:`models.article.evidence_model.EvidenceClaimModel`.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        denial: Any,
        card: dict[str, Any],
        sha256: str = "",
        denial_columns: int | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.denial = denial
        self.card = card
        self.sha256 = sha256
        self.denial_columns = denial_columns

    def score_batch(self, docs: Sequence[Document]) -> Scores:
        """Score texts (or pre-extracted signals) in one vectorized call; deterministic."""
        if len(docs) == 0:
            empty = np.zeros(0, dtype=np.float64)
            return Scores(empty, empty.copy())
        # Same arithmetic as pipeline.predict_proba, minus sklearn's per-call input
        # checks, which dominate small batches (test_model_pipeline proves equality).
        with config_context(assume_finite=True, skip_parameter_validation=True):
            features = union_features(self.pipeline.named_steps["features"], list(docs))
            contested = calibrated_linear_proba(
                self.pipeline.named_steps["classifier"], features
            )
            columns = self.denial_columns
            denial = calibrated_linear_proba(
                self.denial, features[:, :columns] if columns else features
            )
        return Scores(contested, denial)


def union_features(union: FeatureUnion, docs: list[Document]) -> sparse.csr_matrix:
    """``union.transform(docs)`` without joblib dispatch: each part, weighted, stacked."""
    weights = union.transformer_weights or {}
    blocks = [
        part.transform(docs) * weights.get(name, 1.0) for name, part in union.transformer_list
    ]
    return sparse.hstack(blocks, format="csr")


def calibrated_linear_proba(classifier: CalibratedClassifierCV, features: Any) -> np.ndarray:
    """P(class 1) of a fitted ``CalibratedClassifierCV(LogisticRegression, "sigmoid",
    ensemble=False)``: Platt's sigmoid of the linear decision function."""
    calibrated = classifier.calibrated_classifiers_[0]
    linear = calibrated.estimator
    decision = np.asarray(features @ linear.coef_.ravel()).ravel() + linear.intercept_[0]
    sigmoid = calibrated.calibrators[0]
    return np.asarray(expit(-(sigmoid.a_ * decision + sigmoid.b_)), dtype=np.float64)

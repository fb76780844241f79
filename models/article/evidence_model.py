"""The article model v2: a calibrated linear model over the evidence features.

:class:`EvidenceClaimModel` holds the evidence models (hedge, attributions), the
fitted :class:`~models.article.evidence_features.EvidenceFeatures`, a scaler and
two calibrated logistic regressions: ``contested`` (the flag) and ``refutation``
(FNC-1 *disagree*: how likely the body refutes the claim it reports — not whether
the article contains a denial, which the attributions show). Because the model is
linear, the contribution of each feature to a score is exact, and
:func:`flag_reasons` turns the largest ones into words a reviewer understands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.preprocessing import StandardScaler

from models.article.evidence_features import HEAD_SENTENCES, EvidenceFeatures
from models.article.pipeline import CardInfo
from models.article.wording import readable
from models.evidence.evidence import ArticleEvidence, EvidenceModels

MAX_REASONS = 3


@dataclass(frozen=True, slots=True)
class Reason:
    """One feature's part in a score: its name, its exact contribution, in words."""

    feature: str
    contribution: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "weight": round(self.contribution, 4), "text": self.text}


@dataclass(frozen=True)
class EvidenceScores:
    contested: np.ndarray
    refutation: np.ndarray
    reasons: list[list[Reason]]


class EvidenceClaimModel(CardInfo):
    """Evidence models + evidence features + two calibrated linear heads + card."""

    def __init__(
        self,
        evidence: EvidenceModels,
        features: EvidenceFeatures,
        scaler: StandardScaler,
        contested: CalibratedClassifierCV,
        refutation: CalibratedClassifierCV,
        card: dict[str, Any],
        sha256: str = "",
    ) -> None:
        self.evidence = evidence
        self.features = features
        self.scaler = scaler
        self.contested = contested
        self.refutation = refutation
        self.card = card
        self.sha256 = sha256
        self._names = list(features.get_feature_names_out())
        self._n_evidence = int(features.n_features_out_)

    def extract(self, texts: Sequence[str]) -> list[ArticleEvidence]:
        return self.evidence.extract_batch(texts)

    def score_evidence(self, evidence: Sequence[ArticleEvidence]) -> EvidenceScores:
        """Calibrated scores and the reasons behind each; deterministic."""
        if not evidence:
            empty = np.zeros(0)
            return EvidenceScores(empty, empty.copy(), [])
        scaled = feature_matrix(self.features, self.scaler, list(evidence))
        contested = _probability(self.contested, scaled)
        refutation = _probability(self.refutation, scaled)
        contributions = _contributions(self.contested, scaled)
        reasons = [
            flag_reasons(self._names, row, item, self._n_evidence)
            for row, item in zip(contributions, evidence, strict=True)
        ]
        return EvidenceScores(contested, refutation, reasons)


def weighted_scaler(rows: np.ndarray, weight: float) -> StandardScaler:
    """A scaler fitted on ``rows`` whose output is the standardised features times ``weight``.

    The heads see the evidence features beside the wording block, whose TF-IDF values
    are small; at unit variance the evidence columns (a few dozen rates of rare things)
    took the penalty budget and overfitted folds (grouped CV; README: "What changed in
    2.2.0"). Scaling a block by ``weight`` is the same as penalising its coefficients
    ``1 / weight**2`` times harder. Folded into ``scale_`` so the artifact stays a plain
    ``StandardScaler``.
    """
    if not weight > 0:
        raise ValueError(f"evidence weight must be positive, got {weight}")
    scaler = StandardScaler().fit(rows)
    scaler.scale_ = scaler.scale_ / weight
    return scaler


def feature_matrix(
    features: EvidenceFeatures, scaler: StandardScaler, evidence: list[ArticleEvidence]
) -> np.ndarray:
    """What the heads score: the scaled evidence features, then the wording block."""
    scaled = scaler.transform(features.transform(evidence))
    return np.hstack([scaled, features.wording_rows(evidence)])


def _probability(classifier: CalibratedClassifierCV, scaled: np.ndarray) -> np.ndarray:
    """P(class 1) of a calibrated linear head, as ``predict_proba`` gives it."""
    calibrated = classifier.calibrated_classifiers_[0]
    linear = calibrated.estimator
    decision = scaled @ linear.coef_.ravel() + linear.intercept_[0]
    sigmoid = calibrated.calibrators[0]
    return np.asarray(expit(-(sigmoid.a_ * decision + sigmoid.b_)), dtype=np.float64)


def _contributions(classifier: CalibratedClassifierCV, scaled: np.ndarray) -> np.ndarray:
    """Each feature's exact part of the linear decision, in the direction of the score
    (Platt's slope is negative when a higher decision means class 1)."""
    calibrated = classifier.calibrated_classifiers_[0]
    direction = float(np.sign(-calibrated.calibrators[0].a_))
    return np.asarray(scaled * (calibrated.estimator.coef_.ravel() * direction))


def _names_of(evidence: ArticleEvidence, kinds: set[str]) -> list[str]:
    names: list[str] = []
    for attribution, party in zip(evidence.attributions, evidence.parties, strict=True):
        if attribution.kind in kinds and party is not None and party.name not in names:
            names.append(party.name)
    return names


def _listed(names: list[str], limit: int = 3) -> str:
    return ", ".join(names[:limit]) + (" …" if len(names) > limit else "")


def describe(feature: str, evidence: ArticleEvidence) -> str | None:
    """The reason a feature gives for this article, in a reviewer's words (None if the
    article does not have what the feature is about)."""
    signals = evidence.signals
    if feature == "pair_claim_denied_by_other_party":
        for pair in evidence.pairs:
            if pair.claimant and pair.denier and pair.claimant != pair.denier:
                return f"claim by {pair.claimant} denied by {pair.denier}"
        return None
    if feature == "contested_pairs" and evidence.pairs:
        return f"{len(evidence.pairs)} claim ↔ denial pair(s)"
    if feature.startswith(("hedge", "hedged", "head_hedge")):
        hedged = evidence.hedged()
        if not hedged:
            return None
        where = " (in the headline or lede)" if min(hedged) < HEAD_SENTENCES else ""
        return f"{len(hedged)} of {evidence.n_sentences} sentences hedged{where}"
    if feature in ("attribution_report", "head_attribution_report", "report_by_media"):
        names = _names_of(evidence, {"report"})
        if not any(a.kind == "report" for a in evidence.attributions):
            return None
        return "reported secondhand" + (f": {_listed(names)}" if names else "")
    if feature in ("attribution_claim", "head_attribution_claim"):
        names = _names_of(evidence, {"claim"})
        if not any(a.kind == "claim" for a in evidence.attributions):
            return None
        return "claimed" + (f" by {_listed(names)}" if names else "")
    if feature in ("attribution_denial", "head_attribution_denial"):
        names = _names_of(evidence, {"denial"})
        if not any(a.kind == "denial" for a in evidence.attributions):
            return None
        return "denied" + (f" by {_listed(names)}" if names else "")
    if feature.startswith(("cue_", "head_cue_")) and not feature.startswith("cue_word="):
        category = feature.removeprefix("head_").removeprefix("cue_")
        cues = [c.text for c in signals.cues if c.category == category and not c.negated]
        if not cues:
            return None
        shown = _listed(sorted(set(cues), key=cues.index))
        return f"{category.replace('_', ' ')} cue: {shown}"
    if feature.startswith("cue_word="):
        return f"cue \u201c{feature.removeprefix('cue_word=')}\u201d"
    if feature.startswith("wording="):
        phrase = readable(feature.removeprefix("wording="))
        return None if phrase is None else f"worded \u201c{phrase}\u201d"
    if feature.startswith("source_"):
        kind = feature.removeprefix("source_")
        names = [p.name for p in evidence.parties if p is not None and p.kind == kind]
        return f"attributed to {kind} sources: {_listed(names)}" if names else None
    if feature == "contested_attribution_share" and evidence.attributions:
        contested = sum(a.kind != "statement" for a in evidence.attributions)
        return f"{contested} of {len(evidence.attributions)} attributions claim, deny or report"
    return None


WORDING = "wording"


def wording_reason(names: Sequence[str], contributions: np.ndarray) -> Reason | None:
    """The wording block as one reason: its net contribution, its strongest phrases.

    ``names`` / ``contributions``: the block's columns only. Thousands of small n-gram
    weights mean little one by one; together they say the article is worded like a
    report of a claim. None when the block does not raise the score.
    """
    net = float(contributions.sum()) if len(contributions) else 0.0
    if net <= 0:
        return None
    phrases: list[str] = []
    top = np.flatnonzero(contributions > 0)
    if len(top) > 50:  # the 50 strongest, without sorting thousands
        top = top[np.argpartition(-contributions[top], 49)[:50]]
    for j in top[np.argsort(-contributions[top], kind="stable")]:
        if contributions[j] <= 0 or len(phrases) >= 3:
            break
        phrase = readable(names[j].removeprefix("wording="))
        if phrase is not None:
            phrases.append(f"\u201c{phrase}\u201d")
    shown = ": " + ", ".join(phrases) if phrases else ""
    return Reason(WORDING, net, f"worded like a report of a claim{shown}")


def flag_reasons(
    names: list[str], contributions: np.ndarray, evidence: ArticleEvidence,
    n_evidence: int | None = None,
) -> list[Reason]:
    """The features that raised this score most, each with what the article has.

    The first ``n_evidence`` columns are evidence features (default: every column not
    named ``wording=…``; the wording block comes last and counts as one feature, see
    :func:`wording_reason`).
    """
    if n_evidence is None:
        n_evidence = sum(1 for name in names if not name.startswith("wording="))
    wording = wording_reason(names[n_evidence:], contributions[n_evidence:])
    reasons: list[Reason] = []
    seen: set[str] = set()

    def add(reason: Reason | None) -> None:
        if reason is not None and reason.text not in seen and len(reasons) < MAX_REASONS:
            seen.add(reason.text)
            reasons.append(reason)

    for j in np.argsort(-contributions[:n_evidence], kind="stable"):
        contribution = float(contributions[j])
        if contribution <= 0 or len(reasons) >= MAX_REASONS:
            break
        if wording is not None and wording.contribution >= contribution:
            add(wording)
            wording = None
        text = describe(names[j], evidence)
        add(None if text is None else Reason(names[j], contribution, text))
    add(wording)
    if not reasons:
        add(_strongest_present(names, contributions, evidence, n_evidence))
    return reasons


def _strongest_present(
    names: list[str], contributions: np.ndarray, evidence: ArticleEvidence, n_evidence: int
) -> Reason | None:
    """The evidence the article has whose part in the score is largest, even if that part
    is not positive: a flag at a low threshold still says what evidence it rests on."""
    for j in np.argsort(-contributions[:n_evidence], kind="stable"):
        text = describe(names[j], evidence)
        if text is not None:
            return Reason(names[j], float(contributions[j]), text)
    return None

"""The model card: what a model is, what it was trained on, how well it did, and why
its thresholds are where they are."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import numpy as np
import sklearn

from models.article.evidence_features import NEUTRAL_FEATURES
from models.article.wording import MAX_WORDING_CHARS
from models.evidence.lexicon import CATEGORIES
from models.training.crossval import training_labels
from models.training.data import Corpus

TRAINING_DATA: list[dict[str, Any]] = [
    {
        "name": "fnc-1",
        "path": "../shared/data/fnc-1/",
        "source": "GitHub FakeNewsChallenge/fnc-1, commit 29d473af2d15278f0464d5e41e4cbe7eb58231f2 "
        "(train split; derived from the Emergent project, Ferreira & Vlachos, NAACL 2016)",
        "terms": "None stated by the source; used as research data.",
    },
    {
        "name": "ordinary-news",
        "path": "../shared/data/ordinary-news/",
        "source": "GitHub pmacinec/fake-news-datasets, commit "
        "0ea4a5ccaf7698cb44ba01855295989a8e26e144, FakeNewsAMT legit half "
        "(Pérez-Rosas et al., COLING 2018)",
        "terms": "None stated by the authors; cite the paper.",
    },
]

LABEL_RULE_TEXT = {
    "any": "contested = the FNC-1 body has a related headline with stance discuss or disagree; "
    "asserted = all related headlines agree; ordinary news = not contested",
    "majority": "contested = most related FNC-1 headlines discuss or disagree; "
    "ordinary news = not contested",
    "unanimous": "as 'any', but FNC-1 bodies with mixed agree + discuss/disagree stances are "
    "left out of training (kept in evaluation)",
}

THRESHOLD_REASON = (
    "A real stream is mostly ordinary news, so the thresholds are set on its false-positive "
    "side of the PR curve. Out-of-fold scores come from grouped 5-fold CV in which each of "
    "the first three folds holds out one whole ordinary-news domain (biz/edu/sports). "
    "'flag' is the lowest threshold at which at most {flag_budget:.0%} of ordinary news from "
    "held-out domains is flagged (half the 10% budget, as margin for unseen domains); there "
    "it recalls {recall:.0%} of contested FNC-1 bodies and flags {asserted:.0%} of asserted "
    "ones. 'high' is the lowest threshold at which at most {high_budget:.0%} of ordinary "
    "news is flagged: the tier to review first."
)


def build_card(
    corpus: Corpus,
    params: dict[str, Any],
    seed: int,
    thresholds: dict[str, float],
    cv_metrics: dict[str, Any],
    grid_results: list[dict[str, Any]],
    version: str,
    budgets: tuple[float, float] = (0.05, 0.01),
) -> dict[str, Any]:
    """The model card for a freshly trained model (the artifact hash is added on save)."""
    extra_count = Counter(corpus.sources).get("extra", 0)
    data: list[dict[str, Any]] = list(TRAINING_DATA)
    if extra_count:
        data.append({"name": "extra", "articles": extra_count,
                     "terms": "reviewer verdicts supplied with --extra"})
    contested = np.asarray(corpus.contested)
    rule = params.get("label_rule", "any")
    trained, keep = training_labels(corpus, rule)
    return {
        "name": "claimwatch-contested",
        "version": version,
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "seed": seed,
        "sklearn_version": sklearn.__version__,
        "training_data": data,
        "articles": {"total": len(contested), "contested": int(contested.sum()),
                     "not_contested": int((contested == 0).sum())},
        "label_rule": {
            "name": rule,
            "text": LABEL_RULE_TEXT[rule],
            "trained_contested": int(trained[keep].sum()),
            "trained_not_contested": int((trained[keep] == 0).sum()),
            "how_chosen": "grouped CV over the rules any / majority / unanimous (and the other "
            "grid settings); every rule is scored against the data README's rule ('any'), so "
            "the comparison measures the same target",
            "denial": "denial = an FNC-1 related headline has stance disagree (all articles)",
        },
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
        "cv": {"scheme": "grouped 5-fold: FNC-1 story groups (bodies sharing headlines) "
                         "never straddle folds; each of folds 1-3 holds out one whole "
                         "ordinary-news domain",
               "metrics": cv_metrics, "grid": grid_results},
        "thresholds": thresholds,
        "threshold_reason": THRESHOLD_REASON.format(
            flag_budget=budgets[0], high_budget=budgets[1],
            recall=cv_metrics["fnc_contested_recall"],
            asserted=cv_metrics["fnc_asserted_flag_rate"],
        ),
        "outputs": {"score": "calibrated P(contested)", "denial_score": "calibrated P(denial)"},
    }


EVIDENCE_DATA: list[dict[str, Any]] = [
    {
        "name": "wiki-weasel",
        "path": "../shared/data/wiki-weasel/",
        "used_for": "hedge model (sentence level)",
        "source": "GitHub ChristopherLiew/Crypto-Uncertainty-Index, commit "
        "a0d1b329d145b096c10861088cf18414a8b142ef, nlp/hedge_classifier/data/wiki_weasel_clean/"
        "train.csv (CoNLL-2010 shared task 1, Wikipedia train half)",
        "terms": "None stated; used as research data.",
    },
    {
        "name": "polnear",
        "path": "../shared/data/polnear/",
        "used_for": "attribution tagger (train split fitted, dev split measured)",
        "source": "GitHub networkdynamics/PolNeAR, commit "
        "c3eee833c035bf7b8c84f55b58c0bf7346cfae76 (Newell, Margolin & Ruths, LREC 2018)",
        "terms": "No licence file in the repository; used as research data.",
    },
]

THRESHOLD_REASON_V2 = (
    "Out-of-fold scores from grouped 5-fold CV (FNC-1 story groups never straddle folds; "
    "each of folds 1-3 holds out one whole ordinary-news domain). An article without "
    "evidence (no cue, no hedged sentence, no claim/denial/report attribution) is never "
    "flagged and counts as 0. 'flag' is the lowest threshold at which at most "
    "{flag_budget:.0%} of held-out ordinary news and at most {asserted_budget:.0%} of "
    "FNC-1 asserted-only bodies are flagged{political}; there it recalls {recall:.0%} of "
    "contested "
    "FNC-1 bodies. 'high' keeps the top {high_recall:.0%} of contested FNC-1 bodies: the "
    "tier to review first."
)


def build_card_v2(
    corpus: Corpus,
    params: dict[str, Any],
    seed: int,
    thresholds: dict[str, float],
    cv_metrics: dict[str, Any],
    grid_results: list[dict[str, Any]],
    version: str,
    evidence: dict[str, Any],
    budgets: tuple[float, float, float, float | None],
    checks: dict[str, Any],
) -> dict[str, Any]:
    """The card of an article model v2 and the evidence models inside its artifact."""
    card = build_card(corpus, params, seed, thresholds, cv_metrics, grid_results, version)
    card["format"] = 2
    card["training_data"] = [*card["training_data"], *EVIDENCE_DATA]
    cue_words = (
        ", and the presence of frequent cue words" if params.get("max_cue_words", 200) else ""
    )
    neutral = (
        f"; left out as measuring a long quote-heavy story, not a contested claim: "
        f"{', '.join(NEUTRAL_FEATURES)}" if params.get("drop_neutral") else ""
    )
    weight = params.get("evidence_weight", 1.0)
    scaled = (
        f" (standardised, then scaled by {weight}: a {1 / weight**2:.2f}x stronger penalty "
        "than the wording block's)" if weight != 1.0 else ""
    )
    chars = params.get("wording_chars", MAX_WORDING_CHARS)
    wording = (
        f"; wording block: TF-IDF word 1-{params.get('wording_ngrams', 2)}-grams of the "
        f"first {chars:,} characters of the text (the attribution tagger's tokens) with "
        "every word but English stop words and PolNeAR's attribution cue words masked to "
        "its shape (models/article/wording.py), so phrasing counts and topic words cannot"
        if params.get("wording") else "; no bag of words of the article"
    )
    card["features"] = (
        f"evidence: cue rates per sentence by category ({', '.join(CATEGORIES)}; the "
        "lexicon's cues and the headline's (models/evidence/headline.py); and "
        "presence in the first 4 sentences after any breadcrumb line), hedge probabilities "
        "(max, mean, share hedged, in the head), attributions per sentence by kind (claim, "
        "denial, report, statement) and by who the source is (person, organisation, media, "
        "anonymous), claim/denial pairs with different parties" + cue_words + neutral
        + scaled + wording + (
            "; every evidence coefficient kept at or above 0 (evidence can only raise a "
            "score: models/article/constrained.py)" if params.get("nonnegative_evidence")
            else ""
        )
    )
    card["label_rule"]["how_chosen"] = (
        "grouped CV over the rules any / majority, the wording block on / off, its n-gram "
        "length, the evidence features' weight, cue-word columns and C "
        "(models/training/train.py GRID), "
        "chosen by FNC-1 contested ROC-AUC; every rule is scored against the data README's "
        "rule ('any')"
    )
    card["label_rule"]["denial"] = (
        "refutation = an FNC-1 related headline has stance disagree: the body refutes the "
        "claim it reports (not whether it contains a denial: the attributions show that)"
    )
    card["threshold_reason"] = THRESHOLD_REASON_V2.format(
        flag_budget=budgets[0], asserted_budget=budgets[1], high_recall=budgets[2],
        recall=cv_metrics["fnc_contested_recall"],
        political="" if budgets[3] is None else (
            f", and at most {budgets[3]:.0%} of the unlabelled political news (PolNeAR train "
            "+ dev, scored by every fold's model, never trained on: a proxy for a politics "
            "desk, not a label)"
        ),
    )
    card["outputs"] = {
        "score": "calibrated P(contested), 0 weight on topic words",
        "refutation_score": "calibrated P(the body refutes the claim it reports), FNC-1 disagree",
        "flag_reasons": "the features that raised the score most, exact for a linear model",
    }
    card["evidence_models"] = evidence
    card["checks"] = checks
    return card

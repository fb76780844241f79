"""Stage 4: one model call per batch; one poisonous article fails alone as scoring_failed."""

from __future__ import annotations

from service_samples import CONTESTED, ORDINARY, POISON

from models.article.assess import assess_batch
from models.article.evidence_model import EvidenceClaimModel as ClaimModel
from service.pipeline.dedupe import Fresh
from service.pipeline.records import Article
from service.pipeline.score import score_batch


def fresh(article_id: str, text: str) -> Fresh:
    return Fresh(Article(article_id, text), "hash-" + article_id, 1)


def test_batch_scores_match_assess_batch(model: ClaimModel) -> None:
    items = [fresh("c", CONTESTED), fresh("o", ORDINARY)]
    scored, failures = score_batch(model, items, None)
    assert failures == []
    expected = assess_batch(model, ["c", "o"], [CONTESTED, ORDINARY])
    assert [(item, a.to_dict()) for item, a in scored] == [
        (item, e.to_dict()) for item, e in zip(items, expected, strict=True)
    ]
    assert scored[0][1].flagged and not scored[1][1].flagged


def test_threshold_override_is_applied(model: ClaimModel) -> None:
    [(_, strict)] = score_batch(model, [fresh("c", CONTESTED)], 0.999)[0]
    assert strict.threshold == 0.999 and strict.flagged is False


def test_one_poisonous_article_fails_alone(poisoned: ClaimModel, model: ClaimModel) -> None:
    items = [fresh("c", CONTESTED), fresh("p", f"{ORDINARY} {POISON}"), fresh("o", ORDINARY)]
    scored, failures = score_batch(poisoned, items, None)
    assert [item.article.id for item, _ in scored] == ["c", "o"]
    assert [(f.item.article.id, f.detail) for f in failures] == [
        ("p", "FloatingPointError: the model choked on this one")
    ]
    alone = assess_batch(model, ["c"], [CONTESTED])[0]
    assert scored[0][1].score == alone.score


def test_empty_batch_makes_no_model_call(poisoned: ClaimModel) -> None:
    assert score_batch(poisoned, [], None) == ([], [])

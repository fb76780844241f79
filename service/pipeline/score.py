"""Stage 6 — score: one vectorized model call per micro-batch.

If the batch call fails, each article is scored alone so that one poisonous article
is dead-lettered with ``scoring_failed`` and the rest of the batch still goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from models.article.assess import ArticleModel, Assessment, assess_batch
from service.pipeline.dedupe import Fresh

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScoringFailure:
    item: Fresh
    detail: str


def title_of(item: Fresh) -> str | None:
    """The article's ``title`` field when it is a string: scored as the headline."""
    title = item.article.get("title")
    return title if isinstance(title, str) else None


def score_batch(
    model: ArticleModel, items: list[Fresh], threshold: float | None
) -> tuple[list[tuple[Fresh, Assessment]], list[ScoringFailure]]:
    """Assess ``items``; return (scored pairs, failures). Never raises for bad articles."""
    if not items:
        return [], []
    try:
        assessments = assess_batch(
            model,
            [i.article.id for i in items],
            [i.article.text for i in items],
            threshold,
            [title_of(i) for i in items],
        )
        return list(zip(items, assessments, strict=True)), []
    except Exception:
        log.warning("batch scoring failed; scoring %d articles one by one", len(items))
    scored: list[tuple[Fresh, Assessment]] = []
    failures: list[ScoringFailure] = []
    for item in items:
        try:
            [assessment] = assess_batch(
                model, [item.article.id], [item.article.text], threshold, [title_of(item)]
            )
            scored.append((item, assessment))
        except Exception as error:
            failures.append(ScoringFailure(item, f"{type(error).__name__}: {error}"[:500]))
    return scored, failures

"""The scoring process routes a batch exactly as scoring in the worker does, with the
model the batch names, and a batch never meets another model."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from service_samples import CONTESTED, ORDINARY

from models.article.evidence_model import EvidenceClaimModel as ClaimModel
from service.pipeline.batch import Routed, accept, score_and_route
from service.pipeline.records import RawMessage
from service.settings import Topics
from service.worker.scorer import Scorer, _score_in_child

LIMIT = 200_000
TOPICS = Topics()


def batch(message: Callable[..., RawMessage]) -> list[RawMessage]:
    return [
        message({"id": "c", "text": CONTESTED}),
        message({"id": "o", "text": ORDINARY}),
        message(value=b"not json", key=b"bad"),
    ]


def through(scorer: Scorer, messages: list[RawMessage], model: ClaimModel) -> Routed:
    try:
        return asyncio.run(scorer.score_and_route(accept(messages, {}, LIMIT), model, None, TOPICS))
    finally:
        scorer.close()


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_scoring_off_the_loop_routes_what_scoring_here_does(
    mode: str, model: ClaimModel, message: Callable[..., RawMessage]
) -> None:
    messages = batch(message)
    here = score_and_route(accept(messages, {}, LIMIT), model, None, TOPICS)
    there = through(Scorer(mode), messages, model)
    assert [d["score"] for d in there.decisions] == [d["score"] for d in here.decisions]
    assert [d["source"] for d in there.decisions] == [d["source"] for d in here.decisions]
    assert [(o.topic, o.key) for o in there.outgoing] == [(o.topic, o.key) for o in here.outgoing]
    assert [letter.code for letter in there.rejected] == ["invalid_json"]
    assert {d["model"]["sha256"] for d in there.decisions} == {model.sha256}


def test_a_batch_for_another_model_is_refused_in_the_child(
    message: Callable[..., RawMessage],
) -> None:
    with pytest.raises(RuntimeError, match="batch wants"):
        _score_in_child(accept(batch(message), {}, LIMIT), "f" * 64, None, TOPICS, ("en",))


def test_unknown_modes_are_refused() -> None:
    with pytest.raises(ValueError, match="scoring mode"):
        Scorer("gpu")

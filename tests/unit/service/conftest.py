"""Shared pieces for the stage tests: the shipped model, raw messages, a poisoned model."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import orjson
import pytest
from service_samples import POISON

from models.article.evidence_model import EvidenceClaimModel, EvidenceScores
from models.artifact import load_model
from models.evidence.evidence import ArticleEvidence
from service.pipeline.records import RawMessage


@pytest.fixture(scope="session")
def model() -> EvidenceClaimModel:
    loaded = load_model()
    assert isinstance(loaded, EvidenceClaimModel)
    return loaded


class PoisonedModel(EvidenceClaimModel):
    """The shipped model, except that scoring any text containing POISON raises."""

    def __init__(self, real: EvidenceClaimModel) -> None:
        super().__init__(
            real.evidence, real.features, real.scaler, real.contested, real.refutation,
            real.card, real.sha256,
        )

    def score_evidence(self, evidence: Sequence[ArticleEvidence]) -> EvidenceScores:
        if any(POISON in item.text for item in evidence):
            raise FloatingPointError("the model choked on this one")
        return super().score_evidence(evidence)


@pytest.fixture(scope="session")
def poisoned(model: EvidenceClaimModel) -> EvidenceClaimModel:
    return PoisonedModel(model)


@pytest.fixture
def message() -> Callable[..., RawMessage]:
    """A consumed record; ``obj`` is JSON-encoded, ``value`` is sent as is."""
    offsets = iter(range(1_000_000))

    def make(
        obj: object = None,
        *,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int = 0,
    ) -> RawMessage:
        if obj is not None:
            value = orjson.dumps(obj)
            if key is None and isinstance(obj, dict) and isinstance(obj.get("id"), str):
                key = obj["id"].encode()
        return RawMessage("articles", partition, next(offsets), 1_700_000_000_000, key, value)

    return make

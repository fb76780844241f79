"""Artifact loading: hash check, tampering, truncation, untrusted types, missing files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import skops.io as sio

from models.artifact import (
    ArtifactCorruptError,
    ArtifactError,
    ArtifactHashMismatchError,
    ArtifactMissingError,
    ArtifactUntrustedTypeError,
    card_path_for,
    default_artifact,
    load_model,
    sha256_of,
)
from models.errors import ModelError


@pytest.fixture
def artifact_copy(tmp_path: Path) -> Path:
    source = default_artifact()
    target = tmp_path / source.name
    shutil.copy(source, target)
    shutil.copy(card_path_for(source), card_path_for(target))
    return target


def test_default_artifact_loads_with_card_fields() -> None:
    model = load_model()
    assert model.sha256 == model.card["artifact"]["sha256"]
    assert model.info() == {"name": model.name, "version": model.version, "sha256": model.sha256}
    assert 0.0 < model.threshold < 1.0
    # v2 carries the hedge vocabulary (~3.4 MB) and the tagger (~1.3 MB) inside
    assert default_artifact().stat().st_size < 8_000_000
    for key in (
        "name",
        "version",
        "created",
        "training_data",
        "label_rule",
        "cv",
        "thresholds",
        "threshold_reason",
    ):
        assert key in model.card
    assert all(entry["terms"] for entry in model.card["training_data"])


def test_tampered_artifact_is_refused(artifact_copy: Path) -> None:
    data = bytearray(artifact_copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact_copy.write_bytes(bytes(data))
    with pytest.raises(ArtifactHashMismatchError) as caught:
        load_model(artifact_copy)
    assert caught.value.code == "artifact_hash_mismatch"
    assert isinstance(caught.value, ModelError)


def test_truncated_artifact_is_refused(artifact_copy: Path) -> None:
    data = artifact_copy.read_bytes()
    artifact_copy.write_bytes(data[: len(data) // 3])
    with pytest.raises(ArtifactHashMismatchError):
        load_model(artifact_copy)


def test_truncated_file_with_matching_card_hash_is_corrupt(artifact_copy: Path) -> None:
    data = artifact_copy.read_bytes()[:1000]
    artifact_copy.write_bytes(data)
    card = json.loads(card_path_for(artifact_copy).read_text())
    card["artifact"]["sha256"] = sha256_of(data)
    card_path_for(artifact_copy).write_text(json.dumps(card))
    with pytest.raises(ArtifactCorruptError):
        load_model(artifact_copy)


def test_untrusted_type_is_refused_even_with_matching_hash(artifact_copy: Path) -> None:
    data = sio.dumps({"pipeline": Path("x"), "denial": None})
    artifact_copy.write_bytes(data)
    card = json.loads(card_path_for(artifact_copy).read_text())
    card["artifact"]["sha256"] = sha256_of(data)
    card_path_for(artifact_copy).write_text(json.dumps(card))
    with pytest.raises(ArtifactUntrustedTypeError):
        load_model(artifact_copy)


def test_missing_artifact_and_missing_card(tmp_path: Path, artifact_copy: Path) -> None:
    with pytest.raises(ArtifactMissingError):
        load_model(tmp_path / "nope.skops")
    card_path_for(artifact_copy).unlink()
    with pytest.raises(ArtifactMissingError) as caught:
        load_model(artifact_copy)
    assert isinstance(caught.value, ArtifactError)
    assert caught.value.code == "artifact_missing"


def test_a_saved_v2_model_loads_back_scoring_the_same(tmp_path: Path) -> None:
    from models.article.evidence_model import EvidenceClaimModel
    from models.artifact import save_model

    model = load_model()
    assert isinstance(model, EvidenceClaimModel)
    texts = [
        "Officials reportedly denied the claim, according to people close to the talks.",
        "The team won the game on Sunday. Fans celebrated in the streets.",
    ]
    before = model.score_evidence(model.extract(texts))
    loaded = load_model(save_model(model, tmp_path))
    assert isinstance(loaded, EvidenceClaimModel)
    after = loaded.score_evidence(loaded.extract(texts))
    assert after.contested.tolist() == before.contested.tolist()
    assert [[r.text for r in rs] for rs in after.reasons] == [
        [r.text for r in rs] for rs in before.reasons
    ]
    assert list(loaded.features.get_feature_names_out()) == list(
        model.features.get_feature_names_out()
    )
    assert loaded.features.wording_keep == model.features.wording_keep

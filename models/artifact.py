"""Save and load model artifacts: skops file + model card JSON, checked by sha256.

Loading never unpickles: skops rebuilds only the types in :data:`TRUSTED_TYPES`,
and the file's hash must match the card before skops even reads it, so a
tampered or truncated artifact is refused with a clear error.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import json
from pathlib import Path
from typing import Any

import skops.io as sio

from models.article.evidence_features import EvidenceFeatures
from models.article.evidence_model import EvidenceClaimModel
from models.article.pipeline import ClaimModel
from models.errors import ModelError
from models.evidence.attribution import AttributionTagger
from models.evidence.evidence import EvidenceModels
from models.evidence.hedge import HedgeModel
from models.evidence.weasel import WeaselFlags

ARTIFACT_DIR = Path(__file__).resolve().parent / "artifacts"
DEFAULT_NAME = "claimwatch-contested"

# Every type the artifact may contain; anything else is refused.
TRUSTED_TYPES: tuple[str, ...] = (
    "builtins.dict",
    "builtins.int",
    "builtins.list",
    "builtins.tuple",
    "builtins.slice",
    "collections.defaultdict",
    "models.article.features.SignalFeatures",
    "models.article.features.document_lede",
    "models.article.features.document_text",
    "models.article.evidence_features.EvidenceFeatures",
    "models.article.constrained.NonNegativeLogisticRegression",
    "models.evidence.attribution.AttributionTagger",
    "builtins.str",
    "builtins.bool",
    "builtins.float",
    "numpy.float32",
    "numpy.bool_",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
)


class ArtifactError(ModelError):
    """A model artifact cannot be used."""

    code = "artifact_error"


class ArtifactMissingError(ArtifactError):
    code = "artifact_missing"


class ArtifactHashMismatchError(ArtifactError):
    code = "artifact_hash_mismatch"


class ArtifactCorruptError(ArtifactError):
    code = "artifact_corrupt"


class ArtifactUntrustedTypeError(ArtifactError):
    code = "artifact_untrusted_type"


def card_path_for(artifact: Path) -> Path:
    """The model card that sits beside an artifact: ``X.skops`` → ``X.card.json``."""
    return artifact.with_name(artifact.name.removesuffix(".skops") + ".card.json")


def default_artifact() -> Path:
    """The artifact shipped in ``models/artifacts/``."""
    return ARTIFACT_DIR / f"{DEFAULT_NAME}.skops"


def v1_artifact() -> Path:
    """The article model v1 (cues + word n-grams), kept as the bench's reference."""
    return ARTIFACT_DIR / "v1" / f"{DEFAULT_NAME}.skops"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _content(model: ClaimModel | EvidenceClaimModel) -> dict[str, Any]:
    """What goes into the skops file: only trusted types, no project object but the
    tagger (whose state is numpy arrays and strings) and the evidence features."""
    if isinstance(model, ClaimModel):
        return {
            "pipeline": model.pipeline,
            "denial": model.denial,
            "denial_columns": model.denial_columns,
        }
    hedge = model.evidence.hedge
    pipeline, terms = _without_vocabulary(hedge.pipeline)
    return {
        "format": 2,
        "hedge": {
            "pipeline": pipeline,
            "terms": terms,
            "threshold": float(hedge.threshold),
            "platt": [float(value) for value in hedge.platt],
            **({} if hedge.weasel is None else {"weasel": hedge.weasel.stored()}),
        },
        "tagger": model.evidence.tagger,
        **_packed_features(model.features),
        "scaler": model.scaler,
        "contested": model.contested,
        "refutation": model.refutation,
    }


def _without_vocabulary(pipeline: Any) -> tuple[Any, str]:
    """A copy of the hedge pipeline whose vectorizer vocabulary is one string of terms in
    column order: skops stores a dict key by key, and 140k keys took ~10 s to load."""
    stored = copy.deepcopy(pipeline)
    vectorizer = stored.named_steps["features"]
    vocabulary = vectorizer.vocabulary_
    terms = sorted(vocabulary, key=vocabulary.__getitem__)
    if any("\n" in term for term in terms):
        raise ArtifactError("a hedge vocabulary term contains a line break")
    vectorizer.vocabulary_ = {}
    return stored, "\n".join(terms)


def _packed_features(features: EvidenceFeatures) -> dict[str, Any]:
    """The evidence features with the wording block's vocabulary and kept words as two
    strings (as for the hedge vocabulary: skops stores a dict or tuple item by item)."""
    wording = getattr(features, "wording_", None)
    if wording is None:
        return {"features": features}
    stored = copy.deepcopy(features)
    vocabulary = wording.vocabulary_
    terms = sorted(vocabulary, key=vocabulary.__getitem__)
    if any("\n" in item for item in (*terms, *features.wording_keep)):
        raise ArtifactError("a wording term or kept word contains a line break")
    assert stored.wording_ is not None
    stored.wording_.vocabulary_ = {}
    stored.wording_keep = ()
    return {
        "features": stored,
        "wording_terms": "\n".join(terms),
        "wording_keep": "\n".join(features.wording_keep),
    }


def _unpacked_features(content: dict[str, Any]) -> EvidenceFeatures:
    features = content["features"]
    if not isinstance(features, EvidenceFeatures):
        raise TypeError("the artifact's features are not EvidenceFeatures")
    if "wording_terms" in content and features.wording_ is not None:
        terms = str(content["wording_terms"]).split("\n")
        features.wording_.vocabulary_ = {term: column for column, term in enumerate(terms)}
        features.wording_keep = tuple(str(content["wording_keep"]).split("\n"))
    return features


def _with_vocabulary(pipeline: Any, terms: str | None) -> Any:
    if terms is None:  # saved with the vocabulary as a dict
        return pipeline
    pipeline.named_steps["features"].vocabulary_ = {
        term: column for column, term in enumerate(terms.split("\n")) if term
    }
    return pipeline


def _weasel(stored: Any) -> WeaselFlags | None:
    """The hedge model's weasel flags from the groups the artifact stores (since 2.7.0)."""
    if stored is None:
        return None
    groups = stored.get("groups") if isinstance(stored, dict) else None
    if not isinstance(groups, dict) or not all(
        isinstance(name, str) and isinstance(terms, list)
        and all(isinstance(term, str) for term in terms)
        for name, terms in groups.items()
    ):
        raise ArtifactError("the artifact's weasel groups are not lists of strings")
    return WeaselFlags(groups, str(stored["token_pattern"]))


def _rebuild(
    content: dict[str, Any], card: dict[str, Any], sha256: str
) -> ClaimModel | EvidenceClaimModel:
    if content.get("format") != 2:
        return ClaimModel(
            content["pipeline"], content["denial"], card, sha256, content.get("denial_columns")
        )
    stored = content["hedge"]
    hedge = HedgeModel(
        pipeline=_with_vocabulary(stored["pipeline"], stored.get("terms")),
        threshold=float(stored["threshold"]),
        platt=(float(stored["platt"][0]), float(stored["platt"][1])),
        weasel=_weasel(stored.get("weasel")),
    )
    tagger = content["tagger"]
    if not isinstance(tagger, AttributionTagger):
        raise TypeError("the artifact's tagger is not an AttributionTagger")
    return EvidenceClaimModel(
        EvidenceModels(hedge, tagger),
        _unpacked_features(content),
        content["scaler"],
        content["contested"],
        content["refutation"],
        card,
        sha256,
    )


def save_model(
    model: ClaimModel | EvidenceClaimModel, out_dir: Path, name: str = DEFAULT_NAME
) -> Path:
    """Write ``<name>.skops`` and ``<name>.card.json``; the card records the file's hash."""
    out_dir.mkdir(parents=True, exist_ok=True)
    content = _content(model)
    data = sio.dumps(content, compression=8)
    untrusted = set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES)
    if untrusted:
        raise ArtifactUntrustedTypeError(
            f"refusing to save: types outside the trusted list {sorted(untrusted)}"
        )
    path = out_dir / f"{name}.skops"
    path.write_bytes(data)
    model.sha256 = sha256_of(data)
    model.card["artifact"] = {"file": path.name, "sha256": model.sha256, "bytes": len(data)}
    card_path_for(path).write_text(
        json.dumps(model.card, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    return path


def _read_card(path: Path) -> dict[str, Any]:
    card_path = card_path_for(path)
    if not card_path.is_file():
        raise ArtifactMissingError(f"model card {card_path} not found beside the artifact")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        expected = str(card["artifact"]["sha256"])
    except (ValueError, KeyError, TypeError) as error:
        raise ArtifactCorruptError(f"model card {card_path} is unreadable: {error}") from None
    return {**card, "_expected_sha256": expected}


def load_model(path: Path | str | None = None) -> ClaimModel | EvidenceClaimModel:
    """Load an artifact after checking its sha256 against its card and its types.

    The loaded model's objects are then moved out of the garbage collector's generations
    (``gc.freeze``; loading the next model unfreezes them, so a replaced model can be
    collected): a process that loads a model keeps it while it scores."""
    path = default_artifact() if path is None else Path(path)
    if not path.is_file():
        raise ArtifactMissingError(f"model artifact {path} not found")
    card = _read_card(path)
    expected = card.pop("_expected_sha256")
    data = path.read_bytes()
    actual = sha256_of(data)
    if actual != expected:
        raise ArtifactHashMismatchError(
            f"model artifact {path} has sha256 {actual[:12]}…, its card says {expected[:12]}… "
            "(tampered or truncated file)"
        )
    try:
        untrusted = set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES)
    except Exception as error:
        raise ArtifactCorruptError(f"model artifact {path} is not a skops file: {error}") from None
    if untrusted:
        raise ArtifactUntrustedTypeError(
            f"model artifact {path} contains untrusted types {sorted(untrusted)}"
        )
    gc.unfreeze()  # a model loaded before (a hot reload replaces it) may be collected again
    try:
        content = sio.loads(data, trusted=list(TRUSTED_TYPES))
        model = _rebuild(content, card, actual)
    except Exception as error:
        raise ArtifactCorruptError(f"model artifact {path} cannot be loaded: {error}") from None
    # The model's objects (tens of thousands: vocabularies, the tagger's tables) live as
    # long as it scores: keep the garbage collector's full collections, which scoring's
    # many short-lived records trigger, from walking them every time (about 5% of
    # scoring time, python -m models.training.throughput).
    gc.collect()
    gc.freeze()
    return model

"""Stage 5 — language: the article's language, given or detected, and whether it is scored.

The article's ``language`` field, when it names one (a BCP 47 tag; its primary
subtag counts: ``fr-CA`` is ``fr``), is taken as it is. Otherwise the language is
detected with py3langid (langid.py's naive Bayes model over byte n-grams, 97
languages, shipped inside the package; nothing is downloaded) on the headline and
the first ``DETECT_CHARS`` characters of the readable text. An article is skipped
as ``unsupported_language`` only when the detector is at least ``MIN_CONFIDENCE``
sure of a language the model does not support; when it is less sure (short or
mixed texts), the article is scored as the model's first language and says so
(``language_source: "assumed"``). ``python -m bench.languages`` measured the choice.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from service.pipeline.records import INVALID_LANGUAGE, Article, Rejected

# Detection reads the start of an article: accuracy on paragraphs was already complete
# in bench/languages.py, and the cost grows with the length.
DETECT_CHARS = 1000
# bench/languages.py (py3langid): skipping only at >= 0.5 skipped 22 of 1,648 English
# headlines (132 when skipping at any confidence) and no English body (3 of the 1,803
# FNC-1 bodies skipped are in Chinese and French), and still skipped every one of the
# 66 texts in eleven other languages; at 0.8, 11 of those were scored.
MIN_CONFIDENCE = 0.5
# A given tag that says "no language in particular": detected instead.
UNDETERMINED = "und"
MAX_TAG_CHARS = 35  # RFC 5646's longest well-formed tags are shorter

FIELD, DETECTED, ASSUMED = "field", "detected", "assumed"


@dataclass(frozen=True, slots=True)
class Language:
    """An article's language, where it came from, and whether the model scores it."""

    code: str
    source: str  # FIELD, DETECTED or ASSUMED
    supported: bool

    def to_dict(self) -> dict[str, Any]:
        return {"language": self.code, "language_source": self.source}


def given_language(value: Any) -> str | None:
    """The primary subtag of an article's ``language`` field, or None to detect it.

    Raises :class:`Rejected` (``invalid_language``) for a value that is not a
    language tag, rather than guessing what the producer meant.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value) > MAX_TAG_CHARS:
        raise Rejected(INVALID_LANGUAGE, f"'language' {str(value)[:40]!r} is not a language tag")
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    if not (2 <= len(primary) <= 3 and primary.isascii() and primary.isalpha()):
        raise Rejected(INVALID_LANGUAGE, f"'language' {value[:40]!r} is not a language tag")
    return None if primary == UNDETERMINED else primary


@functools.cache
def _identifier() -> Any:
    """py3langid's model, loaded once per process (~1 s, ~90 MB); read-only afterwards."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def preload() -> None:
    """Load the detector now, so that the first batch does not wait for it."""
    _identifier()


def detect(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability) of ``text``'s most likely language."""
    code, probability = _identifier().classify(text[:DETECT_CHARS])
    return str(code), float(probability)


def known_languages() -> tuple[str, ...]:
    """Every code the detector can answer (bounds the metric's language label)."""
    return tuple(str(code) for code in _identifier().nb_classes)


def language_of(article: Article, supported: tuple[str, ...]) -> Language:
    """The language ``article`` (its text already readable) is in, for the model."""
    given = given_language(article.get("language"))
    if given is not None:
        return Language(given, FIELD, given in supported)
    title = article.get("title")
    sample = f"{title}\n{article.text}" if isinstance(title, str) and title else article.text
    code, probability = detect(sample)
    if code in supported:
        return Language(code, DETECTED, True)
    if probability >= MIN_CONFIDENCE:
        return Language(code, DETECTED, False)
    return Language(supported[0], ASSUMED, True)

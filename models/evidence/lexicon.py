"""The contested-claim cue lexicon, compiled into one linear-time regular expression.

Every pattern is a fixed phrase with bounded alternations and possessive
whitespace runs (``++`` / ``*+``), so matching never backtracks into a run: the
scan is a single pass over the text whatever the input. Categories follow DESIGN.md; the order of
:data:`CATEGORIES` is the order of the model's signal features.
"""

from __future__ import annotations

import re


def word_set(words: str) -> frozenset[str]:
    """The set of the space-separated words of ``words``."""
    return frozenset(words.split())

CATEGORIES: tuple[str, ...] = (
    "hedged_attribution",
    "claim",
    "denial",
    "dispute",
    "unverified",
    "weasel",
    "secondhand",
)
# The categories the article model v1 was trained on: its features keep this list, so
# a category added later changes no v1 score (v1 stays the bench's fixed reference).
V1_CATEGORIES: tuple[str, ...] = CATEGORIES[:6]

# Whitespace between words, at most one line break (a blank line ends a sentence, so
# a cue never spans two); possessive, so a long run is consumed once, never re-tried.
_S = r"(?:[^\S\n]++\n?+[^\S\n]*+|\n[^\S\n]*+)"
_NOT = r"(?:\s++not|n['\u2019]t|not)"  # "could not", "couldn't", "cannot"
_BE = r"(?:is|are|was|were|been|be)"
_SOURCES = r"(?:unnamed|anonymous|unidentified|undisclosed)" + _S + r"(?:\w++" + _S + r")?sources?"

_SOURCE_SAID = r"sources?" + _S + r"(?:said|say|says|told|claim(?:ed|s)?)"

_PHRASES: dict[str, tuple[str, ...]] = {
    "hedged_attribution": (
        r"allegedly",
        r"reportedly",
        r"purportedly",
        r"supposedly",
        r"alleged",
        r"purported",
        r"rumou?red",
        _BE + _S + r"(?:said|believed|thought|rumou?red|understood)" + _S + r"to",
        r"according" + _S + r"to" + _S + r"(?:an?" + _S + r"|the" + _S + r")?" + _SOURCES,
        _SOURCES + _S + r"(?:said|say|told|claim(?:ed)?)",
        # added from FNC-1 document rates: python -m models.training.cue_rates
        r"(?:an?|the)" + _S + _SOURCE_SAID,
        _SOURCE_SAID,
        r"suspected",
        r"it" + _S + _BE + _S + r"(?:claimed|alleged|rumou?red|reported)" + _S + r"that",
    ),
    "claim": (
        r"claim(?:s|ed|ing)?",
        r"alleg(?:es|ing)",
        r"assert(?:s|ed|ing)?",
        r"insist(?:s|ed|ing)?",
        r"contend(?:s|ed|ing)?",
        r"allegations?",
        r"accusations?",
    ),
    "denial": (
        r"den(?:y|ies|ied|ying|ials?)",
        r"refut(?:e|es|ed|ing)",
        r"rebut(?:s|ted|ting)?",
        r"reject(?:s|ed|ing)?",
        r"dismiss(?:es|ed|ing)?",
        r"debunk(?:s|ed|ing)?",
        r"(?:not|never)" + _S + r"true",
        r"untrue",
        r"baseless",
        r"unfounded",
        r"hoax(?:es)?",
        r"there" + _S + r"(?:was|were|has" + _S + r"been|had" + _S + r"been)" + _S + r"no",
    ),
    "dispute": (
        r"disput(?:e|es|ed|ing)",
        r"contested",
        r"contesting",
        r"challeng(?:es|ed|ing)" + _S + r"(?:the" + _S + r"|this" + _S + r"|that" + _S + r")?"
        r"(?:claims?|reports?|accounts?|allegations?|version)",
        r"cast(?:s|ing)?" + _S + r"doubts?",
        r"doubts?" + _S + r"(?:about|over|on)",
        r"questioned",
        r"s[ck]eptic(?:al|ism|s)?",
    ),
    "unverified": (
        r"(?:could|can|would)" + _NOT + _S + r"(?:be" + _S + r")?(?:independently" + _S + r")?"
        r"(?:verif(?:y|ied)|confirm(?:ed)?|corroborat(?:e|ed)|authenticat(?:e|ed))",
        r"(?:has|have|had)" + _NOT + _S + r"(?:yet" + _S + r")?been" + _S
        + r"(?:independently" + _S + r")?(?:verified|confirmed|corroborated|authenticated)",
        r"(?:not|never)" + _S + r"(?:been" + _S + r")?independently" + _S
        + r"(?:verified|confirmed|corroborated)",
        r"unconfirmed",
        r"unverified",
        r"unsubstantiated",
        r"uncorroborated",
        r"without" + _S + r"(?:any" + _S + r")?(?:evidence|proof)",
        r"no" + _S + r"(?:hard" + _S + r")?(?:evidence|proof)",
        r"declined" + _S + r"to" + _S + r"confirm",
        r"(?:declined|refused)" + _S + r"to" + _S + r"comment",
        r"did" + _NOT + _S + r"(?:immediately" + _S + r")?respond",
        r"(?:unclear|not" + _S + r"clear)" + _S + r"(?:whether|if)",
    ),
    # Reporting at second hand: the story passes on what someone else reported. Each
    # form is more common in contested FNC-1 bodies than in asserted ones ("citing"
    # 5.3% / 0.3%, "reported that" 7.6% / 3.0%; python -m models.training.cue_rates)
    # and rare in ordinary news; "were reported" (1:1, "no injuries were reported") and
    # "told <outlet>" (as common in asserted bodies) measured no signal and are left out.
    "secondhand": (
        r"citing",
        r"reports?" + _S + r"(?:say|says|said|suggest(?:s|ed)?|indicate(?:s|d)?)",
        r"reported" + _S + r"that",
        r"(?:was|(?:has|have|had)" + _S + r"been)" + _S + r"reported",
        r"according" + _S + r"to" + _S + r"(?:(?:media|news|press|local)" + _S + r")?reports",
        r"sources?" + _S + r"(?:close" + _S + r"to|familiar" + _S + r"with)",
    ),
    "weasel": (
        r"some" + _S + r"(?:people" + _S + r"|experts" + _S + r"|observers" + _S
        + r"|analysts" + _S + r"|critics" + _S + r")?(?:say|said|believe|claim|argue|suggest)",
        r"critics" + _S + r"(?:say|said|argue|claim|contend)",
        r"many" + _S + r"(?:people" + _S + r")?(?:believe|say|think)",
        r"it" + _S + _BE + _S + r"(?:widely" + _S + r")?(?:believed|thought|speculated)",
        r"rumou?rs?",
        r"speculation",
        r"speculat(?:e|es|ed)",
    ),
}

# Letters a cue can begin with. The look-ahead on them lets the regex engine skip
# ahead with a fast character-set scan instead of trying every branch at every
# position (4x faster); a unit test checks the set against every phrase.
FIRST_LETTERS = "abcdhimnpqrstuw"
_ALTERNATION = "|".join(
    f"(?P<{category}>" + "|".join(_PHRASES[category]) + ")" for category in CATEGORIES
)
# For lower-cased text (the fast path) and, when lower-casing changes the length
# (e.g. "\u0130"), for the original text with IGNORECASE.
CUE_PATTERN_LOWER = re.compile(rf"(?=[{FIRST_LETTERS}])\b(?:{_ALTERNATION})\b")
CUE_PATTERN = re.compile(rf"\b(?:{_ALTERNATION})\b", re.IGNORECASE)

# Categories whose meaning flips under a preceding negation ("did not deny").
NEGATABLE = frozenset({"claim", "denial", "dispute"})
NEGATORS = frozenset({"not", "never", "no", "neither", "nor", "cannot", "without"})

# Abbreviations whose trailing period does not end a sentence ("Mr. Smith", "U.S.
# forces", an initial "J. Smith"), as fixed-width look-behinds grouped by length.
ABBREVIATIONS = word_set(
    "mr mrs ms dr st jr sr prof gen col lt sgt capt rep sen gov rev inc co corp ltd "
    "vs no jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n e.g i.e"
)
_NOT_AFTER_ABBREVIATION = "".join(
    rf"(?<!\b(?:{'|'.join(sorted(re.escape(a) for a in ABBREVIATIONS if len(a) == n))}))"
    for n in sorted({len(a) for a in ABBREVIATIONS})
) + r"(?<!\b[^\W\d_])"

# A sentence ends at terminal punctuation (plus closing quotes/brackets) followed by
# whitespace, or at a blank line (single line breaks may be wrapping). The first
# look-behind stops a run of dots from being re-scanned at every position, which
# would be quadratic; the look-ahead lets the engine jump between punctuation
# marks with a fast character-set scan.
SENTENCE_BREAK = re.compile(
    r"(?=[.!?\u2026\n])(?:(?<![.!?\u2026])" + _NOT_AFTER_ABBREVIATION
    + r"[.!?\u2026]++[\"'\u201d\u2019\u00bb)\]]*+\s++|\n[^\S\n]*+\n\s*+)",
    re.IGNORECASE,
)

WORD = re.compile(r"[^\W_]++(?:['\u2019][^\W_]++)*+")

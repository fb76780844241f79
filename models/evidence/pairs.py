"""Claim ↔ denial pairs and the parties behind them ("IMIS claimed", "the coalition denied").

Heuristics over the cue spans found by :mod:`models.evidence.signals`: the party of a cue
verb is the noun phrase before it in its sentence (after a closing quote, if
any), the phrase after it when the sentence inverts ("…,” claimed IMIS), or the
agent of a passive ("was denied by the ministry"). Work per article is bounded
by the caps on cues, sentences and pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.evidence.lexicon import WORD, word_set
from models.evidence.spans import Cue, Sentence

_MAX_SIDE = 50  # candidate sentences per side of a pair
_MAX_PARTY_WORDS = 8
CLAIM_SIDE = frozenset({"claim", "hedged_attribution"})
DENIAL_SIDE = frozenset({"denial", "dispute"})
_PARTY_CUES = frozenset({"claim", "denial", "dispute"})

_CLAUSE_CUT = re.compile(
    r"[\u201d\"\u201c;:\u2014\u2013(]|\b(?:that|who|which|and|but|while|as|after|when)\b",
    re.IGNORECASE,
)
_AFTER_CUE = re.compile(r"[^.,;:!?…\u201d\"\u201c\u2014\u2013()\n]{1,120}+")
_PASSIVE_BY = re.compile(r"\s++by\s++([^.,;:!?…\u201d\"\u201c\u2014\u2013()\n]{1,120}+)")
_AUXILIARIES = word_set(
    "has have had was were is are be been also did does do would could will may might "
    "since then later already previously initially again now still just strongly "
    "flatly categorically vehemently repeatedly publicly officially quickly swiftly "
    "firmly immediately has since"
)
_NOUN_MARKERS = word_set(
    "the a an these those this that such his her their its our my your any false new "
    "similar earlier those' these' of to"
)
_PRONOUNS = word_set("he she they it we i you who which this that there one someone")
_STOPWORDS = word_set(
    "that this with from have been were they their there which about would could said "
    "also after when what will into than them more other some such only over just "
    "like being these those because while where does while before under since through"
)


@dataclass(frozen=True, slots=True)
class ContestedPair:
    """A sentence that claims something and a sentence that denies or disputes it."""

    claim_sentence: int
    denial_sentence: int
    claimant: str | None
    denier: str | None
    claim_cue: str
    denial_cue: str
    shared_words: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "claim_sentence": self.claim_sentence,
            "denial_sentence": self.denial_sentence,
            "claimant": self.claimant,
            "denier": self.denier,
            "claim_cue": self.claim_cue,
            "denial_cue": self.denial_cue,
            "shared_words": list(self.shared_words),
        }


def _clean_party(phrase: str) -> str | None:
    words = phrase.split()
    while words and words[-1].lower() in _AUXILIARIES:
        words.pop()
    while words and words[-1].islower() and words[-1].endswith("ly"):
        words.pop()
    words = words[-_MAX_PARTY_WORDS:]
    party = " ".join(words).strip(" ,'\u2019\"()[]")
    if not party or party.lower() in _PRONOUNS or not any(c.isalpha() for c in party):
        return None
    return party


def _subject_before(text: str, sentence_start: int, cue_start: int) -> str:
    before = text[sentence_start:cue_start]
    cuts = list(_CLAUSE_CUT.finditer(before))
    if cuts:
        before = before[cuts[-1].end() :]
    segments = [segment.strip() for segment in before.split(",")]
    segments = [segment for segment in segments if segment]
    if not segments:
        return ""
    last = segments[-1]
    appositive = last.split()[0].lower() in ("a", "an", "which", "who")
    return segments[-2] if appositive and len(segments) > 1 else last


def party_of(text: str, sentence: Sentence, cue: Cue) -> str | None:
    """The claimant / denier named for a cue verb, or None if the text names nobody."""
    if cue.category not in _PARTY_CUES or cue.negated:
        return None
    passive = _PASSIVE_BY.match(text, cue.end, sentence.end)
    if passive:
        return _clean_party(passive.group(1))
    previous = WORD.findall(text[max(sentence.start, cue.start - 30) : cue.start])
    if previous and previous[-1].lower().rstrip("s'\u2019") in _NOUN_MARKERS:
        return None  # a noun ("the claims"), not a verb with a subject
    subject = _subject_before(text, sentence.start, cue.start)
    if subject:
        return _clean_party(subject)
    inverted = _AFTER_CUE.match(text, cue.end, sentence.end)
    return _clean_party(inverted.group()) if inverted else None


def content_words(text: str) -> frozenset[str]:
    """The content words of ``text`` as six-letter prefixes, a cheap stem:
    "confronted" and "confrontation" match."""
    return frozenset({
        word[:6] for word in map(str.lower, WORD.findall(text))
        if len(word) > 3 and word not in _STOPWORDS
    })


def _side_cues(cues: list[Cue], categories: frozenset[str]) -> dict[int, list[Cue]]:
    side: dict[int, list[Cue]] = {}
    for cue in cues:
        if cue.category in categories and not cue.negated:
            side.setdefault(cue.sentence, []).append(cue)
    return dict(list(side.items())[:_MAX_SIDE])


def _first_party(text: str, sentence: Sentence, cues: list[Cue]) -> str | None:
    for cue in cues:
        party = party_of(text, sentence, cue)
        if party:
            return party
    return None


def find_pairs(
    text: str, cues: list[Cue], sentences: list[Sentence], max_pairs: int
) -> list[ContestedPair]:
    """Pair each denial/dispute sentence with the claim sentence most about the same matter.

    "Same matter" = most shared content words, then an earlier claim, then the
    nearest; a pair needs a shared word or sentences at most two apart. Returns at
    most ``max_pairs`` pairs.
    """
    denials = _side_cues(cues, DENIAL_SIDE)
    # A denial sentence that mentions "the claim" is not itself the claim sentence.
    claims = {i: found for i, found in _side_cues(cues, CLAIM_SIDE).items() if i not in denials}
    if not claims or not denials:
        return []
    by_index = {sentence.index: sentence for sentence in sentences}
    words = {index: content_words(by_index[index].text) for index in claims.keys() | denials.keys()}
    pairs: list[ContestedPair] = []
    for denial_index, denial_cues in denials.items():
        best: tuple[int, int, int, int] | None = None
        for claim_index in claims:
            if claim_index == denial_index:
                continue
            shared = len(words[claim_index] & words[denial_index])
            distance = abs(claim_index - denial_index)
            if shared == 0 and distance > 2:
                continue
            key = (shared, int(claim_index < denial_index), -distance, -claim_index)
            if best is None or key > best:
                best = key
        if best is None:
            continue
        claim_index = -best[3]
        shared_words = tuple(sorted(words[claim_index] & words[denial_index]))[:10]
        pairs.append(
            ContestedPair(
                claim_sentence=claim_index,
                denial_sentence=denial_index,
                claimant=_first_party(text, by_index[claim_index], claims[claim_index]),
                denier=_first_party(text, by_index[denial_index], denial_cues),
                claim_cue=claims[claim_index][0].text,
                denial_cue=denial_cues[0].text,
                shared_words=shared_words,
            )
        )
        if len(pairs) >= max_pairs:
            break
    return pairs

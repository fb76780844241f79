"""All the evidence of one article, from the lexicon and the two learned evidence models.

:class:`EvidenceModels` holds the hedge model and the attribution tagger and turns a
batch of texts into :class:`ArticleEvidence`: the cue scan of
:mod:`models.evidence.signals`, a hedge probability for every sentence (one
vectorized call for the whole batch), the attributions (who said what), and the
claim ↔ denial pairs with their parties taken from the attributions. This is what
the article model scores and what a reviewer reads, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from models.evidence.attribution import Attribution, AttributionTagger, Span, Tokens
from models.evidence.hedge import HedgeModel
from models.evidence.pairs import CLAIM_SIDE, DENIAL_SIDE, ContestedPair, content_words
from models.evidence.parties import (
    agent_party,
    agent_span,
    is_named,
    party_kind,
    party_name,
    subject_party,
    subject_span,
)
from models.evidence.signals import ArticleSignals, extract_signals
from models.evidence.spans import Cue, sentence_span, sentence_starts

MAX_HEDGE_SENTENCES = 400  # sentences per article given a hedge probability
MAX_ATTRIBUTIONS = 200
MAX_PAIRS = 10
CONTESTED_KINDS = frozenset({"claim", "denial", "report"})


class Tagger(Protocol):
    def extract(self, text: str) -> list[Attribution]: ...


@dataclass(frozen=True, slots=True)
class Party:
    """The party an attribution names: trimmed name and kind (person, organisation…)."""

    name: str
    kind: str


@dataclass(slots=True)
class ArticleEvidence:
    """The evidence of one article; every offset indexes ``text``."""

    text: str
    signals: ArticleSignals
    starts: list[int]  # sentence start offsets (models.evidence.spans)
    hedge: np.ndarray  # P(hedged) per sentence, for the first MAX_HEDGE_SENTENCES
    hedge_threshold: float
    attributions: list[Attribution]
    parties: list[Party | None]  # per attribution: who its source names, pronouns resolved
    pairs: list[ContestedPair]
    tokens: Tokens | None = None  # the tagger's tokens (the wording block reads them)

    @property
    def n_sentences(self) -> int:
        return len(self.starts)

    def hedged(self) -> list[int]:
        """Indexes of the sentences whose hedge probability reaches the threshold."""
        return [int(i) for i in np.flatnonzero(self.hedge >= self.hedge_threshold)]

    def has_evidence(self) -> bool:
        """A cue, a hedged sentence or a contested-kind attribution: what a flag needs."""
        cues = any(not cue.negated for cue in self.signals.cues)
        contested = any(a.kind in CONTESTED_KINDS for a in self.attributions)
        return cues or contested or bool(self.hedged())

    def sentence_records(self) -> list[dict[str, Any]]:
        """Every sentence that carries a cue, an attribution or a hedge at the threshold."""
        carrying = {cue.sentence for cue in self.signals.cues}
        carrying.update(a.sentence for a in self.attributions)
        carrying.update(self.hedged())
        records = []
        for index in sorted(carrying):
            if index >= self.n_sentences:
                continue
            start, end = sentence_span(self.text, self.starts, index)
            hedge = float(self.hedge[index]) if index < len(self.hedge) else None
            records.append(
                {
                    "index": index,
                    "start": start,
                    "end": end,
                    "text": self.text[start:end],
                    "hedge": None if hedge is None else round(hedge, 4),
                }
            )
        return records

    def attribution_records(self) -> list[dict[str, Any]]:
        pairs = zip(self.attributions, self.parties, strict=True)
        return [attribution_record(a, p) for a, p in pairs]


def _span(span: Any) -> dict[str, Any] | None:
    if span is None:
        return None
    return {"text": span.text, "start": span.start, "end": span.end}


def attribution_record(attribution: Attribution, party: Party | None) -> dict[str, Any]:
    """The record form of DESIGN.md: kind, sentence, source / cue / content spans."""
    return {
        "kind": attribution.kind,
        "sentence": attribution.sentence,
        "source": _span(attribution.source),
        "cue": _span(attribution.cue),
        "content": _span(attribution.content),
        "party": None if party is None else {"name": party.name, "kind": party.kind},
    }


class EvidenceModels:
    """The hedge model and the attribution tagger, applied together to a batch."""

    def __init__(self, hedge: HedgeModel, tagger: AttributionTagger) -> None:
        self.hedge = hedge
        self.tagger = tagger

    @property
    def hedge_threshold(self) -> float:
        return float(self.hedge.threshold)

    def extract_batch(self, texts: Sequence[str]) -> list[ArticleEvidence]:
        """The evidence of each text; the hedge model runs once over the whole batch."""
        signals = [extract_signals(text) for text in texts]
        starts = [found.starts for found in signals]
        hedge = self.hedge.predict_proba_of(texts, starts, MAX_HEDGE_SENTENCES)
        # one Viterbi per 256 articles, on the cue scan's sentence split
        tokens: list[Tokens] = []
        tagged = self.tagger.extract_many(texts, sentence_starts_of=starts, tokens_out=tokens)
        evidence = []
        for i, text in enumerate(texts):
            attributions = refine_kinds(tagged[i][:MAX_ATTRIBUTIONS], signals[i].cues)
            parties = resolve_parties(text, starts[i], attributions)
            pairs = contested_pairs(text, signals[i], attributions, parties)
            evidence.append(
                ArticleEvidence(
                    text=text,
                    signals=signals[i],
                    starts=starts[i],
                    hedge=hedge[i],
                    hedge_threshold=self.hedge_threshold,
                    attributions=with_subject_sources(text, starts[i], attributions),
                    parties=parties,
                    pairs=pairs,
                    tokens=tokens[i] if len(tokens) == len(texts) else None,
                )
            )
        return evidence


def _sentence_bounds(text: str, starts: list[int], sentence: int) -> tuple[int, int]:
    """:func:`sentence_span`, or the whole text for an index past the last sentence."""
    return sentence_span(text, starts, sentence) if sentence < len(starts) else (0, len(text))


def with_subject_sources(
    text: str, starts: list[int], attributions: list[Attribution]
) -> list[Attribution]:
    """The attributions, each one the tagger left without a source given the subject of its
    cue verb as source, where that subject is a party (:func:`subject_span`): "Derek
    Mitchell, who served as U.S. ambassador to Burma …, said" → "Derek Mitchell". The
    parties (:func:`resolve_parties`) already read that subject, so the features and
    pairs are the same with or without this; the record shows whom they read."""
    out = []
    for attribution in attributions:
        cue = attribution.cue
        if attribution.source is None and cue is not None:
            start, end = _sentence_bounds(text, starts, attribution.sentence)
            found = agent_span(text, cue.start, cue.end, end) or subject_span(
                text, start, cue.start)
            if found is not None:
                source = Span(text[found[0] : found[1]], *found)
                attribution = replace(attribution, source=source)
        out.append(attribution)
    return out


def refine_kinds(attributions: list[Attribution], cues: list[Cue]) -> list[Attribution]:
    """A statement or report whose content carries a denial cue ("there was no
    confrontation," X told VOA) is a denial: what it signals, not the verb that
    carries it."""
    denials = [cue for cue in cues if cue.category in DENIAL_SIDE and not cue.negated]
    refined = []
    for attribution in attributions:
        content = attribution.content
        if attribution.kind in ("statement", "report") and content is not None and any(
            content.start <= cue.start < content.end for cue in denials
        ):
            attribution = replace(attribution, kind="denial")
        refined.append(attribution)
    return refined


def resolve_parties(
    text: str, starts: list[int], attributions: list[Attribution]
) -> list[Party | None]:
    """The party each attribution names: its source span's head phrase, else the
    subject of its cue verb; a pronoun takes the nearest preceding named party. A bare
    common noun ("coalition") takes the modifiers the tagger left out of its span ("The
    US-led coalition" -> "US-led coalition")."""
    parties: list[Party | None] = []
    last_named: Party | None = None
    for attribution in attributions:
        start, end = _sentence_bounds(text, starts, attribution.sentence)
        source = attribution.source
        name = party_name(source.text) if source is not None else None
        if source is not None and name is not None and name.islower():
            wider = subject_party(text, start, source.end)
            if wider is not None and wider.endswith(name) and len(wider) > len(name):
                name = wider
        if name is None and (cue := attribution.cue) is not None:
            name = agent_party(text, cue.start, cue.end, end) or subject_party(
                text, start, cue.start)
        kind = party_kind(name) if name is not None else None
        party = None
        if kind == "pronoun":
            party = last_named
        elif name is not None and kind is not None:
            party = Party(name, kind)
            last_named = party
        parties.append(party)
    return parties


def contested_pairs(
    text: str,
    signals: ArticleSignals,
    attributions: list[Attribution],
    parties: list[Party | None],
) -> list[ContestedPair]:
    """Claim ↔ denial pairs, their claimant and denier taken from the attributions.

    Each denial attribution (or denial cue sentence) is paired with the claim-side
    attribution (a claim, a report by a media outlet — "The Washington Post reported"
    but not "the coalition told VOA" —, or a claim cue sentence) most about the same
    matter: most shared content words, then an earlier claim, then the nearest. The
    two sides must be different parties. A party is only ever a named source
    (:func:`models.evidence.parties.is_named`); otherwise it is None.
    """
    starts = signals.starts or sentence_starts(text)

    def sentence_text(index: int) -> str:
        start, end = sentence_span(text, starts, index)
        return text[start:end]

    claim_side: dict[int, tuple[str | None, str]] = {}  # sentence -> (party, cue)
    denial_side: dict[int, tuple[str | None, str]] = {}
    for attribution, party in zip(attributions, parties, strict=True):
        name = party.name if party is not None and is_named(party.name) else None
        cue_text = attribution.cue.text if attribution.cue is not None else attribution.kind
        side = denial_side if attribution.kind == "denial" else claim_side
        passed_on = attribution.kind == "report" and party is not None and party.kind == "media"
        if attribution.kind in ("claim", "denial") or passed_on:
            current = side.get(attribution.sentence)
            if current is None or (current[0] is None and name is not None):
                side[attribution.sentence] = (name, cue_text)
    for cue in signals.cues:
        if cue.negated or cue.sentence >= len(starts):
            continue
        side = denial_side if cue.category in DENIAL_SIDE else claim_side
        if cue.category not in DENIAL_SIDE | CLAIM_SIDE:
            continue
        current = side.get(cue.sentence)
        if current is None or current[0] is None:
            subject = None
            if cue.category in ("claim", "denial", "dispute"):
                start, end = _sentence_bounds(text, starts, cue.sentence)
                subject = agent_party(text, cue.start, cue.end, end) or subject_party(
                    text, start, cue.start)
            name = subject if is_named(subject) else None
            if current is None or name is not None:
                side[cue.sentence] = (name, cue.text)
    words = {i: content_words(sentence_text(i)) for i in claim_side.keys() | denial_side.keys()}
    pairs: list[ContestedPair] = []
    for denial_index, (denier, denial_cue) in sorted(denial_side.items()):
        best: tuple[int, int, int, int, int] | None = None
        for claim_index, (claimant, _cue) in claim_side.items():
            if claimant is not None and claimant == denier:
                continue
            if claim_index == denial_index and (claimant is None or denier is None):
                continue  # one sentence is a pair only when it names both sides
            shared = len(words[claim_index] & words[denial_index])
            distance = abs(claim_index - denial_index)
            if shared == 0 and distance > 2:
                continue
            named = int(claimant is not None)
            key = (named, shared, int(claim_index <= denial_index), -distance, -claim_index)
            if best is None or key > best:
                best = key
        if best is None:
            continue
        claim_index = -best[4]
        claimant, claim_cue = claim_side[claim_index]
        pairs.append(
            ContestedPair(
                claim_sentence=claim_index,
                denial_sentence=denial_index,
                claimant=claimant,
                denier=denier,
                claim_cue=claim_cue,
                denial_cue=denial_cue,
                shared_words=tuple(sorted(words[claim_index] & words[denial_index]))[:10],
            )
        )
        if len(pairs) >= MAX_PAIRS:
            break
    return pairs

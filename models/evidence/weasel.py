"""Weasel-word groups: which kinds of hedging wording a sentence holds, one flag per kind.

The hedge model (:mod:`models.evidence.hedge`) learns a weight for every word n-gram of
its training sentences, so a hedge it saw rarely, or in a single article, counts for
little on a new article. Since 2.7.0 it also reads one 0/1 flag per *group* of such
wording: a rare member shares the weight of its group. The groups are the usual kinds
of weasel words and hedges (Wikipedia's guideline on words to watch, the hedging
literature's modals, approximators and attribution shields), written down before they
were measured and not pruned on the data since: an unnamed crowd as the subject ("some
critics", "many people"), a passive that hides who holds a view ("is widely believed",
"was reported"), hedging adverbs and approximators, modal verbs, verbs of opinion or
appearance, puffery ("one of the", "well known", "most"), and vague sources
("critics", "observers", "rumours").

Each group is a set of word unigrams and bigrams in the hedge model's tokens (lower-cased
``\\w+`` runs of :func:`models.evidence.hedge.prepare`-d text), the tokens its word
n-grams are made of; a flag is found by table look-ups, linear in the sentence.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from models.evidence.tfidf import token_lengths


def _words(text: str) -> list[str]:
    return text.split()


_BE = _words("is are was were be been being")
_SHIELD_ADVERBS = _words(
    "widely generally commonly often largely popularly frequently sometimes traditionally usually"
)
_VIEW_PARTICIPLES = _words(
    "believed thought considered said claimed reported suggested regarded seen known viewed"
    " described rumored rumoured alleged presumed assumed expected estimated speculated"
    " argued deemed held recognized recognised acknowledged perceived accepted cited noted"
)
_QUANTIFIERS = _words("some many several various numerous most certain few other")
_CROWDS = _words(
    "people critics scholars historians observers experts commentators analysts sources"
    " researchers scientists fans writers authors believers argue say claim believe"
    " consider feel think suggest have of"
)

WEASEL_GROUPS: dict[str, frozenset[str]] = {
    "unnamed_crowd": frozenset(f"{q} {c}" for q in _QUANTIFIERS for c in _CROWDS),
    "passive_view": frozenset(
        f"{b} {p}" for b in (*_BE, *_SHIELD_ADVERBS) for p in _VIEW_PARTICIPLES
    ),
    "hedging_adverb": frozenset(_words(
        "widely generally commonly often arguably probably possibly perhaps supposedly"
        " reportedly allegedly apparently presumably likely unlikely seemingly reputedly"
        " purportedly usually typically largely mostly frequently sometimes somewhat"
        " relatively fairly quite rather potentially roughly approximately about around"
        " nearly almost"
    )),
    "modal": frozenset(_words("may might could would should can")),
    "opinion_verb": frozenset(_words(
        "suggest suggests suggested appear appears appeared seem seems seemed believe"
        " believes believed claim claims claimed argue argues argued speculate speculated"
        " indicate indicates indicated consider considers considered think thinks thought"
    )),
    "puffery": frozenset(_words(
        "best greatest famous notable important significant popular renowned leading major"
        " prominent most"
    )) | {"well known", "one of"},
    "vague_source": frozenset(_words(
        "critics experts observers commentators scholars historians sources rumor rumors"
        " rumour rumours speculation others"
    )),
}
"""The groups the hedge model has flags for since 2.7.0 (name -> unigrams and bigrams)."""


class WeaselFlags:
    """One 0/1 flag per group of ``groups``: does the sentence hold one of its n-grams.

    Sentences are given as their tokens: ``token_pattern`` (the hedge model's) over the
    lower-cased :func:`~models.evidence.hedge.prepare`-d text, the very tokens the hedge
    model's word n-grams are made of. A sentence's flags are one integer, bit ``g`` for
    group ``g`` (:meth:`masks`); the groups (not this object) are what an artifact
    stores, and :meth:`stored` and ``WeaselFlags(**stored)`` round-trip them.
    """

    def __init__(self, groups: Mapping[str, Sequence[str] | frozenset[str]],
                 token_pattern: str) -> None:
        self.groups = {name: sorted(terms) for name, terms in groups.items()}
        self.names = list(self.groups)
        self.token_pattern = token_pattern
        self._findall = re.compile(token_pattern).findall
        words = sorted({w for terms in self.groups.values() for t in terms for w in t.split(" ")})
        self._token_id = {word: index for index, word in enumerate(words)}
        self._unknown = len(words)  # the id of every other token
        side = len(words) + 1
        # the groups of each word, and of each pair of words in a row (by id pair)
        self._unigram = np.zeros(side, dtype=np.int64)
        self._bigram = np.zeros(side * side, dtype=np.int64)
        for bit, terms in enumerate(self.groups.values()):
            for term in terms:
                ids = [self._token_id[w] for w in term.split(" ")]
                if len(ids) == 1:
                    self._unigram[ids[0]] |= 1 << bit
                elif len(ids) == 2:
                    self._bigram[ids[0] * side + ids[1]] |= 1 << bit
                else:
                    raise ValueError(f"weasel term {term!r}: one or two words only")

    def stored(self) -> dict[str, object]:
        """What an artifact keeps: the groups (as lists of strings) and the token pattern."""
        return {"groups": {name: list(terms) for name, terms in self.groups.items()},
                "token_pattern": self.token_pattern}

    def masks(self, found: list[list[str]]) -> NDArray[np.int64]:
        """The group bits of each sentence given as its tokens: a few NumPy calls for
        the whole batch, linear in its tokens."""
        lengths = token_lengths(found)
        total = int(lengths.sum())
        tid = np.fromiter(map(self._token_id.get, itertools.chain.from_iterable(found),
                              itertools.repeat(self._unknown)), dtype=np.int64, count=total)
        doc = np.repeat(np.arange(len(found), dtype=np.int64), lengths)
        bits = self._unigram[tid]
        if total > 1:
            pairs = self._bigram[tid[:-1] * (self._unknown + 1) + tid[1:]]
            bits[:-1] |= np.where(doc[:-1] == doc[1:], pairs, 0)  # never across sentences
        hit = np.flatnonzero(bits)
        out = np.zeros(len(found), dtype=np.int64)
        np.bitwise_or.at(out, doc[hit], bits[hit])
        return out

    def flags(self, found: list[list[str]]) -> NDArray[np.float64]:
        """:meth:`masks` as a dense ``(sentences, groups)`` array of 0.0 / 1.0."""
        bits = np.arange(len(self.names), dtype=np.int64)
        return ((self.masks(found)[:, None] >> bits) & 1).astype(np.float64)

    def transform(self, prepared: Sequence[str]) -> sparse.csr_matrix:
        """:meth:`flags` of :func:`~models.evidence.hedge.prepare`-d sentences, sparse:
        the columns the hedge classifier is fitted on after the word n-grams'."""
        found = [self._findall(text.lower()) for text in prepared]
        return sparse.csr_matrix(self.flags(found), dtype=np.float32)

    def weight_of_masks(self, coef: NDArray[np.float64]) -> NDArray[np.float64]:
        """For every possible mask, the sum of ``coef`` over its groups (index = mask)."""
        masks = np.arange(1 << len(self.names), dtype=np.int64)
        bits = ((masks[:, None] >> np.arange(len(self.names))) & 1).astype(np.float64)
        weights: NDArray[np.float64] = bits @ np.asarray(coef, dtype=np.float64)
        return weights


def with_flags(words: sparse.spmatrix, flags: WeaselFlags | None,
               prepared: Sequence[str]) -> sparse.csr_matrix:
    """The hedge classifier's input: the word n-grams' columns ``words`` of the
    :func:`~models.evidence.hedge.prepare`-d sentences, then their flags (if any)."""
    if flags is None:
        return sparse.csr_matrix(words)
    return sparse.hstack([words, flags.transform(prepared)], format="csr")


def group_weights(flags: WeaselFlags, coef: NDArray[np.floating]) -> dict[str, float]:
    """Each group's weight, from the tail of the hedge classifier's coefficients."""
    tail = np.asarray(coef, dtype=np.float64).ravel()[-len(flags.names):]
    return {name: float(weight) for name, weight in zip(flags.names, tail, strict=True)}

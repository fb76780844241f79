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
``\\w+`` runs of :func:`models.evidence.hedge.prepare`-d text), so a flag is found by the
same n-gram matching as the model's other features, linear in the sentence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from models.evidence.tfidf import NgramTfidf, token_lengths


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
    """One 0/1 column per group of ``groups``: does the sentence hold one of its n-grams.

    ``token_pattern`` must be the hedge model's, so a flag is read from the same tokens.
    The groups (not this object) are what an artifact stores; :meth:`stored` and
    ``WeaselFlags(**stored)`` round-trip them.
    """

    def __init__(self, groups: Mapping[str, Sequence[str] | frozenset[str]],
                 token_pattern: str) -> None:
        self.groups = {name: sorted(terms) for name, terms in groups.items()}
        self.names = list(self.groups)
        self.token_pattern = token_pattern
        terms = sorted({term for members in self.groups.values() for term in members})
        longest = max(len(term.split(" ")) for term in terms)
        if longest > 3:
            raise ValueError("a weasel group's n-grams have at most three words")
        # fitted on its own terms: only which columns are non-zero is ever read
        self.vectorizer = TfidfVectorizer(vocabulary=terms, ngram_range=(1, longest),
                                          token_pattern=token_pattern, lowercase=True,
                                          dtype=np.float32).fit(terms)
        column = {term: index for index, term in enumerate(terms)}
        rows = [column[term] for members in self.groups.values() for term in members]
        cols = [g for g, members in enumerate(self.groups.values()) for _ in members]
        self.membership = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float64), (rows, cols)),
            shape=(len(terms), len(self.names)),
        )
        self._ngrams = NgramTfidf(self.vectorizer)

    def stored(self) -> dict[str, object]:
        """What an artifact keeps: the groups (as lists of strings) and the token pattern."""
        return {"groups": {name: list(terms) for name, terms in self.groups.items()},
                "token_pattern": self.token_pattern}

    def transform(self, prepared: Sequence[str]) -> sparse.csr_matrix:
        """The flags of :func:`~models.evidence.hedge.prepare`-d sentences, shape
        ``(n, groups)``, through the vectorizer's own analysis."""
        if not prepared:
            return sparse.csr_matrix((0, len(self.names)), dtype=np.float32)
        present = self.vectorizer.transform(list(prepared))
        present.data[:] = 1.0
        return self._flags(present @ self.membership)

    def of_tokens(self, found: list[list[str]]) -> sparse.csr_matrix:
        """:meth:`transform` of sentences given as their lower-cased tokens (the hedge
        model's fast path has them already)."""
        lengths = token_lengths(found)
        tid = self._ngrams.ids((token for tokens in found for token in tokens),
                               int(lengths.sum()))
        rows, cols, _values = self._ngrams.entries(tid, lengths)
        present = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float64), (rows, cols)),
            shape=(len(found), self.membership.shape[0]),
        )
        return self._flags(present @ self.membership)

    @staticmethod
    def _flags(counts: sparse.csr_matrix) -> sparse.csr_matrix:
        flags = sparse.csr_matrix(counts, dtype=np.float32)
        flags.data[:] = 1.0
        flags.eliminate_zeros()
        return flags


def group_weights(flags: WeaselFlags, coef: NDArray[np.floating]) -> dict[str, float]:
    """Each group's weight, from the tail of the hedge classifier's coefficients."""
    tail = np.asarray(coef, dtype=np.float64).ravel()[-len(flags.names):]
    return {name: float(weight) for name, weight in zip(flags.names, tail, strict=True)}

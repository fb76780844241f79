"""Wording features: how an article says things, with what it is about masked out.

An article that reports a rumour words it differently from one that states a fact
("it is not clear whether", "were confirmed", "reports that"), and those phrases are
made of function words and reporting words. :func:`masked` keeps exactly those —
scikit-learn's English stop words and the words PolNeAR's annotators marked as
attribution cues (the tagger's cue lexicon) — and replaces every other word by its
shape (``_Cap``, ``_w``, ``_num``), so no topic word (Apple, ISIS, iPhone…) can reach
the article model: the bag of word n-grams of the masked text is length-normalised
TF-IDF and sees phrasing, never subject.

Whether the model uses it is chosen by ``claimwatch train``'s grouped CV (the grid
has the block on and off; the card lists both): on the training corpus it lifted
FNC-1 contested ROC-AUC from 0.67 to 0.71 at the same flag rate on held-out
ordinary-news domains.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from models.evidence.attribution import TOKEN, Tokens
from models.evidence.tfidf import NgramTfidf, token_lengths

# A word of letters in any script (with one optional apostrophe part: "didn't"), a
# number, or one other visible character. Possessive runs: linear time on any input.
_TOKEN = re.compile(r"[^\W\d_]++(?:['\u2019][^\W\d_]++)?|\d++|[^\w\s]")
# How much of an article the wording block reads by default; the article model v2.2
# reads the head only (EvidenceFeatures.wording_chars): long political stories quote
# people all the way down, rumour reports word their doubt early (README: "What changed in 2.2.0").
MAX_WORDING_CHARS = 20_000
MAX_CACHED_TOKENS = 500_000  # raw tokens remembered by a MaskedWording (starts again past this)


def keep_words(cue_lexicon: Iterable[str]) -> tuple[str, ...]:
    """The words :func:`masked` keeps: English stop words and the attribution cue words."""
    return tuple(sorted(set(ENGLISH_STOP_WORDS) | {w.lower() for w in cue_lexicon}))


@lru_cache(maxsize=65_536)
def _shape(token: str) -> str:
    if token[0].isdigit():
        return "_num"
    if token[0].isupper():
        return "_Cap"
    if token[0].isalpha():
        return "_w"
    return "_p"


def _masked_token(token: str, keep: frozenset[str]) -> str:
    low = token.lower()
    return low if low in keep else _shape(token)


WORD_TOKENS = "words"
"""Tokens of :data:`_TOKEN` (letters, digit runs, single marks): models before 2.4.0."""
TAGGER_TOKENS = "tagger"
"""The attribution tagger's tokens (:data:`models.evidence.attribution.TOKEN`: a
hyphenated word is one token, a clitic another): from 2.4.0, so an article is
tokenized once for both (:class:`~models.evidence.attribution.Tokens`)."""


def head_tokens(text: str, limit: int, kind: str = WORD_TOKENS) -> list[str]:
    """The tokens of ``kind`` in the first ``limit`` characters of ``text``."""
    if kind == TAGGER_TOKENS:
        return TOKEN.findall(text, 0, limit)
    if kind != WORD_TOKENS:
        raise ValueError(f"unknown wording tokens {kind!r}")
    return _TOKEN.findall(text, 0, limit)


def masked(
    text: str, keep: frozenset[str], limit: int = MAX_WORDING_CHARS, tokens: str = WORD_TOKENS
) -> str:
    """The first ``limit`` characters of ``text`` as space-separated tokens (of the kind
    ``tokens``): kept words lower-cased, the rest by shape."""
    return " ".join([_masked_token(t, keep) for t in head_tokens(text, limit, tokens)])


class MaskedWording:
    """``vectorizer.transform([masked(t, keep, limit) for t in texts]).toarray()``, fast.

    The vectorizer (fitted on masked texts, whitespace tokens) only ever sees masked
    tokens, and a raw token always masks the same way, so each raw token is mapped once
    to the id of its masked form (cached) and the n-grams are counted on ids by
    :class:`~models.evidence.tfidf.NgramTfidf`: no masked string is built, split or
    joined into n-grams. :meth:`supports` says whether the vectorizer is one this mirrors.
    """

    def __init__(
        self, keep: frozenset[str], vectorizer: TfidfVectorizer, limit: int = MAX_WORDING_CHARS,
        tokens: str = WORD_TOKENS,
    ) -> None:
        head_tokens("", 0, tokens)  # a known kind
        self.keep = keep
        self.vectorizer = vectorizer
        self.limit = limit
        self.tokens = tokens
        self.ngrams = NgramTfidf(vectorizer)
        self._term_id: dict[str, int] = {}  # raw token -> id of its masked form, or -1

    @staticmethod
    def supports(vectorizer: TfidfVectorizer) -> bool:
        """True for a word vectorizer of whitespace tokens taken as they are."""
        return bool(
            type(vectorizer) is TfidfVectorizer
            and vectorizer.analyzer == "word"
            and vectorizer.token_pattern == r"\S+"  # noqa: S105 (a regex, not a password)
            and not vectorizer.lowercase
            and vectorizer.preprocessor is None
            and vectorizer.tokenizer is None
            and vectorizer.stop_words is None
            and vectorizer.strip_accents is None
            and NgramTfidf.supports(vectorizer)
        )

    def _learn(self, tokens: list[str]) -> None:
        """Remember the masked-form id of every token not seen before (bounded)."""
        distinct = dict.fromkeys(tokens)
        if len(self._term_id) + len(distinct) > MAX_CACHED_TOKENS:
            self._term_id.clear()
        cache, ids = self._term_id, self.ngrams.token_id
        for token in distinct:
            if token not in cache:
                cache[token] = ids.get(_masked_token(token, self.keep), -1)

    def rows(
        self, texts: Sequence[str], read: Sequence[Tokens | None] | None = None
    ) -> NDArray[np.float64]:
        """The wording block of ``texts``: (texts, vocabulary) tf-idf, dense. ``read``: each
        text's tagger tokens, if the tagger has read it (used for tagger-token wording)."""
        if self.tokens == TAGGER_TOKENS and read is not None:
            found = [
                TOKEN.findall(text, 0, self.limit) if tokens is None
                else tokens.head(text, self.limit)
                for text, tokens in zip(texts, read, strict=True)
            ]
        else:
            found = [head_tokens(text, self.limit, self.tokens) for text in texts]
        lengths = token_lengths(found)
        tokens = list(itertools.chain.from_iterable(found))
        self._learn(tokens)
        tid = np.fromiter(map(self._term_id.__getitem__, tokens), dtype=np.int64,
                          count=len(tokens))
        return self.ngrams.dense(tid, lengths)


def readable(term: str) -> str | None:
    """A wording n-gram as a reviewer reads it, or None when it is mostly placeholders."""
    words = term.split()
    if any(word.startswith("_") for word in words) or all(len(w) < 2 for w in words):
        return None
    return " ".join(words)

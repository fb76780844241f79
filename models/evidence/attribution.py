"""Attributions in news text: who (source) said (cue) what (content), with exact offsets.

A linear-chain CRF over BIO tags (``SRC``, ``CUE``, ``CON``), trained by
:mod:`models.training.attribution` on PolNeAR with crfsuite, whose weights are
exported into numpy arrays and decoded here with a small batched Viterbi: the
stored tagger holds only numpy arrays, lists and strings (skops-safe), and
reproduces crfsuite's own predictions exactly (checked at training time).

Every token feature is (a) a feature of one word *type* at a fixed offset (-2..+2),
whose score vectors are computed once per type and cached, or (b) one of a few
context families (inside a quotation, position in the sentence, distance to a
cue word) computed with numpy. Sentences are the project's own split
(:mod:`models.evidence.spans`), so ``Attribution.sentence`` means what a cue's
sentence means. Linear in the input: possessive regexes, at most
``MAX_TOKENS_PER_CHUNK`` tokens per decoded chunk and ``MAX_SENTENCES`` sentences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, compress, repeat
from typing import Any, NamedTuple, cast

import numpy as np

from models.evidence.lexicon import word_set
from models.evidence.spans import sentence_starts

# A word (letters/digits joined by inner apostrophes or hyphens, an English clitic such
# as "'s" split off as its own token), a clitic, or any other single non-space character.
# A hyphenated word is one token, so no span can end inside it ("The US-" / "led
# coalition denied" was one such split). Every quantifier is possessive and the
# alternatives are disjoint at their first character, so the scan is one linear pass.
TOKEN = re.compile(
    r"[^\W_]++(?:(?:['\u2019](?!(?:s|re|ve|ll|d|m|S|RE|VE|LL|D|M)\b)|[-\u2010\u2011])[^\W_]++)*+"
    r"|['\u2019](?:s|re|ve|ll|d|m|S|RE|VE|LL|D|M)\b"
    r"|\S"
)


TOKEN_LOOKAHEAD = 4
"""Characters past a token's end that :data:`TOKEN` may look at (a clitic and ``\\b``)."""


_PARAGRAPH = re.compile(r"\n[^\S\n]*+\n")


OPEN_QUOTES = frozenset("\u201c\u00ab")


CLOSE_QUOTES = frozenset("\u201d\u00bb")


STRAIGHT_QUOTES = frozenset('"')


MAX_TOKENS_PER_CHUNK = 200


MAX_SENTENCES = 2000


EMISSION_BLOCK_TOKENS = 4096  # chunk tokens scored per numpy pass (see _block_emissions)


MAX_TYPES = 500_000  # cached word types per tagger (the cache starts again past this)


_SPACE_CODES = np.array([chr(c).isspace() for c in range(0x3002)], dtype=bool)
"""What ``\\s`` matches, by code point: every whitespace character is below U+3001, so
any higher code point is looked up as U+3001 (not a space)."""


def _visible_offsets(text: str) -> np.ndarray:
    """Offsets of the characters of ``text`` that are not whitespace, in order."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    space = _SPACE_CODES[np.minimum(codes, len(_SPACE_CODES) - 1)]
    return np.flatnonzero(~space)


def tokenize(text: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Tokens of ``text`` as (strings, starts, ends); ``text[starts[i]:ends[i]] == strings[i]``.

    :data:`TOKEN` matches at every non-space character (its last branch is ``\\S``) and
    never takes a space, so the tokens tile the visible characters in order: token ``i``
    is visible characters ``[sum(len) before i, + len(i))``. The offsets therefore come
    from the token lengths and one vectorised whitespace test, not from match objects.
    """
    strings = TOKEN.findall(text)
    n = len(strings)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return [], empty, empty
    tok_len = np.fromiter(map(len, strings), dtype=np.int64, count=n)
    last = np.cumsum(tok_len)
    visible = _visible_offsets(text)
    return strings, visible[last - tok_len], visible[last - 1] + 1


class Tokens(NamedTuple):
    """The :data:`TOKEN` tokens of a text, as :meth:`AttributionTagger.extract_many` read
    them: their strings, their end offsets, and how much of the text was read (the
    tagger caps a text at MAX_SENTENCES sentences)."""

    strings: list[str]
    ends: np.ndarray
    read: int

    def head(self, text: str, limit: int) -> list[str]:
        """``TOKEN.findall(text, 0, limit)``, mostly from these tokens: a token that ends
        :data:`TOKEN_LOOKAHEAD` characters or more before ``limit`` is matched the same
        in the cut text; the last few are matched again."""
        if self.read < min(limit, len(text)):
            return TOKEN.findall(text, 0, limit)
        kept = int(np.searchsorted(self.ends, limit - TOKEN_LOOKAHEAD, side="right"))
        resume = int(self.ends[kept - 1]) if kept else 0
        return [*self.strings[:kept], *TOKEN.findall(text, resume, limit)]


class Span(NamedTuple):
    """A contiguous piece of the article: ``text == article[start:end]`` (immutable)."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Attribution:
    """One extracted attribution; ``sentence`` indexes the project's sentence split."""

    kind: str
    sentence: int
    source: Span | None
    cue: Span | None
    content: Span | None


LABELS: tuple[str, ...] = ("O", "B-SRC", "I-SRC", "B-CUE", "I-CUE", "B-CON", "I-CON")


ROLES: tuple[str, ...] = ("SRC", "CUE", "CON")


_ROLE_FIELD = {"SRC": "source", "CUE": "cue", "CON": "content"}


_PRIORITY = ("CON", "SRC", "CUE")  # later wins: a nested cue/source overrides outer content


OFFSETS: tuple[int, ...] = (-2, -1, 0, 1, 2)


BOS, EOS = "<S>", "</S>"


def _shape(token: str) -> str:
    """Compressed character shape: ``Obama`` -> ``Xx``, ``U.S`` -> ``X.X``, ``2016`` -> ``d``."""
    out: list[str] = []
    for ch in token[:12]:
        c = "X" if ch.isupper() else "x" if ch.isalpha() else "d" if ch.isdigit() else ch
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def type_attributes(
    token: str, lexicon: frozenset[str], rates: dict[str, int] | None = None
) -> list[list[str]]:
    """Feature strings contributed by a token of this type, one list per offset in OFFSETS.

    Entry ``k`` holds the attributes that a token sees when a token of this type sits at
    relative offset ``OFFSETS[k]`` from it; entry 2 (offset 0) is the token's own features.
    """
    if token in (BOS, EOS):
        return [[f"{o}w={token}"] if o else [] for o in OFFSETS]
    low = token.lower()
    shape = _shape(token)
    own = ["b", f"w={low}", f"s3={low[-3:]}", f"s2={low[-2:]}", f"sh={shape}"]
    if token[:1].isupper():
        own.append("t")
    if len(token) > 1 and token.isupper():
        own.append("U")
    in_lex = low in lexicon
    if in_lex:
        own.append("L")
    rate = rates.get(low) if rates else None
    if rate is not None:
        own.append(f"r={rate}")
    out: list[list[str]] = []
    for o in OFFSETS:
        if o == 0:
            out.append(own)
            continue
        feats = [f"{o}w={low}", f"{o}sh={shape}"]
        if in_lex:
            feats.append(f"{o}L")
        if rate is not None and abs(o) == 1:
            feats.append(f"{o}r={rate}")
        out.append(feats)
    return out


_POS_BUCKETS = np.array([0, 1, 2, 3, 4, 4, 5, 5, 5, 5] + [6] * 10 + [7], dtype=np.int64)


_DIST_BUCKETS = np.array([0, 0, 1, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5], dtype=np.int64)


CONTEXT_FAMILIES: tuple[tuple[str, int], ...] = (
    ("inq", 2),  # inside a quotation (before this token)
    ("pos", 8),  # position from chunk start, bucketed
    ("rpos", 8),  # position from chunk end, bucketed
    ("lc", 7),  # distance to the nearest lexicon word on the left (6 = none)
    ("rc", 7),  # same, on the right
    ("sq", 2),  # the chunk holds a quote mark
)


def _bucket(values: np.ndarray, table: np.ndarray) -> np.ndarray:
    return table[np.minimum(values, len(table) - 1)]


@dataclass(slots=True)
class Chunks:
    """Tokens of the tagged sentences of one article, concatenated chunk after chunk."""

    tok: np.ndarray  # article token index of each chunk token
    chunk_start: np.ndarray  # start position (into ``tok``) of each chunk
    chunk_len: np.ndarray
    chunk_sentence: np.ndarray  # sentence index of each chunk


def make_chunks(sent_of_tok: np.ndarray, keep_sentence: np.ndarray) -> Chunks:
    """Split the kept sentences into chunks of at most MAX_TOKENS_PER_CHUNK tokens."""
    tok = np.flatnonzero(keep_sentence[sent_of_tok])
    if len(tok) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Chunks(tok, empty, empty, empty)
    sent = sent_of_tok[tok]
    new_sent = np.empty(len(tok), dtype=bool)
    new_sent[0] = True
    new_sent[1:] = sent[1:] != sent[:-1]
    sent_first = np.flatnonzero(new_sent)
    rank = np.arange(len(tok)) - np.repeat(sent_first, np.diff(np.append(sent_first, len(tok))))
    boundary = new_sent | (rank % MAX_TOKENS_PER_CHUNK == 0)
    chunk_start = np.flatnonzero(boundary)
    chunk_len = np.diff(np.append(chunk_start, len(tok)))
    return Chunks(tok, chunk_start, chunk_len, sent[chunk_start])


def context_values(
    chunks: Chunks, is_lex: np.ndarray, inq: np.ndarray, is_quote: np.ndarray
) -> np.ndarray:
    """(n_chunk_tokens, n_families) value indices of the context families."""
    n = len(chunks.tok)
    out = np.zeros((n, len(CONTEXT_FAMILIES)), dtype=np.int64)
    if n == 0:
        return out
    first = np.repeat(chunks.chunk_start, chunks.chunk_len)
    last = first + np.repeat(chunks.chunk_len, chunks.chunk_len) - 1
    idx = np.arange(n)
    out[:, 0] = inq[chunks.tok]
    out[:, 1] = _bucket(idx - first, _POS_BUCKETS)
    out[:, 2] = _bucket(last - idx, _POS_BUCKETS)
    lex = is_lex[chunks.tok]
    left = np.maximum.accumulate(np.where(lex, idx, -1))
    prev = np.concatenate(([-1], left[:-1]))
    out[:, 3] = np.where(prev >= first, _bucket(idx - prev - 1, _DIST_BUCKETS), 6)
    right = np.minimum.accumulate(np.where(lex, idx, n)[::-1])[::-1]
    nxt = np.concatenate((right[1:], [n]))
    out[:, 4] = np.where(nxt <= last, _bucket(nxt - idx - 1, _DIST_BUCKETS), 6)
    quotes = is_quote[chunks.tok].astype(np.int64)
    out[:, 5] = np.repeat(np.add.reduceat(quotes, chunks.chunk_start) > 0, chunks.chunk_len)
    return out


def quote_state(
    text: str, starts: np.ndarray, straight: np.ndarray, opening: np.ndarray, closing: np.ndarray
) -> np.ndarray:
    """1 where a token lies inside a quotation (state *before* the token), else 0.

    ``straight``/``opening``/``closing`` flag the quote tokens. Straight quotes toggle; curly
    quotes open/close; the state resets at each blank line (paragraph).
    """
    offsets = np.asarray([0, len(text)], dtype=np.int64)
    return quote_state_many([text], starts, offsets, straight, opening, closing)


_DENIAL = ("deni", "deny", "reject", "refut", "dismiss", "rebut", "disput", "contradict")


_CLAIM = ("claim", "alleg", "insist", "assert", "contend", "argu")


_REPORT = ("report", "accord", "wrote", "write", "writing", "cited", "citing", "publish")


_NEWS = word_set(
    "news cnn voa reuters ap afp bbc npr msnbc cnbc nbc abc cbs fox politico times post "
    "journal press magazine newspaper network television radio tv station reporters reporter "
    "breitbart axios bloomberg guardian telegraph herald tribune daily"
)


_STARTS_WITH_NO = re.compile(r"[\"\u201c]?\s*+no\b", re.IGNORECASE)


_KIND_CACHE: dict[str, str] = {}


def _base_kind(cue_text: str) -> str:
    """Kind from the cue's own words alone (``tell`` marks a cue that may be a ``report``)."""
    kind = _KIND_CACHE.get(cue_text)
    if kind is not None:
        return kind
    words = [w.lower() for w in TOKEN.findall(cue_text)]
    if any(w.startswith(_DENIAL) for w in words):
        kind = "denial"
    elif any(w.startswith(_CLAIM) for w in words):
        kind = "claim"
    elif any(w.startswith(_REPORT) for w in words):
        kind = "report"
    elif any(w in ("told", "tell", "tells", "telling") for w in words):
        kind = "tell"
    else:
        kind = "statement"
    if len(_KIND_CACHE) > 100_000:  # bounded
        _KIND_CACHE.clear()
    _KIND_CACHE[cue_text] = kind
    return kind


def cue_kind(text: str, cue: Span, content: Span | None) -> str:
    """``claim`` / ``denial`` / ``report`` / ``statement`` from the cue's words (a prefix rule).

    Denial prefixes (deny, reject, refut, dismiss, rebut, disput, contradict) win over claim
    prefixes (claim, alleg, insist, assert, contend, argu), then report prefixes (report,
    according, wrote/write, cited/citing, publish). "told <news outlet>" (a news word within
    four tokens after the cue) is a ``report``; a statement whose content starts with "no" is
    a ``denial``; everything else is a ``statement``.
    """
    kind = _base_kind(cue.text)
    if kind in ("denial", "claim", "report"):
        return kind
    if kind == "tell":
        after = TOKEN.findall(text[cue.end : cue.end + 60])[:4]
        if any(w.lower() in _NEWS for w in after):
            return "report"
    if content is not None and _STARTS_WITH_NO.match(content.text):
        return "denial"
    return "statement"


def label_runs(labels: np.ndarray, chunk_start: np.ndarray) -> np.ndarray:
    """(n_runs, 3) array of (role 0..2, first, last) chunk-token positions of the non-O runs.

    A run ends where the role changes, at a B- label, or at a chunk start (an I- label after
    O or another role opens a run, i.e. lenient BIO repair).
    """
    n = len(labels)
    if n == 0:
        return np.zeros((0, 3), dtype=np.int64)
    role = (labels + 1) // 2 - 1  # -1 for O
    brk = np.empty(n, dtype=bool)
    brk[0] = True
    brk[1:] = (role[1:] != role[:-1]) | ((labels[1:] % 2 == 1) & (labels[1:] > 0))
    brk[chunk_start] = True
    first = np.flatnonzero(brk)
    last = np.append(first[1:], n) - 1
    keep = role[first] >= 0
    return np.stack((role[first][keep], first[keep], last[keep]), axis=1)


def _capped(text: str, sstarts: list[int]) -> tuple[str, list[int]]:
    """``text`` and its sentence starts without the sentences past MAX_SENTENCES."""
    if len(sstarts) > MAX_SENTENCES:
        return text[: sstarts[MAX_SENTENCES]], sstarts[:MAX_SENTENCES]
    return text, sstarts


def attribute_families(names: list[str]) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """The row of each attribute name by family: ``"-1w=said"`` is value ``"said"`` of family
    ``"-1w"``; a name without ``=`` (``"b"``, ``"-1L"``) is a flag, returned apart."""
    families: dict[str, dict[str, int]] = {}
    flags: dict[str, int] = {}
    for row, name in enumerate(names):
        family, equals, value = name.partition("=")
        if equals:
            families.setdefault(family, {})[value] = row
        else:
            flags[name] = row
    return families, flags


class AttributionTagger:
    """A CRF attribution tagger stored as numpy arrays, dicts, lists and builtins.

    ``attr_names``/``attr_weights``: the crfsuite state features (newline-joined attribute
    strings, one per row of the (n_attr, n_labels) float32 weights); ``context_weights``: one
    (n_values, n_labels) table per context family; ``transitions``: (n_labels, n_labels)
    crfsuite transition weights (from, to); ``lexicon``/``candidates``: lower-case cue words
    for features / sentence filtering; ``rate_words``/``rate_buckets``: cue-rate buckets
    (set by :func:`set_rates`). Runtime caches (type -> score row) are rebuilt lazily and
    never persisted.
    """

    def __init__(
        self,
        attr_names: str,
        attr_weights: np.ndarray,
        context_weights: list[np.ndarray],
        transitions: np.ndarray,
        lexicon: list[str],
        candidates: list[str],
        filter_sentences: bool = True,
        decoder: str = "viterbi",
    ) -> None:
        self.attr_names = attr_names
        self.attr_weights = attr_weights
        self.context_weights = context_weights
        self.transitions = transitions
        self.lexicon = lexicon
        self.candidates = candidates
        self.filter_sentences = filter_sentences
        self.decoder = decoder
        self.rate_words = np.array([], dtype=str)
        self.rate_buckets = np.array([], dtype=np.int64)
        self._init_runtime()

    # -- persistence: drop runtime caches ------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """Persisted state: only the fitted arrays and settings (no caches)."""
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`__getstate__` and rebuild the runtime caches."""
        state.setdefault("rate_words", np.array([], dtype=str))  # exports made before rates
        state.setdefault("rate_buckets", np.array([], dtype=np.int64))
        self.__dict__.update(state)
        self._init_runtime()

    def _init_runtime(self) -> None:
        self._lex = frozenset(self.lexicon)
        self._rates = dict(zip(self.rate_words.tolist(), self.rate_buckets.tolist(), strict=True))
        self._cand = frozenset(self.candidates)
        if not isinstance(self.attr_names, str):  # older exports held an array of names
            self.attr_names = "\n".join(str(a) for a in self.attr_names)
        names = self.attr_names.split("\n") if self.attr_names else []
        self._attr_index = {a: i for i, a in enumerate(names)}
        self._families, self._flag_attrs = attribute_families(names)
        self._weights = np.asarray(self.attr_weights, dtype=np.float64)
        n_labels = self.transitions.shape[0]
        self._n_labels = n_labels
        self._absent = len(names)  # the row of an attribute a type lacks: a zero row
        self._padded_weights = np.vstack(
            (self._weights.reshape(len(names), n_labels), np.zeros((1, n_labels)))
        )
        self._ctx = [np.asarray(w, dtype=np.float64) for w in self.context_weights]
        self._ctx_offsets = np.cumsum([0] + [len(w) for w in self._ctx])[:-1]
        self._ctx_flat = np.concatenate(self._ctx, axis=0)
        self._trans = np.asarray(self.transitions, dtype=np.float64)
        self._type_id: dict[str, int] = {}
        # one (n_types, n_labels) score table per offset in OFFSETS
        self._table = np.zeros((len(OFFSETS), 1024, n_labels), dtype=np.float64)
        # per type: lexicon word, candidate cue word, straight / opening / closing quote
        self._flags = np.zeros((1024, 5), dtype=bool)
        self._n_types = 0
        for special in (BOS, EOS):
            self._type(special)

    def _type(self, token: str) -> int:
        """Row of ``token`` in the type table (computed on first sight; cache bounded)."""
        if token not in self._type_id:
            self._add_types([token])
        return self._type_id[token]

    def _add_types(self, tokens: list[str]) -> None:
        """Score rows and flags for the distinct new ``tokens``, a few numpy calls per family.

        The cache is bounded: when it would pass MAX_TYPES it starts again, so callers look
        ids up after this returns and score them before the next call (one article holds far
        fewer than MAX_TYPES distinct tokens: texts are bounded upstream).
        """
        if self._n_types + len(tokens) > MAX_TYPES:  # bound memory on adversarial input
            self._init_runtime()
        first = self._n_types
        need = first + len(tokens)
        while need > self._table.shape[1]:
            self._table = np.concatenate((self._table, np.zeros_like(self._table)), axis=1)
            self._flags = np.concatenate((self._flags, np.zeros_like(self._flags)))
        if any(token in (BOS, EOS) for token in tokens):
            slots = self._named_attribute_rows(tokens)
        else:
            slots = self._word_attribute_rows(tokens)
        for k, rows in enumerate(slots):
            self._table[k, first:need] = self._summed_weights(rows)
        lows = [token.lower() for token in tokens]
        quote_marks = ':"\u201c\u201d\u00ab\u00bb'
        self._flags[first:need] = [
            (
                low in self._lex,
                low in self._cand or token in quote_marks,
                token in STRAIGHT_QUOTES,
                token in OPEN_QUOTES,
                token in CLOSE_QUOTES,
            )
            for token, low in zip(tokens, lows, strict=True)
        ]
        self._type_id.update(zip(tokens, range(first, need), strict=True))
        self._n_types = need

    def _summed_weights(self, rows: np.ndarray) -> np.ndarray:
        """Per token, the sum of the weight rows ``rows[i]`` (``self._absent``: none), added in
        ascending row order from zero: the very additions of crfsuite's score as a sparse
        product of the attribute indicators with the weights makes them, so the sums are
        the same numbers."""
        rows = np.sort(rows, axis=1)
        out = np.zeros((len(rows), self._padded_weights.shape[1]))
        for slot in range(rows.shape[1]):
            out += self._padded_weights[rows[:, slot]]
        return out

    def _named_attribute_rows(self, tokens: list[str]) -> list[np.ndarray]:
        """Per offset in OFFSETS, the rows of each token's :func:`type_attributes`, padded with
        ``self._absent`` to one width: the reference :meth:`_word_attribute_rows` agrees with,
        and the only way to score the sentence marks BOS and EOS."""
        index, absent = self._attr_index, self._absent
        out = []
        for k in range(len(OFFSETS)):
            found = [
                [index[a] for a in type_attributes(token, self._lex, self._rates)[k] if a in index]
                for token in tokens
            ]
            width = max(map(len, found), default=0)
            out.append(np.array([f + [absent] * (width - len(f)) for f in found], dtype=np.int64)
                       .reshape(len(tokens), width))
        return out

    def _word_attribute_rows(self, tokens: list[str]) -> list[np.ndarray]:
        """:meth:`_named_attribute_rows` for word tokens (not BOS / EOS), found family by family
        with one ``map`` over the tokens each instead of building every attribute's string:
        the same rows as :func:`type_attributes` names (a unit test compares them)."""
        n = len(tokens)
        absent = self._absent
        lows = [token.lower() for token in tokens]
        shapes = [_shape(token) for token in tokens]
        rate_values: list[str | None] = [None] * n
        if self._rates:
            found = map(self._rates.get, lows)
            rate_values = [None if rate is None else str(rate) for rate in found]
        in_lex = np.fromiter(map(self._lex.__contains__, lows), dtype=bool, count=n)

        def family(name: str, values: Sequence[str | None]) -> np.ndarray:
            rows = self._families.get(name)
            if rows is None:
                return np.full(n, absent, dtype=np.int64)
            row_of = cast(Callable[[str | None, int], int], rows.get)  # None: absent
            return np.fromiter(map(row_of, values, repeat(absent)), dtype=np.int64, count=n)

        def flag(name: str, present: np.ndarray | bool) -> np.ndarray:
            row = self._flag_attrs.get(name, absent)
            return np.where(np.broadcast_to(present, n), row, absent).astype(np.int64)

        title = np.fromiter((t[:1].isupper() for t in tokens), dtype=bool, count=n)
        upper = np.fromiter((len(t) > 1 and t.isupper() for t in tokens), dtype=bool, count=n)
        own = [
            flag("b", True),
            family("w", lows),
            family("s3", [low[-3:] for low in lows]),
            family("s2", [low[-2:] for low in lows]),
            family("sh", shapes),
            flag("t", title),
            flag("U", upper),
            flag("L", in_lex),
            family("r", rate_values),
        ]
        out = []
        for o in OFFSETS:
            if o == 0:
                out.append(np.stack(own, axis=1))
                continue
            slots = [family(f"{o}w", lows), family(f"{o}sh", shapes), flag(f"{o}L", in_lex)]
            if abs(o) == 1:
                slots.append(family(f"{o}r", rate_values))
            out.append(np.stack(slots, axis=1))
        return out

    # -- scoring ---------------------------------------------------------------------------
    def prepare(self, text: str, sstarts: list[int] | None = None) -> dict[str, Any]:
        """Tokens, sentences, chunks, type ids and context values of ``text`` (bounded).

        ``sstarts``: the text's :func:`~models.evidence.spans.sentence_starts`, when the
        caller has them already (the cue scan does), so the split is not made twice.
        """
        text, sstarts = _capped(text, sentence_starts(text) if sstarts is None else sstarts)
        return self._prepared(text, sstarts, tokenize(text))

    def _type_ids(self, strings: list[str]) -> np.ndarray:
        """Type id of each token, -1 for a type not in the cache."""
        get = self._type_id.get
        return np.fromiter(map(get, strings, repeat(-1)), dtype=np.int64, count=len(strings))

    def _group_type_ids(self, token_lists: list[list[str]]) -> list[np.ndarray]:
        """Each article's type ids (-1 where unknown), after scoring every type the cache
        lacks in one :meth:`_add_types` call (its cost is mostly per call, not per type).
        Skipped if it would restart the cache: each article then adds its own types as
        it is prepared (:meth:`_prepared`)."""
        ids = [self._type_ids(strings) for strings in token_lists]
        missing = [i for i, found in enumerate(ids) if (found < 0).any()]
        new = dict.fromkeys(
            chain.from_iterable(compress(token_lists[i], ids[i] < 0) for i in missing)
        )
        if new and self._n_types + len(new) <= MAX_TYPES:
            self._add_types(list(new))
            for i in missing:
                ids[i] = self._type_ids(token_lists[i])
        return ids

    def _prepared(
        self,
        text: str,
        sstarts: list[int],
        tokens: tuple[list[str], np.ndarray, np.ndarray],
        ids: np.ndarray | None = None,
    ) -> dict[str, Any]:
        """:meth:`prepare` from the capped text, its sentence starts and its tokens (and
        their type ids, if known: any still unknown are scored here)."""
        strings, starts, ends = tokens
        if ids is None:
            ids = self._type_ids(strings)
        if (ids < 0).any():
            for _ in range(2):  # a second pass if the cache restarted during the first
                known = self._type_id
                self._add_types(list(dict.fromkeys(s for s in strings if s not in known)))
                ids = self._type_ids(strings)
                if not (ids < 0).any():
                    break
        sent = np.searchsorted(np.asarray(sstarts), starts, side="right") - 1
        flags = self._flags[ids]
        inq = quote_state(text, starts, flags[:, 2], flags[:, 3], flags[:, 4])
        chunks, ctx = self._chunks_and_context(sent, len(sstarts), flags, inq)
        return {
            "strings": strings,
            "starts": starts,
            "ends": ends,
            "sstarts": sstarts,
            "ids": ids,
            "sent": sent,
            "chunks": chunks,
            "ctx": ctx,
            "inq": inq,
        }

    def _chunks_and_context(
        self, sent: np.ndarray, n_sent: int, flags: np.ndarray, inq: np.ndarray
    ) -> tuple[Chunks, np.ndarray]:
        """The chunks of the sentences worth tagging (those with a candidate cue word, when
        ``filter_sentences``) and their tokens' context values."""
        if self.filter_sentences:
            keep = np.bincount(sent[flags[:, 1]], minlength=n_sent) > 0
        else:
            keep = np.ones(n_sent, dtype=bool)
        chunks = make_chunks(sent, keep)
        quote = np.asarray(flags[:, 2:].any(axis=1))
        return chunks, context_values(chunks, flags[:, 0], inq, quote)

    def _tag_group(
        self,
        group: list[tuple[str, list[int]]],
        tokens: list[tuple[list[str], np.ndarray, np.ndarray]],
        ids: list[np.ndarray],
    ) -> list[tuple[np.ndarray, np.ndarray, list[int], list[int], list[int], list[int]]]:
        """Each article's token starts and ends and labelled runs (the arguments of
        :func:`assemble_runs` after the text), with :meth:`_prepared`'s, :meth:`emissions`'
        and :func:`find_runs`' numpy work done once for the whole group (the texts laid end
        to end: sentences, chunks and paragraphs never cross a text's end) and one Viterbi.
        The same values as article by article; ``ids`` all known."""
        n_tok = np.asarray([len(strings) for strings, _, _ in tokens], dtype=np.int64)
        tok_off = np.concatenate(([0], np.cumsum(n_tok)))
        text_off = np.concatenate(([0], np.cumsum([len(text) for text, _ in group])))
        n_sent = np.asarray([len(sstarts) for _, sstarts in group], dtype=np.int64)
        sent_off = np.concatenate(([0], np.cumsum(n_sent)))
        all_ids = np.concatenate([*ids, np.zeros(0, dtype=np.int64)])
        starts = np.concatenate(
            [np.zeros(0, dtype=np.int64)]
            + [found[1] + text_off[i] for i, found in enumerate(tokens)]
        )
        sstarts = np.concatenate(
            [np.asarray(article_starts, dtype=np.int64) + text_off[i]
             for i, (_, article_starts) in enumerate(group)]
        )
        sent = np.searchsorted(sstarts, starts, side="right") - 1
        flags = self._flags[all_ids]
        inq = quote_state_many(
            [text for text, _ in group], starts, text_off, flags[:, 2], flags[:, 3], flags[:, 4]
        )
        chunks, ctx = self._chunks_and_context(sent, int(sent_off[-1]), flags, inq)
        labels = self.decode(self._block_emissions(chunks, all_ids, ctx), chunks)
        # each article's chunks: those whose first token is one of its tokens
        first_tok = chunks.tok[chunks.chunk_start] if len(chunks.tok) else chunks.tok
        chunk_off = np.searchsorted(first_tok, tok_off, side="left")
        position = np.append(chunks.chunk_start, len(chunks.tok))[chunk_off]
        # each article's runs: those that start in its chunks, in article terms
        runs = find_runs(chunks, labels)
        run_off = np.searchsorted(runs.position, position, side="left").tolist()
        run_article = np.repeat(np.arange(len(tokens)), np.diff(run_off))
        roles = runs.role.tolist()
        sentences = (runs.sentence - sent_off[run_article]).tolist()
        firsts = (runs.first - tok_off[run_article]).tolist()
        lasts = (runs.last - tok_off[run_article]).tolist()
        out = []
        for i, (_, article_starts, ends) in enumerate(tokens):
            r0, r1 = run_off[i], run_off[i + 1]
            out.append((article_starts, ends, roles[r0:r1], sentences[r0:r1], firsts[r0:r1],
                        lasts[r0:r1]))
        return out

    def _block_emissions(self, chunks: Chunks, ids: np.ndarray, ctx: np.ndarray) -> np.ndarray:
        """:meth:`emissions` of a batch's chunks, whole chunks of about
        :data:`EMISSION_BLOCK_TOKENS` tokens at a time: over the whole batch its arrays
        outgrow the CPU caches and it runs slower than article by article."""
        bounds = np.append(chunks.chunk_start, len(chunks.tok))
        parts = []
        first = 0
        while first < len(chunks.chunk_len):
            p0 = int(bounds[first])
            last = int(np.searchsorted(bounds, p0 + EMISSION_BLOCK_TOKENS, side="right")) - 1
            last = min(max(last, first + 1), len(chunks.chunk_len))
            p1 = int(bounds[last])
            block = Chunks(chunks.tok[p0:p1], chunks.chunk_start[first:last] - p0,
                           chunks.chunk_len[first:last], chunks.chunk_sentence[first:last])
            parts.append(self.emissions({"chunks": block, "ids": ids, "ctx": ctx[p0:p1]}))
            first = last
        return np.concatenate(parts) if parts else np.zeros((0, self._n_labels))

    def emissions(self, prep: dict[str, Any]) -> np.ndarray:
        """(n_chunk_tokens, n_labels) state scores = crfsuite's sum of active feature weights."""
        chunks: Chunks = prep["chunks"]
        n = len(chunks.tok)
        if n == 0:
            return np.zeros((0, self._n_labels))
        ids = prep["ids"][chunks.tok]
        # padded layout: [BOS BOS chunk EOS EOS] per chunk
        cid = np.repeat(np.arange(len(chunks.chunk_len)), chunks.chunk_len)
        pos = np.arange(n) + 4 * cid + 2
        padded = np.empty(n + 4 * len(chunks.chunk_len), dtype=np.int64)
        padded[:] = 0  # BOS row
        padded[pos] = ids
        n_chunks = len(chunks.chunk_len)
        chunk_end_pad = chunks.chunk_start + chunks.chunk_len + 4 * np.arange(n_chunks) + 2
        padded[chunk_end_pad] = 1  # EOS row
        padded[chunk_end_pad + 1] = 1
        table = self._table
        emit = np.take(table[2], padded[pos], axis=0)
        for k, off in enumerate(OFFSETS):
            if off:
                emit += np.take(table[k], padded[pos + off], axis=0)
        context = np.take(self._ctx_flat, prep["ctx"] + self._ctx_offsets, axis=0)
        # the families' sum, added left to right as ``sum(axis=1)`` adds them (the same
        # numbers), without numpy's slow reduction over a short middle axis
        families = context[:, 0].copy()
        for f in range(1, context.shape[1]):
            families += context[:, f]
        emit += families
        return emit

    def decode(self, emit: np.ndarray, chunks: Chunks) -> np.ndarray:
        """Best label per chunk token: batched Viterbi over all chunks (or greedy argmax).

        Chunks run longest first, so the chunks still running at step ``t`` are a prefix,
        and the tokens are laid out step after step (all first tokens, then all second
        tokens...): a step reads and writes one contiguous slice. Scores are held label by
        token, so each numpy call runs along the chunks (thousands), not along the labels
        (seven). The forward pass keeps only the best score of each (token, label); the
        backward pass finds each token's best previous label for the one label chosen
        after it, from the very sums the forward pass compared (the path a back-pointer
        per label would give). Memory is linear in the tokens.
        """
        n = len(emit)
        if n == 0 or self.decoder == "greedy":
            return emit.argmax(axis=1) if n else np.zeros(0, dtype=np.int64)
        lens = chunks.chunk_len
        order = np.argsort(-lens, kind="stable")
        first, slens = chunks.chunk_start[order], lens[order]
        t_max = int(slens[0])
        active = np.searchsorted(-slens, -np.arange(1, t_max + 1), side="right")  # len > t
        step_start = np.concatenate(([0], np.cumsum(active)))
        by_step = np.concatenate([first[: active[t]] + t for t in range(t_max)])
        scores = np.ascontiguousarray(emit[by_step].T)  # emissions, then best path scores
        for t in range(1, t_max):
            a, previous, here = active[t], step_start[t - 1], step_start[t]
            best = best_previous(scores[:, previous : previous + a], self._trans)
            scores[:, here : here + a] += best
        labels = np.empty(n, dtype=np.int64)
        last = step_start[slens - 1] + np.arange(len(slens))  # each chunk's last token
        labels[last] = scores[:, last].argmax(axis=0)
        for t in range(t_max - 1, 0, -1):
            a, previous, here = active[t], step_start[t - 1], step_start[t]
            into = self._trans[:, labels[here : here + a]]
            labels[previous : previous + a] = (scores[:, previous : previous + a] + into).argmax(
                axis=0
            )
        out = np.empty(n, dtype=np.int64)
        out[by_step] = labels
        return out

    def tag(self, text: str) -> tuple[dict[str, Any], np.ndarray]:
        """Prepared article and the decoded label index of each chunk token."""
        prep = self.prepare(text)
        return prep, self.decode(self.emissions(prep), prep["chunks"])

    def token_labels(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, label index per article token; 0 = O for untagged sentences)."""
        prep, labels = self.tag(text)
        out = np.zeros(len(prep["strings"]), dtype=np.int64)
        out[prep["chunks"].tok] = labels
        return prep["starts"], prep["ends"], out

    # -- assembly ----------------------------------------------------------------------------
    def extract(self, text: str) -> list[Attribution]:
        """Attributions of ``text``: one per predicted cue run, with the nearest source run of the
        same sentence and the nearest content run of the same sentence (else of the adjacent
        sentence on the quote side). All spans slice ``text`` exactly; bounded, linear work."""
        prep, labels = self.tag(text)
        return assemble(text, prep, labels)

    def extract_many(
        self,
        texts: Sequence[str],
        batch: int = 256,
        sentence_starts_of: Sequence[list[int]] | None = None,
        tokens_out: list[Tokens] | None = None,
    ) -> list[list[Attribution]]:
        """``[self.extract(t) for t in texts]``, identical output, but the Viterbi runs once per
        ``batch`` articles (all their chunks together; its memory is linear in their tokens),
        amortising the per-step overhead, and
        the group's new word types are scored together. ``sentence_starts_of``: each text's
        sentence starts, if the caller has them (see :meth:`prepare`). ``tokens_out``: a list
        that gets each text's :class:`Tokens` (of the text the tagger read, see ``_capped``),
        for callers that tokenize the same way (the wording block)."""
        out: list[list[Attribution]] = []
        for b0 in range(0, len(texts), batch):
            given = sentence_starts_of
            group = [
                _capped(texts[i], sentence_starts(texts[i]) if given is None else given[i])
                for i in range(b0, min(b0 + batch, len(texts)))
            ]
            tokens = [tokenize(text) for text, _ in group]
            if tokens_out is not None:
                tokens_out.extend(
                    Tokens(strings, ends, len(text))
                    for (text, _), (strings, _, ends) in zip(group, tokens, strict=True)
                )
            ids = self._group_type_ids([strings for strings, _, _ in tokens])
            if all(not (found < 0).any() for found in ids):  # the usual case
                for i, runs in enumerate(self._tag_group(group, tokens, ids)):
                    out.append(assemble_runs(texts[b0 + i], *runs))
                continue
            # the type cache would have restarted: each article scores its own new types
            preps, emits = [], []
            for (text, sstarts), found, known_ids in zip(group, tokens, ids, strict=True):
                # score each article before the next can restart the type cache
                preps.append(self._prepared(text, sstarts, found, known_ids))
                emits.append(self.emissions(preps[-1]))
            sizes = [len(e) for e in emits]
            offsets = np.cumsum([0, *sizes])
            starts = np.concatenate(
                [p["chunks"].chunk_start + o for p, o in zip(preps, offsets[:-1], strict=True)]
            )
            lens = np.concatenate([p["chunks"].chunk_len for p in preps])
            empty = np.zeros(0, dtype=np.int64)
            joint = Chunks(empty, starts.astype(np.int64), lens.astype(np.int64), empty)
            labels = self.decode(np.concatenate(emits) if sizes else np.zeros((0, 7)), joint)
            for i, p in enumerate(preps):  # the whole text: a cue's kind reads past the cap
                out.append(assemble(texts[b0 + i], p, labels[offsets[i] : offsets[i + 1]]))
        return out


def quote_state_many(
    texts: Sequence[str], starts: np.ndarray, text_offsets: np.ndarray, straight: np.ndarray,
    opening: np.ndarray, closing: np.ndarray,
) -> np.ndarray:
    """:func:`quote_state` of several texts at once: ``starts`` are their tokens' starts
    shifted by their text's offset in ``text_offsets`` (as if the texts were laid end to
    end), and every text starts a paragraph, so no state carries from one to the next."""
    n = len(starts)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    idx = np.arange(n)
    cum = np.cumsum(straight) - straight
    marks = np.where(opening | closing, idx, -1)
    last = np.concatenate(([-1], np.maximum.accumulate(marks)[:-1]))
    breaks = [int(offset) for offset in text_offsets[:-1]]
    for text, offset in zip(texts, text_offsets[:-1].tolist(), strict=True):
        if "\n" in text:
            breaks.extend(offset + m.end() for m in _PARAGRAPH.finditer(text))
    para = np.searchsorted(np.sort(np.asarray(breaks, dtype=np.int64)), starts, side="right")
    para_first = np.searchsorted(para, np.arange(para[-1] + 1), side="left")[para]
    straight_in = (cum - cum[para_first]) % 2 == 1
    curly_in = (last >= para_first) & opening[np.maximum(last, 0)]
    return (straight_in | curly_in).astype(np.int64)


def best_previous(delta: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """One Viterbi step on (labels, chunks) scores: for each label and chunk, the best score
    over the previous label, ``max_i delta[i] + trans[i]``.

    A loop over the few labels on (labels, chunks) arrays: numpy reduces a short axis
    slowly, and this is the decoder's hot loop. ``np.maximum`` may keep the other zero
    of ``-0.0 == 0.0`` than a strict comparison would: a score equal either way, so no
    comparison and no label can differ (the weights are finite: no NaN).
    """
    to_label = trans[:, :, None]  # trans[i, j] as a column over the chunks
    best = delta[0] + to_label[0]
    candidate = np.empty_like(best)
    for i in range(1, len(trans)):
        np.add(delta[i], to_label[i], out=candidate)
        np.maximum(best, candidate, out=best)
    return best


class Runs(NamedTuple):
    """The labelled runs of some chunks, in order: role (0 source, 1 cue, 2 content),
    sentence, first and last token; and the chunk position each run starts at."""

    role: np.ndarray
    sentence: np.ndarray
    first: np.ndarray
    last: np.ndarray
    position: np.ndarray


def find_runs(chunks: Chunks, labels: np.ndarray) -> Runs:
    """The runs of decoded chunk labels (:func:`label_runs`) with their sentences and
    article tokens."""
    runs = label_runs(labels, chunks.chunk_start)
    chunk_of = np.searchsorted(chunks.chunk_start, runs[:, 1], side="right") - 1
    return Runs(runs[:, 0], chunks.chunk_sentence[chunk_of], chunks.tok[runs[:, 1]],
                chunks.tok[runs[:, 2]], runs[:, 1])


def assemble(text: str, prep: dict[str, Any], labels: np.ndarray) -> list[Attribution]:
    """Turn decoded chunk labels into attributions (see :meth:`AttributionTagger.extract`)."""
    chunks: Chunks = prep["chunks"]
    if len(chunks.tok) == 0:
        return []
    runs = find_runs(chunks, labels)
    return assemble_runs(text, prep["starts"], prep["ends"], runs.role.tolist(),
                         runs.sentence.tolist(), runs.first.tolist(), runs.last.tolist())


def assemble_runs(
    text: str, starts: np.ndarray, ends: np.ndarray, roles: list[int], sentences: list[int],
    firsts: list[int], lasts: list[int],
) -> list[Attribution]:
    """:func:`assemble` from an article's runs (:func:`find_runs`, as lists)."""
    if 1 not in roles:
        return []
    # runs per sentence: (role, first article token, last article token)
    by_sent: dict[int, list[tuple[int, int, int]]] = {}
    for r, sent, a, b in zip(roles, sentences, firsts, lasts, strict=True):
        by_sent.setdefault(sent, []).append((r, a, b))
    starts, ends = starts.tolist(), ends.tolist()

    def span(a: int, b: int) -> Span:
        s, e = starts[a], ends[b]
        return Span(text[s:e], s, e)

    def nearest(cands: list[tuple[int, int, int]], a: int, b: int) -> tuple[int, int] | None:
        best, best_d = None, None
        for _, x, y in cands:
            d = a - y if y < a else x - b if x > b else 0
            d2 = (d, 0 if y < a else 1)  # tie: prefer the run before the cue
            if best_d is None or d2 < best_d:
                best, best_d = (x, y), d2
        return best

    out: list[Attribution] = []
    for sent in sorted(by_sent):
        sentence_runs = by_sent[sent]
        cues = [r for r in sentence_runs if r[0] == 1]
        if not cues:
            continue
        srcs = [r for r in sentence_runs if r[0] == 0]
        cons = [r for r in sentence_runs if r[0] == 2]
        for _, a, b in cues:
            src = nearest(srcs, a, b)
            con = nearest(cons, a, b)
            if con is None:
                # quotation in an adjacent sentence: prefer the previous one
                for other in (sent - 1, sent + 1):
                    orun = by_sent.get(other, [])
                    if orun and not any(r[0] == 1 for r in orun):
                        cand = [r for r in orun if r[0] == 2]
                        if cand:
                            con = nearest(cand, a, b)
                            break
            cue = span(a, b)
            content = span(*con) if con else None
            out.append(
                Attribution(
                    kind=cue_kind(text, cue, content),
                    sentence=sent,
                    source=span(*src) if src else None,
                    cue=cue,
                    content=content,
                )
            )
    return out


def build_tagger(
    state_features: dict[tuple[str, str], float],
    transition_features: dict[tuple[str, str], float],
    lexicon: list[str],
    candidates: list[str],
    filter_sentences: bool,
    prune: float,
    decoder: str,
) -> AttributionTagger:
    """A tagger from (attribute, label) -> weight and (label, label) -> weight dicts."""
    lab = {name: i for i, name in enumerate(LABELS)}
    n_lab = len(LABELS)
    ctx_index = {
        f"{name}={v}": (f, v)
        for f, (name, size) in enumerate(CONTEXT_FAMILIES)
        for v in range(size)
    }
    ctx = [np.zeros((size, n_lab)) for _, size in CONTEXT_FAMILIES]
    rows: dict[str, np.ndarray] = {}
    for (attr, label), w in state_features.items():
        if abs(w) < prune:
            continue
        if attr in ctx_index:
            f, v = ctx_index[attr]
            ctx[f][v, lab[label]] = w
        else:
            rows.setdefault(attr, np.zeros(n_lab))[lab[label]] = w
    names = sorted(rows)
    weights = np.array([rows[a] for a in names], dtype=np.float32).reshape(len(names), n_lab)
    trans = np.zeros((n_lab, n_lab))
    for (a, b), w in transition_features.items():
        trans[lab[a], lab[b]] = w
    return AttributionTagger(
        "\n".join(names), weights, ctx, trans, lexicon, candidates, filter_sentences, decoder
    )

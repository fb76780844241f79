"""Training and measuring the attribution tagger on PolNeAR (BRAT standoff).

``load_polnear`` reads a split (``train/`` or ``dev/``: ``text/*.txt`` and
``attributions/*.ann``, one file per article and annotator; the first annotator in
sorted order is used per article); :func:`train_tagger` fits a CRF with
sklearn-crfsuite (a training-time dependency only) and exports it into an
:class:`~models.evidence.attribution.AttributionTagger`; :func:`evaluate` gives token
P/R/F1 per role and span-overlap precision/recall of cues and sources.
"""

from __future__ import annotations

import bisect
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.evidence.attribution import (
    _PRIORITY,
    _ROLE_FIELD,
    BOS,
    CONTEXT_FAMILIES,
    EOS,
    LABELS,
    OFFSETS,
    ROLES,
    AttributionTagger,
    Chunks,
    build_tagger,
    tokenize,
    type_attributes,
)
from models.evidence.evidence import with_subject_sources
from models.evidence.spans import sentence_starts

Fragments = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class GoldAttribution:
    """A gold attribution; each role is a tuple of (start, end) fragments (empty if absent)."""

    source: Fragments
    cue: Fragments
    content: Fragments


_ROLE_OF = {"Source": "source", "Cue": "cue", "Content": "content", "Content2": "content"}


def parse_ann(ann: str) -> list[GoldAttribution]:
    """Gold attributions of one BRAT file: one per ``E`` line, roles resolved via ``T`` lines."""
    spans: dict[str, Fragments] = {}
    events: list[list[tuple[str, str]]] = []
    for line in ann.splitlines():
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        if parts[0].startswith("T"):
            _, _, offsets = parts[1].partition(" ")
            frags = []
            for piece in offsets.split(";"):
                a, b = piece.split()
                frags.append((int(a), int(b)))
            spans[parts[0]] = tuple(frags)
        elif parts[0].startswith("E"):
            events.append([tuple(arg.split(":", 1)) for arg in parts[1].split()])  # type: ignore[misc]
    gold = []
    for args in events:
        roles: dict[str, list[tuple[int, int]]] = {"source": [], "cue": [], "content": []}
        for role, ref in args[1:]:
            if role in _ROLE_OF and ref in spans:
                roles[_ROLE_OF[role]].extend(spans[ref])
        if roles["cue"]:
            gold.append(GoldAttribution(*(tuple(sorted(roles[r])) for r in roles)))
    return gold


def load_polnear(
    split_dir: str | Path, annotators: str = "first"
) -> list[tuple[str, list[GoldAttribution]]]:
    """(text, gold attributions) per article of a PolNeAR split directory.

    ``annotators="first"`` keeps the first annotation file in sorted order per article;
    ``"all"`` yields one example per (article, annotator). Articles are in sorted name order.
    """
    split = Path(split_dir)
    by_article: dict[str, list[Path]] = {}
    for ann in sorted((split / "attributions").glob("*.ann")):
        by_article.setdefault(ann.stem.rsplit("_", 1)[0], []).append(ann)
    out = []
    for stem in sorted(by_article):
        text = (split / "text" / f"{stem}.txt").read_text(encoding="utf-8")
        files = by_article[stem] if annotators == "all" else by_article[stem][:1]
        for ann in files:
            out.append((text, parse_ann(ann.read_text(encoding="utf-8"))))
    return out


def gold_token_roles(
    starts: np.ndarray, ends: np.ndarray, gold: Sequence[GoldAttribution]
) -> list[str]:
    """BIO label per token; a token takes a role if it overlaps a fragment (cue > source >
    content on conflict); B marks the first token of each fragment."""
    n = len(starts)
    labels = ["O"] * n
    for role in _PRIORITY:
        field = _ROLE_FIELD[role]
        for g in gold:
            for a, b in getattr(g, field):
                lo = int(np.searchsorted(ends, a, side="right"))
                hi = int(np.searchsorted(starts, b, side="left"))
                for i in range(lo, hi):
                    labels[i] = ("B-" if i == lo else "I-") + role
    return labels


def cue_lexicons(
    docs: Sequence[tuple[str, Sequence[GoldAttribution]]],
    lex_min: int = 3,
    lex_rate: float = 0.1,
    cand_min: int = 2,
    cand_rate: float = 0.02,
) -> tuple[list[str], list[str]]:
    """(feature lexicon, candidate vocabulary): lower-case words seen inside gold cue spans at
    least ``*_min`` times and in a cue at least ``*_rate`` of their occurrences."""
    in_cue: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for text, gold in docs:
        strings, starts, ends = tokenize(text)
        labels = gold_token_roles(starts, ends, gold)
        for s, lab in zip(strings, labels, strict=True):
            low = s.lower()
            total[low] += 1
            if lab.endswith("CUE"):
                in_cue[low] += 1
    lex = sorted(w for w, c in in_cue.items() if c >= lex_min and c / total[w] >= lex_rate)
    cand = sorted(w for w, c in in_cue.items() if c >= cand_min and c / total[w] >= cand_rate)
    return lex, cand


RATE_EDGES = (0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7)


def cue_rates(
    docs: Sequence[tuple[str, Sequence[GoldAttribution]]], min_in_cue: int = 2
) -> dict[str, int]:
    """Bucketed share of a word's train occurrences that lie inside a gold cue (words seen in a
    cue at least ``min_in_cue`` times); bucket ``k`` counts the RATE_EDGES below the rate."""
    in_cue: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for text, gold in docs:
        strings, starts, ends = tokenize(text)
        for s, lab in zip(strings, gold_token_roles(starts, ends, gold), strict=True):
            low = s.lower()
            total[low] += 1
            if lab.endswith("CUE"):
                in_cue[low] += 1
    return {
        w: int(bisect.bisect_right(RATE_EDGES, c / total[w]))
        for w, c in in_cue.items()
        if c >= min_in_cue
    }


def set_rates(tagger: AttributionTagger, rates: dict[str, int]) -> AttributionTagger:
    """Store ``rates`` as two numpy arrays on ``tagger`` and rebuild its runtime caches."""
    words = sorted(rates)
    tagger.rate_words = np.array(words, dtype=str)
    tagger.rate_buckets = np.array([rates[w] for w in words], dtype=np.int64)
    tagger._init_runtime()
    return tagger


def unweighted_tagger(
    lexicon: list[str], candidates: list[str], filter_sentences: bool
) -> AttributionTagger:
    """A tagger with no weights yet: what turns training texts into the very features
    the fitted tagger will score (:func:`crf_sequences`)."""
    n_lab = len(LABELS)
    return AttributionTagger(
        "",
        np.zeros((0, n_lab), dtype=np.float32),
        [np.zeros((size, n_lab)) for _, size in CONTEXT_FAMILIES],
        np.zeros((n_lab, n_lab)),
        lexicon,
        candidates,
        filter_sentences,
    )


def crf_sequences(
    tagger: AttributionTagger, docs: Sequence[tuple[str, Sequence[GoldAttribution]]]
) -> tuple[list[list[list[str]]], list[list[str]]]:
    """Chunked crfsuite training sequences (attribute lists, BIO labels) built from the very
    same decomposition that :meth:`AttributionTagger.emissions` scores."""
    xs: list[list[list[str]]] = []
    ys: list[list[str]] = []
    ctx_names = [[f"{name}={v}" for v in range(size)] for name, size in CONTEXT_FAMILIES]
    for text, gold in docs:
        prep = tagger.prepare(text)
        chunks: Chunks = prep["chunks"]
        labels = gold_token_roles(prep["starts"], prep["ends"], gold)
        strings = prep["strings"]
        for c in range(len(chunks.chunk_len)):
            s0, n = int(chunks.chunk_start[c]), int(chunks.chunk_len[c])
            toks = [strings[i] for i in chunks.tok[s0 : s0 + n]]
            padded = [BOS, BOS, *toks, EOS, EOS]
            attrs = [type_attributes(t, tagger._lex, tagger._rates) for t in padded]
            seq = []
            for j in range(n):
                feats: list[str] = []
                for k, off in enumerate(OFFSETS):
                    feats.extend(attrs[j + 2 + off][k])
                row = prep["ctx"][s0 + j]
                feats.extend(ctx_names[f][int(v)] for f, v in enumerate(row))
                seq.append(feats)
            xs.append(seq)
            ys.append([labels[i] for i in chunks.tok[s0 : s0 + n]])
    return xs, ys


def train_tagger(
    docs: Sequence[tuple[str, Sequence[GoldAttribution]]],
    c1: float = 0.05,
    c2: float = 0.01,
    max_iterations: int = 150,
    filter_sentences: bool = True,
    prune: float = 1e-4,
    lexicon_kwargs: dict[str, Any] | None = None,
    use_rates: bool = True,
) -> tuple[AttributionTagger, Any]:
    """Train a CRF (crfsuite L-BFGS, elastic net ``c1``/``c2``) and export it.

    Returns the numpy-only tagger and the crfsuite model (for verification only; it is not
    the artifact). Weights with ``|w| < prune`` are dropped from the export.
    """
    import sklearn_crfsuite  # training-time dependency only

    lex, cand = cue_lexicons(docs, **(lexicon_kwargs or {}))
    rates = cue_rates(docs) if use_rates else {}
    empty = unweighted_tagger(lex, cand, filter_sentences)
    set_rates(empty, rates)
    xs, ys = crf_sequences(empty, docs)
    crf = sklearn_crfsuite.CRF(
        algorithm="lbfgs",
        c1=c1,
        c2=c2,
        max_iterations=max_iterations,
        all_possible_transitions=True,
    )
    crf.fit(xs, ys)
    tagger = set_rates(export_crf(crf, lex, cand, filter_sentences, prune), rates)
    return tagger, crf


def export_crf(
    crf: Any, lexicon: list[str], candidates: list[str], filter_sentences: bool, prune: float
) -> AttributionTagger:
    """Copy a fitted sklearn-crfsuite model's weights into an :class:`AttributionTagger`."""
    return build_tagger(
        crf.state_features_,
        crf.transition_features_,
        lexicon,
        candidates,
        filter_sentences,
        prune,
        "viterbi",
    )


def bio_constraints(penalty: float = -20.0) -> dict[tuple[str, str], float]:
    """Transition weights forbidding (softly) I-X after anything but B-X / I-X."""
    out = {}
    for a in LABELS:
        for b in LABELS:
            if b.startswith("I-") and a[2:] != b[2:]:
                out[(a, b)] = penalty
    return out


def train_linear(
    docs: Sequence[tuple[str, Sequence[GoldAttribution]]],
    alpha: float = 1e-6,
    epochs: int = 10,
    min_count: int = 2,
    filter_sentences: bool = True,
    decoder: str = "greedy",
    prune: float = 1e-4,
    lexicon_kwargs: dict[str, Any] | None = None,
) -> AttributionTagger:
    """Per-token multiclass linear model (SGD logistic loss, one-vs-rest) over the same
    attributes as the CRF; decoded greedily or by Viterbi under BIO constraints."""
    from scipy import sparse
    from sklearn.linear_model import SGDClassifier

    lex, cand = cue_lexicons(docs, **(lexicon_kwargs or {}))
    empty = unweighted_tagger(lex, cand, filter_sentences)
    xs, ys = crf_sequences(empty, docs)
    counts: Counter[str] = Counter(a for seq in xs for tok in seq for a in tok)
    vocab = {a: i for i, a in enumerate(sorted(a for a, c in counts.items() if c >= min_count))}
    indptr: list[int] = [0]
    indices: list[int] = []
    for seq in xs:
        for tok in seq:
            indices.extend(vocab[a] for a in tok if a in vocab)
            indptr.append(len(indices))
    x = sparse.csr_matrix(
        (np.ones(len(indices)), np.array(indices), np.array(indptr)),
        shape=(len(indptr) - 1, len(vocab)),
    )
    y = np.array([LABELS.index(lab) for seq in ys for lab in seq])
    clf = SGDClassifier(
        loss="log_loss",
        alpha=alpha,
        max_iter=epochs,
        tol=None,
        random_state=0,
        n_jobs=1,
        fit_intercept=False,
    )
    clf.fit(x, y)
    names = sorted(vocab, key=vocab.get)  # type: ignore[arg-type]
    coef = np.zeros((len(LABELS), len(vocab)))
    coef[clf.classes_] = clf.coef_
    state = {
        (a, LABELS[k]): float(coef[k, j])
        for j, a in enumerate(names)
        for k in np.flatnonzero(np.abs(coef[:, j]) >= prune)
    }
    trans = bio_constraints() if decoder == "viterbi" else {}
    return build_tagger(state, trans, lex, cand, filter_sentences, prune, decoder)


def _overlap(a: Iterable[tuple[int, int]], b: Iterable[tuple[int, int]]) -> int:
    """Characters shared by two fragment lists."""
    return sum(max(0, min(y, q) - max(x, p)) for x, y in a for p, q in b)


def match_spans(pred: Sequence[Fragments], gold: Sequence[Fragments]) -> list[tuple[int, int]]:
    """One-to-one (pred index, gold index) matching of overlapping spans, largest overlap first.

    Gold spans are sorted by start, so candidate pairs come from a sweep (no all-pairs loop).
    """
    gold_order = sorted(range(len(gold)), key=lambda g: gold[g][0][0])
    gstarts = [gold[g][0][0] for g in gold_order]
    pairs: list[tuple[int, int, int]] = []
    longest = max((f[-1][1] - f[0][0] for f in gold), default=0)
    for p, frags in enumerate(pred):
        lo = bisect.bisect_left(gstarts, frags[0][0] - longest)
        hi = bisect.bisect_right(gstarts, frags[-1][1])
        for j in range(lo, hi):
            g = gold_order[j]
            ov = _overlap(frags, gold[g])
            if ov > 0:
                pairs.append((ov, p, g))
    pairs.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_p: set[int] = set()
    used_g: set[int] = set()
    out = []
    for _, p, g in pairs:
        if p not in used_p and g not in used_g:
            used_p.add(p)
            used_g.add(g)
            out.append((p, g))
    return out


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return {"p": p, "r": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def evaluate(
    tagger: AttributionTagger,
    docs: Sequence[tuple[str, Sequence[GoldAttribution]]],
) -> dict[str, Any]:
    """Dev figures: token P/R/F1 per role; span-overlap P/R of cues and of (distinct) sources;
    share of gold attributions with a same-sentence source whose matched predicted
    attribution (by cue overlap) has an overlapping source, and why the others were not
    (no predicted cue overlaps theirs, or it has no source, or another one).

    The attributions measured are the records' (a cue the tagger left without a source
    takes its verb's subject, :func:`~models.evidence.evidence.with_subject_sources`);
    ``same_sentence_source_tagger`` is the same share from the tagger's own sources, and
    the token figures are the tagger's labels either way."""
    tok_counts = {r: [0, 0, 0] for r in ROLES}  # tp, pred, gold
    cue_c = [0, 0, 0]
    src_c = [0, 0, 0]
    same_sent = [0, 0]  # found, total
    by_tagger = 0  # found from the tagger's sources alone
    why_not = {"cue_missed": 0, "no_source": 0, "other_source": 0}  # same-sentence, not found
    n_attr = 0
    for text, gold in docs:
        starts, ends, lab = tagger.token_labels(text)
        gold_lab = gold_token_roles(starts, ends, gold)
        g_role = np.array([ROLES.index(x[2:]) if x != "O" else -1 for x in gold_lab])
        p_role = np.where(lab > 0, (lab + 1) // 2 - 1, -1)
        for r, name in enumerate(ROLES):
            tok_counts[name][0] += int(((p_role == r) & (g_role == r)).sum())
            tok_counts[name][1] += int((p_role == r).sum())
            tok_counts[name][2] += int((g_role == r).sum())
        tagged = tagger.extract(text)
        sst = sentence_starts(text)
        pred = with_subject_sources(text, sst, tagged)
        n_attr += len(pred)
        pcues: list[Fragments] = [((a.cue.start, a.cue.end),) for a in pred if a.cue]
        gcues = [g.cue for g in gold]
        m = match_spans(pcues, gcues)
        cue_c[0] += len(m)
        cue_c[1] += len(pcues)
        cue_c[2] += len(gcues)
        psrc = sorted({(a.source.start, a.source.end) for a in pred if a.source})
        gsrc = sorted({g.source for g in gold if g.source})
        ms = match_spans([(s,) for s in psrc], gsrc)
        src_c[0] += len(ms)
        src_c[1] += len(psrc)
        src_c[2] += len(gsrc)
        gold_to_pred = {g: p for p, g in m}
        for gi, g in enumerate(gold):
            if not g.source:
                continue
            cs = int(np.searchsorted(sst, g.cue[0][0], side="right") - 1)
            lo, hi = sst[cs], sst[cs + 1] if cs + 1 < len(sst) else len(text)
            if not all(lo <= a and b <= hi for a, b in g.source):
                continue
            same_sent[1] += 1
            pi = gold_to_pred.get(gi)
            src = pred[pi].source if pi is not None else None
            own = tagged[pi].source if pi is not None else None
            by_tagger += own is not None and _overlap([(own.start, own.end)], g.source) > 0
            if pi is None:
                why_not["cue_missed"] += 1
            elif src is None:
                why_not["no_source"] += 1
            elif _overlap([(src.start, src.end)], g.source) > 0:
                same_sent[0] += 1
            else:
                why_not["other_source"] += 1
    out: dict[str, Any] = {f"tok_{r}": _prf(*tok_counts[r]) for r in ROLES}
    out["cue_span"] = _prf(*cue_c)
    out["source_span"] = _prf(*src_c)
    out["same_sentence_source"] = same_sent[0] / same_sent[1] if same_sent[1] else 0.0
    out["same_sentence_source_tagger"] = by_tagger / same_sent[1] if same_sent[1] else 0.0
    out["n_same_sentence"] = same_sent[1]
    out["same_sentence_not_found"] = why_not
    out["n_pred_attributions"] = n_attr
    out["n_gold_attributions"] = sum(len(g) for _, g in docs)
    return out


def throughput(tagger: AttributionTagger, texts: Sequence[str], repeats: int = 3) -> float:
    """Articles per second of :meth:`AttributionTagger.extract` (best of ``repeats``, warm)."""

    for t in texts[:50]:
        tagger.extract(t)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for t in texts:
            tagger.extract(t)
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best


def shift_labels(tagger: AttributionTagger, bias: dict[str, float]) -> AttributionTagger:
    """Add a constant to the state score of some labels (e.g. ``{"B-CUE": 0.5}`` trades cue
    precision for recall). Folded into the ``inq`` context table, which every tagged token
    reads exactly once, so no new state is needed."""
    for label, b in bias.items():
        tagger.context_weights[0][:, LABELS.index(label)] += b
    tagger._init_runtime()
    return tagger


def export_agreement(
    tagger: AttributionTagger, crf: Any, docs: Sequence[tuple[str, Sequence[GoldAttribution]]]
) -> dict[str, int]:
    """How many tokens (and chunks) of ``docs`` the exported tagger labels as crfsuite does:
    the numpy Viterbi must reproduce the CRF it was exported from."""
    xs, _ = crf_sequences(tagger, docs)
    reference = crf.predict(xs)
    mine: list[list[str]] = []
    for text, _gold in docs:
        prep, labels = tagger.tag(text)
        chunks = prep["chunks"]
        for c in range(len(chunks.chunk_len)):
            start, size = int(chunks.chunk_start[c]), int(chunks.chunk_len[c])
            mine.append([LABELS[i] for i in labels[start : start + size]])
    same = sum(a == b for ours, theirs in zip(mine, reference, strict=True)
               for a, b in zip(ours, theirs, strict=True))
    return {
        "tokens_same": int(same),
        "tokens": int(sum(len(chunk) for chunk in reference)),
        "chunks_same": int(
            sum(ours == theirs for ours, theirs in zip(mine, reference, strict=True))
        ),
        "chunks": len(reference),
    }

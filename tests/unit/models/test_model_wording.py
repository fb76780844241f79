"""The wording block sees phrasing, never subject; evidence features are rates, not counts."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from model_samples import shared_model
from sklearn.preprocessing import StandardScaler

from models.article.evidence_features import (
    BASE_FEATURES,
    NEUTRAL_FEATURES,
    EvidenceFeatures,
    base_row,
    head_start,
)
from models.article.evidence_model import (
    EvidenceClaimModel,
    describe,
    flag_reasons,
    weighted_scaler,
    wording_reason,
)
from models.article.wording import (
    MAX_WORDING_CHARS,
    TAGGER_TOKENS,
    MaskedWording,
    keep_words,
    masked,
    readable,
)

KEEP = frozenset(keep_words(["claimed", "denied", "reported", "according"]))

RUMOUR = (
    "{a} reportedly plans to buy {b}, according to people familiar with the talks. "
    "The deal has not been confirmed. {a} denied it in a statement on Monday."
)
TOPICS = [("Apple", "Beats"), ("Gazprom", "Rosneft"), ("Škoda", "Mbappé")]


@pytest.fixture(scope="module")
def model() -> EvidenceClaimModel:
    return shared_model()


def test_masking_keeps_function_and_cue_words_and_hides_topic_words() -> None:
    text = "Apple denied the iPhone 6 bends, according to MacRumors' Zoë."
    assert masked(text, KEEP) == "_Cap denied the _w _num _w _p according to _Cap _p _Cap _p"
    assert "apple" not in masked(text, KEEP).lower()
    assert "iphone" not in masked(text, KEEP).lower()


def test_masking_reads_a_bounded_head_of_any_text() -> None:
    words = masked("word " * (MAX_WORDING_CHARS // 2), KEEP).split()
    assert 0 < len(words) <= MAX_WORDING_CHARS // 5 + 1


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=400))
def test_masked_output_is_made_of_kept_words_and_shapes(text: str) -> None:
    for token in masked(text, KEEP).split():
        assert token in KEEP or token in {"_Cap", "_w", "_num", "_p"} or len(token) == 1


def test_readable_terms_are_the_ones_without_placeholders() -> None:
    assert readable("according to") == "according to"
    assert readable("_Cap :") is None
    assert readable(", .") is None


def test_the_wording_block_is_the_same_whatever_the_story_is_about(
    model: EvidenceClaimModel,
) -> None:
    texts = [RUMOUR.format(a=a, b=b) for a, b in TOPICS]
    evidence = model.extract(texts)
    keep = keep_words(model.evidence.tagger.lexicon)
    features = EvidenceFeatures(wording_keep=keep, min_wording_articles=1).fit(evidence)
    rows = features.wording_rows(evidence)
    assert rows.shape[1] > 0
    assert np.abs(rows - rows[0]).max() == 0.0
    names = list(features.get_feature_names_out())
    assert len(names) == features.transform(evidence).shape[1] + rows.shape[1]
    assert not any(word.lower() in " ".join(names).lower() for pair in TOPICS for word in pair)


def test_without_wording_the_block_is_empty(model: EvidenceClaimModel) -> None:
    evidence = model.extract([RUMOUR.format(a="Apple", b="Beats")])
    features = EvidenceFeatures().fit(evidence)
    assert features.wording_rows(evidence).shape == (1, 0)


def test_evidence_rates_do_not_grow_with_the_length_of_an_article(
    model: EvidenceClaimModel,
) -> None:
    once = RUMOUR.format(a="Apple", b="Beats")
    twice = once + "\n\n" + RUMOUR.format(a="Apple", b="Beats")
    short, long = (base_row(item) for item in model.extract([once, twice]))
    rates = [i for i, name in enumerate(BASE_FEATURES) if name.startswith(("cue_", "attribution_"))]
    assert any(short[i] > 0 for i in rates)
    for i in rates:
        assert long[i] == pytest.approx(short[i], rel=0.01), BASE_FEATURES[i]


def test_a_wording_reason_names_the_phrase(model: EvidenceClaimModel) -> None:
    evidence = model.extract([RUMOUR.format(a="Apple", b="Beats")])[0]
    assert describe("wording=not been", evidence) == "worded \u201cnot been\u201d"
    assert describe("wording=_Cap denied", evidence) is None


def test_the_wording_block_is_one_reason_with_its_net_weight_and_phrases() -> None:
    names = ["wording=according to", "wording=_Cap :", "wording=the", "wording=was"]
    reason = wording_reason(names, np.array([0.5, 0.3, -0.2, 0.05]))
    assert reason is not None
    assert reason.contribution == pytest.approx(0.65)
    assert "\u201caccording to\u201d" in reason.text and "_Cap" not in reason.text
    assert "\u201cthe\u201d" not in reason.text  # it lowered the score
    assert wording_reason(names, np.array([0.1, 0.1, -0.5, 0.0])) is None
    assert wording_reason([], np.zeros(0)) is None


def test_reasons_rank_the_wording_block_among_the_evidence_by_weight(
    model: EvidenceClaimModel,
) -> None:
    evidence = model.extract([RUMOUR.format(a="Apple", b="Beats")])[0]
    names = ["cue_hedged_attribution", "cue_denial", "wording=not been", "wording=according to"]
    reasons = flag_reasons(names, np.array([0.2, 0.9, 0.3, 0.4]), evidence)
    assert [r.feature for r in reasons] == ["cue_denial", "wording", "cue_hedged_attribution"]
    assert reasons[1].contribution == pytest.approx(0.7)
    alone = flag_reasons(names, np.array([0.0, 0.0, 0.3, 0.4]), evidence)
    assert [r.feature for r in alone] == ["wording"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="aZé9_' \u2019\n.,\u0130\u00a0", max_size=80), min_size=1,
                max_size=6))
def test_the_fast_wording_block_equals_the_vectorizer_on_masked_text(
    model: EvidenceClaimModel, texts: list[str]
) -> None:
    features = model.features
    wording = features.wording_
    assert wording is not None
    fast = MaskedWording(frozenset(features.wording_keep), wording)
    keep = frozenset(features.wording_keep)
    expected = wording.transform([masked(text, keep) for text in texts]).toarray()
    assert np.array_equal(fast.rows(texts), expected)
    head = MaskedWording(keep, wording, limit=50)
    expected = wording.transform([masked(text, keep, limit=50) for text in texts]).toarray()
    assert np.array_equal(head.rows(texts), expected)


def test_the_fast_wording_block_is_used_and_never_persisted(model: EvidenceClaimModel) -> None:
    evidence = model.extract([RUMOUR.format(a="Apple", b="Beats")])
    features = model.features
    rows = features.wording_rows(evidence)
    keep = frozenset(features.wording_keep)
    assert features.wording_ is not None
    slow = features.wording_.transform(
        [masked(e.text, keep, features.wording_chars) for e in evidence]
    ).toarray()
    assert np.array_equal(rows, slow)
    assert isinstance(features.__dict__.get("_fast_wording_cache"), MaskedWording)
    assert "_fast_wording_cache" not in features.__getstate__()


def test_the_wording_block_reads_only_the_head_of_an_article(model: EvidenceClaimModel) -> None:
    features = model.features
    head = RUMOUR.format(a="Apple", b="Beats") + " The talks went on." * 200
    assert len(head) > features.wording_chars
    quoted = head + " Officials said it. He said so. They said that, he told reporters."
    plain = head + " It rained."
    rows = features.wording_rows(model.extract([head, quoted, plain]))
    assert np.array_equal(rows[0], rows[1])
    assert np.array_equal(rows[0], rows[2])
    short = features.wording_rows(model.extract([RUMOUR.format(a="Apple", b="Beats")]))
    assert not np.array_equal(short[0], rows[0])  # the head itself does count


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab1 -\u2010'\u2019sdmlrev\n.\u201c_")), max_size=80),
    st.integers(min_value=0, max_value=90),
)
@example("ab're x", 4)  # cut after "'r": the cut text reads "ab'r", one word
@example("ab-c", 3)
def test_the_tagger_tokens_of_a_head_are_those_of_the_cut_text(text: str, limit: int) -> None:
    """Tokens.head reuses the tagger's tokens of the whole text for its first ``limit``
    characters: the same tokens as matching the cut text, even where a word, a hyphen
    or a clitic is cut."""
    from models.evidence.attribution import TOKEN, Tokens, tokenize

    strings, _, ends = tokenize(text)
    assert Tokens(strings, ends, len(text)).head(text, limit) == TOKEN.findall(text, 0, limit)
    capped = text[: len(text) // 2]  # a tagger that read less than the head: matched anew
    strings, _, ends = tokenize(capped)
    assert Tokens(strings, ends, len(capped)).head(text, limit) == TOKEN.findall(text, 0, limit)


def test_tagger_token_wording_is_the_same_fast_or_slow(model: EvidenceClaimModel) -> None:
    features = copy.copy(model.features)
    features.wording_tokens = TAGGER_TOKENS
    features.__dict__.pop("_fast_wording_cache", None)
    texts = [RUMOUR.format(a=a, b=b) + " The US-led talks\u2019re on. 3D-printed." * 90
             for a, b in TOPICS] + ["", "US-led"]
    evidence = model.extract(texts)
    assert all(e.tokens is not None for e in evidence)
    fast = features.wording_rows(evidence)
    assert isinstance(features.__dict__.get("_fast_wording_cache"), MaskedWording)
    keep = frozenset(features.wording_keep)
    masked_texts = [masked(t, keep, features.wording_chars, TAGGER_TOKENS) for t in texts]
    assert "_Cap" in masked_texts[0].split()  # "US-led" is one token
    assert features.wording_ is not None
    assert np.array_equal(fast, features.wording_.transform(masked_texts).toarray())
    without = [replace(e, tokens=None) for e in evidence]  # evidence made elsewhere
    assert np.array_equal(features.wording_rows(without), fast)
    old = copy.copy(model.features)  # an artifact from before: word tokens, as trained
    old.__dict__.pop("wording_tokens", None)
    old.__dict__.pop("_fast_wording_cache", None)
    words = [masked(t, keep, old.wording_chars) for t in texts]
    assert np.array_equal(old.wording_rows(evidence), features.wording_.transform(words).toarray())


def test_dropping_the_neutral_features_leaves_their_columns_out(model: EvidenceClaimModel) -> None:
    evidence = model.extract([RUMOUR.format(a=a, b=b) for a, b in TOPICS])
    every = EvidenceFeatures(min_cue_articles=1).fit(evidence)
    fewer = EvidenceFeatures(min_cue_articles=1, drop_neutral=True).fit(evidence)
    names = list(fewer.get_feature_names_out())
    assert not set(NEUTRAL_FEATURES) & set(names)
    assert len(names) == len(every.get_feature_names_out()) - len(NEUTRAL_FEATURES)
    kept = [j for j, name in enumerate(BASE_FEATURES) if name not in NEUTRAL_FEATURES]
    for row, item in zip(fewer.transform(evidence), evidence, strict=True):
        assert np.array_equal(row[: len(kept)], np.asarray(base_row(item))[kept])


def test_the_weighted_scaler_scales_the_standardised_block() -> None:
    rows = np.random.default_rng(0).normal(3.0, 2.0, size=(40, 5))
    rows[:, 4] = 1.0  # a constant column stays 0
    plain = StandardScaler().fit_transform(rows)
    assert np.allclose(weighted_scaler(rows, 0.5).transform(rows), 0.5 * plain)
    with pytest.raises(ValueError, match="positive"):
        weighted_scaler(rows, 0.0)


@pytest.mark.parametrize(
    ("first_line", "starts_at"),
    [
        ("Iraq News - Local News - Baghdadpost", 1),
        ("Home | World | Middle East", 1),
        ("Trump - Clinton debate: the claims checked", 0),  # one separator: a headline
        ("Officials deny the report - again - in Paris.", 0),  # a sentence
    ],
)
def test_the_head_starts_after_a_navigation_line(
    model: EvidenceClaimModel, first_line: str, starts_at: int
) -> None:
    body = "The ministry reportedly denied it. The claim could not be verified."
    evidence = model.extract([f"{first_line}\n\n{body}"])[0]
    assert head_start(evidence) == starts_at


def test_a_breadcrumb_line_does_not_change_the_head_features(model: EvidenceClaimModel) -> None:
    lede = (
        "Militants again claim they fought troops, army denies\n\n"
        "A group said on Monday it had attacked a patrol. The army said it was routine. "
        "Officials met on Tuesday. The weather was fine. The group allegedly filmed it."
    )
    plain, framed = model.extract([lede, "Iraq News - Local News - Site\n\n" + lede])
    head = [j for j, name in enumerate(BASE_FEATURES) if name.startswith("head_")]
    assert np.array_equal(np.asarray(base_row(plain))[head], np.asarray(base_row(framed))[head])

"""Signal extractor: exact spans, categories, negation, Unicode, pathological input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.evidence.lexicon import CATEGORIES
from models.evidence.signals import MAX_CUES, extract_signals


def cue_at(text: str, phrase: str, occurrence: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(phrase, start + 1)
    return start, start + len(phrase)


DESIGN = (
    "IMIS, a militia group, claimed on Tuesday that its fighters confronted US troops. "
    "The US-led coalition denied that any confrontation took place. "
    "Footage allegedly shows the clash."
)


def test_design_example_spans_categories_and_sentences() -> None:
    found = extract_signals(DESIGN)
    got = [(c.text, c.category, c.start, c.end, c.sentence) for c in found.cues]
    assert got == [
        ("claimed", "claim", *cue_at(DESIGN, "claimed"), 0),
        ("denied", "denial", *cue_at(DESIGN, "denied"), 1),
        ("allegedly", "hedged_attribution", *cue_at(DESIGN, "allegedly"), 2),
    ]
    for cue in found.cues:
        assert DESIGN[cue.start : cue.end] == cue.text
    first = DESIGN.index("The US-led")
    assert [(s.index, s.start, s.end) for s in found.sentences] == [
        (0, 0, first - 1),
        (1, first, DESIGN.index("Footage") - 1),
        (2, DESIGN.index("Footage"), len(DESIGN)),
    ]


def test_design_example_pair_names_both_parties() -> None:
    pairs = extract_signals(DESIGN).pairs
    assert len(pairs) == 1
    pair = pairs[0]
    assert (pair.claim_sentence, pair.denial_sentence) == (0, 1)
    assert pair.claimant == "IMIS"
    assert pair.denier == "The US-led coalition"


def test_inflections_and_case() -> None:
    text = "He DENIES it. They Refuted it. She was Reportedly there. It is said to work."
    found = extract_signals(text)
    assert [(c.text, c.category) for c in found.cues] == [
        ("DENIES", "denial"),
        ("Refuted", "denial"),
        ("Reportedly", "hedged_attribution"),
        ("is said to", "hedged_attribution"),
    ]


def test_multiword_phrases_across_newlines_and_categories() -> None:
    text = "The video could not be\nindependently verified. Critics say it is fake; some say so."
    found = extract_signals(text)
    assert [(c.text, c.category) for c in found.cues] == [
        ("could not be\nindependently verified", "unverified"),
        ("Critics say", "weasel"),
        ("some say", "weasel"),
    ]
    assert found.cues[0].start == 10
    assert found.cues[0].end == text.index(".")


def test_negation_flips_denial_and_is_not_counted() -> None:
    text = "The ministry did not deny the report. Officials never disputed it. Police denied it."
    found = extract_signals(text)
    flags = [(c.text, c.negated) for c in found.cues]
    assert flags == [("deny", True), ("disputed", True), ("denied", False)]
    assert found.counts["denial"] == 1
    assert found.counts["dispute"] == 0
    assert found.negated_counts["denial"] == 1


def test_unicode_apostrophe_negation_curly_quotes_and_dashes() -> None:
    text = (
        "\u201cIt never happened,\u201d the army insisted \u2014 it didn\u2019t deny "
        "the raid\u2026  Then it denied it."
    )
    found = extract_signals(text)
    cues = {(c.text, c.negated) for c in found.cues}
    assert ("insisted", False) in cues
    assert ("deny", True) in cues
    assert ("denied", False) in cues
    insisted = next(c for c in found.cues if c.text == "insisted")
    assert (insisted.start, insisted.end) == cue_at(text, "insisted")


def test_inverted_quote_attribution_names_party() -> None:
    text = "Rebels attacked the base, a statement claimed. “No attack happened,” the army denied."
    pair = extract_signals(text).pairs[0]
    assert pair.denier == "the army"


def test_words_inside_other_words_are_not_cues() -> None:
    assert extract_signals("The claimant's denialism and reclaimed land.").cues == []


@pytest.mark.timeout(60)  # a backtracking pattern would take hours on these, not seconds
def test_pathological_input_is_linear_and_bounded() -> None:
    for text in (
        "allegedly " * 100_000,
        "." * 300_000,
        " " * 300_000,
        "a." * 150_000,
        "could" + " " * 200_000 + "not",
        "claimed. denied. " * 20_000,
    ):
        found = extract_signals(text)
        assert len(found.cues) <= MAX_CUES
        assert len(found.pairs) <= 10
    many = extract_signals("allegedly " * 100_000)
    assert many.counts["hedged_attribution"] == 100_000
    assert many.truncated


ATOMS = [
    *"ab .,!?\u201c\u201d\u2019'\u2014\n",
    "\n\n",
    "could not be\n\nverified",
    "denied ",
    "claimed ",
    "not ",
    "allegedly ",
    "could not be verified",
    "\u0130",
    "\u00df",
    "Mr. ",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(ATOMS), max_size=60).map("".join))
def test_property_spans_are_exact_and_in_sentences(text: str) -> None:
    found = extract_signals(text)
    sentences = {s.index: s for s in found.sentences}
    for cue in found.cues:
        assert text[cue.start : cue.end] == cue.text
        assert cue.category in CATEGORIES
        sentence = sentences[cue.sentence]
        assert sentence.start <= cue.start < cue.end <= sentence.end
        assert text[sentence.start : sentence.end] == sentence.text
    assert sum(found.counts.values()) + sum(found.negated_counts.values()) >= len(found.cues)
    for pair in found.pairs:
        assert pair.claim_sentence in sentences and pair.denial_sentence in sentences


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_property_deterministic_on_any_text(text: str) -> None:
    assert extract_signals(text) == extract_signals(text)


def _first_letters(parsed: object) -> set[str]:
    """First characters a parsed regex can match (enough of sre's grammar for the lexicon)."""
    from re import _constants as c  # type: ignore[attr-defined]

    items = list(parsed)  # type: ignore[call-overload]
    op, av = items[0]
    if op is c.LITERAL:
        return {chr(av)}
    if op is c.SUBPATTERN:
        return _first_letters(av[3])
    if op is c.BRANCH:
        return set().union(*(_first_letters(branch) for branch in av[1]))
    raise AssertionError(f"unexpected regex start {op}")


def test_first_letter_lookahead_covers_every_phrase() -> None:
    from re import _parser  # type: ignore[attr-defined]

    from models.evidence.lexicon import _PHRASES, FIRST_LETTERS

    for phrases in _PHRASES.values():
        for phrase in phrases:
            assert _first_letters(_parser.parse(phrase)) <= set(FIRST_LETTERS), phrase


def test_text_whose_lowercase_is_longer_keeps_exact_spans() -> None:
    text = "\u0130stanbul officials DENIED it; \u0130 reportedly left."
    found = extract_signals(text)
    assert [(c.text, text[c.start : c.end]) for c in found.cues] == [
        ("DENIED", "DENIED"),
        ("reportedly", "reportedly"),
    ]


def test_parties_from_inverted_quote_passive_and_clause_start() -> None:
    text = (
        "\u201cWe shot down the drone,\u201d the rebels claimed on Sunday. "
        "The claim was denied by the Defence Ministry. "
        "But NATO disputed the drone claim."
    )
    pairs = extract_signals(text).pairs
    assert [(p.claim_sentence, p.denial_sentence) for p in pairs] == [(0, 1), (0, 2)]
    assert pairs[0].claimant == "the rebels"
    assert pairs[0].denier == "the Defence Ministry"
    assert pairs[1].denier == "NATO"


def test_negated_cues_make_no_pair() -> None:
    found = extract_signals("He claimed it. He did not deny it. She never disputed it.")
    assert found.pairs == []


@pytest.mark.parametrize(
    ("text", "cue", "category"),
    [
        ("A source told the paper he had left.", "A source told", "hedged_attribution"),
        ("Sources said the deal was off.", "Sources said", "hedged_attribution"),
        ("The suspected gunman fled.", "suspected", "hedged_attribution"),
        ("The allegations surfaced on Monday.", "allegations", "claim"),
        ("The ministry declined to comment.", "declined to comment", "unverified"),
        ("He didn't respond to requests.", "didn't respond", "unverified"),
        ("It is unclear whether the video is real.", "unclear whether", "unverified"),
        ("It was not clear if anyone was hurt.", "not clear if", "unverified"),
    ],
)
def test_cues_added_from_the_fnc_document_rates(text: str, cue: str, category: str) -> None:
    # models.training.cue_rates: each is common in contested FNC-1 bodies, rare in asserted
    found = [(c.text, c.category) for c in extract_signals(text).cues]
    assert (cue, category) in found


def test_secondhand_reporting_cues_with_exact_spans() -> None:
    text = (
        "The daily reported that the deal was off, citing two officials. "
        "It has been reported since May. Reports say the talks failed, "
        "according to local reports and sources familiar with the matter."
    )
    found = extract_signals(text)
    expected = [
        "reported that", "citing", "has been reported", "Reports say",
        "according to local reports", "sources familiar with",
    ]
    assert [(c.text, c.category) for c in found.cues] == [
        (phrase, "secondhand") for phrase in expected
    ]
    for cue, phrase in zip(found.cues, expected, strict=True):
        assert (cue.start, cue.end) == cue_at(text, phrase)


def test_secondhand_leaves_out_what_measured_no_signal() -> None:
    found = extract_signals("No injuries were reported. She told Sky News she was fine.")
    assert found.cues == []


def test_v1_keeps_the_categories_it_was_trained_on() -> None:
    from models.article.features import _FEATURE_NAMES
    from models.evidence.lexicon import V1_CATEGORIES

    assert V1_CATEGORIES == (
        "hedged_attribution", "claim", "denial", "dispute", "unverified", "weasel",
    )
    assert CATEGORIES[: len(V1_CATEGORIES)] == V1_CATEGORIES
    assert not any("secondhand" in name for name in _FEATURE_NAMES)

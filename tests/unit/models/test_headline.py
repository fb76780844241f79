"""Headline-style cues: which headlines pass a claim on, the exact spans, and what is
never one (a body's paragraph, a question asking why, "said to reporters")."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.evidence.headline import MAX_HEADLINE_CHARS, headline_bounds, headline_cues
from models.evidence.signals import extract_signals
from models.evidence.spans import sentence_starts


def cues(text: str) -> list[tuple[str, str]]:
    return [(cue.category, cue.text) for cue in headline_cues(text, sentence_starts(text))]


@pytest.mark.parametrize(
    ("headline", "expected"),
    [
        ("Report: Amazon to Launch Ad-Supported Streaming Service", [("secondhand", "Report")]),
        ("REPORTS: JORDANIAN KING FLYING SORTIES", [("secondhand", "REPORTS")]),
        ("Report\u2014Jose Canseco accidentally shot at his home", [("secondhand", "Report")]),
        ("Canadian Soldier Shot At Ottawa War Memorial: Report", [("secondhand", "Report")]),
        ("Future Apple Watches could include platinum models - report",
         [("secondhand", "report")]),
        ("Apple forced to nix health features -- report", [("secondhand", "report")]),
        ("ISIS fighters have contracted Ebola: Iraqi, Kurdish Media Reports",
         [("secondhand", "Iraqi, Kurdish Media Reports")]),
        ("US officials: Video shows American's execution",
         [("hedged_attribution", "US officials")]),
        ("New Audio Reveals Pause in Gunfire: Attorney", [("hedged_attribution", "Attorney")]),
        ("Luke Somers Is Killed in Yemen, U.S. Official Says",
         [("hedged_attribution", "U.S. Official Says")]),
        ("Vice Media Chief Said to Pay $300,000 for Dinner",
         [("hedged_attribution", "Said to")]),
        ("Female fighter said abducted by Islamic State", [("hedged_attribution", "said")]),
        ("Pentagon: ISIS seized materials airdropped to Kurds",
         [("hedged_attribution", "Pentagon")]),
        ("Hostage Killed During Yemen Rescue Bid: Family", [("hedged_attribution", "Family")]),
        ("James Foley Apparently Executed by ISIS", [("unverified", "Apparently")]),
        ("James Foley (apparently) executed", [("unverified", "apparently")]),
        ("ISIS Appears To Behead American Photojournalist", [("unverified", "Appears To")]),
        ("Macaulay Culkin Dead?", [("unverified", "Macaulay Culkin Dead?")]),
        ("CNN audio: Is this the moment Michael Brown was shot?",
         [("unverified", "CNN audio: Is this the moment Michael Brown was shot?")]),
    ],
)
def test_headline_forms_and_their_exact_text(
    headline: str, expected: list[tuple[str, str]]
) -> None:
    assert cues(headline) == expected
    text = f"{headline}\n\nThe body follows. It says more."
    found = headline_cues(text, sentence_starts(text))
    assert [(c.category, c.text) for c in found] == expected
    for cue in found:
        assert text[cue.start : cue.end] == cue.text
        assert cue.sentence == 0


@pytest.mark.parametrize(
    "headline",
    [
        "Ottawa shooting: Slain soldier named as Nathan Cirillo",
        "BREAKING: ISIS Beheads American Journalist",
        "What will it take for the Senate to pass gun control?",
        "As Its Rivals Pair Up, Will Twitter Be Next?",
        "Could Kim Jong Un open a restaurant in Scotland?",
        "Money makes the world go round, right?",
        "Obama said to reporters that the deal was done",
        "Obama said Tuesday the deal was done",
        "Said abducted by rebels",  # a name, not headlinese "X said abducted"
        "Ottawa shooting: family mourns slain soldier",
        "Apple reports record profits",
        "Mexico says missing students not found in graves",
    ],
)
def test_what_is_not_a_headline_cue(headline: str) -> None:
    assert cues(headline) == []


def test_only_the_headline_line_is_read() -> None:
    body_question = "Is this real? Nobody knows.\n\nReport: nothing here."
    assert cues(body_question) == []  # a sentence of the line ends with a period
    paragraph = "The minister spoke on Monday. Was it true?\n\nMore text."
    assert cues(paragraph) == []
    later = "Apple unveils a watch\n\nReport: the watch ships in March?"
    assert cues(later) == []  # a credit in the body is not the headline's


def test_a_navigation_line_is_skipped() -> None:
    text = "News - World - Middle East\nISIS leader dead?\n\nBody text here."
    assert cues(text) == [("unverified", "ISIS leader dead?")]
    start, end = headline_bounds(text) or (0, 0)
    assert text[start:end] == "ISIS leader dead?"


def test_a_long_first_line_is_not_a_headline() -> None:
    line = "Report: " + "word " * (MAX_HEADLINE_CHARS // 5)
    assert headline_bounds(line) is None
    assert cues(line) == []


def test_signals_carry_headline_cues_counted_and_in_order() -> None:
    text = "Report: Kim Jong-un had ankle surgery\n\nOfficials denied it on Monday."
    found = extract_signals(text)
    assert [(c.text, c.category) for c in found.cues] == [
        ("Report", "secondhand"), ("denied", "denial"),
    ]
    assert found.counts["secondhand"] == 1
    assert [c.text for c in extract_signals(text, headline=False).cues] == ["denied"]


def test_a_lexicon_cue_wins_over_an_overlapping_headline_cue() -> None:
    found = extract_signals("Reports say Kim Jong-un is ill: report")
    assert [(c.text, c.category) for c in found.cues] == [
        ("Reports say", "secondhand"), ("report", "secondhand"),
    ]
    # a question is the sentence's form, not its words: a lexicon cue inside it stays
    # a cue of its own, and so does the question
    found = extract_signals("Are rumors of the Apple Watch true?")
    assert [(c.text, c.category) for c in found.cues] == [
        ("Are rumors of the Apple Watch true?", "unverified"), ("rumors", "weasel"),
    ]
    assert found.counts["unverified"] == 1 and found.counts["weasel"] == 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab ?:-\u2014,.'\"\nRrpeotsaid")), max_size=400))
def test_property_never_raises_and_stays_in_the_first_line(text: str) -> None:
    starts = sentence_starts(text)
    bounds = headline_bounds(text)
    for cue in headline_cues(text, starts):
        assert bounds is not None
        assert bounds[0] <= cue.start < cue.end <= bounds[1]
        assert text[cue.start : cue.end] == cue.text
        assert 0 <= cue.sentence < len(starts)


def test_a_long_text_or_a_long_line_reads_one_bounded_line() -> None:
    body = "word " * 200_000
    assert cues("Report: x?\n" + body) == cues("Report: x?\n" + body[:50])
    no_break = "Report: " + body  # no line break at all: no headline, nothing read past it
    assert headline_bounds(no_break) is None

"""The evidence models as a reviewer meets them: exact spans, parties, bounds.

Expectations come from the texts (what a reader sees in them), never from running
the model: a span must be the very characters of the text it names, a cue "said"
sits where "said" is, a date is never a party.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_samples import shared_model

from models.article.evidence_features import base_row
from models.article.evidence_model import EvidenceClaimModel
from models.evidence import evidence as evidence_module
from models.evidence.attribution import (
    LABELS,
    MAX_SENTENCES,
    MAX_TOKENS_PER_CHUNK,
    TOKEN,
    Attribution,
    Chunks,
    Span,
    tokenize,
)
from models.evidence.evidence import MAX_ATTRIBUTIONS, ArticleEvidence, with_subject_sources
from models.evidence.hedge import MAX_CHARS, prepare
from models.evidence.parties import (
    agent_party,
    agent_span,
    party_kind,
    party_name,
    subject_party,
    subject_span,
)
from models.evidence.spans import sentence_span, sentence_starts, sentence_texts

SEED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "seed"


@pytest.fixture(scope="module")
def model() -> EvidenceClaimModel:
    return shared_model()


def evidence_of(model: EvidenceClaimModel, text: str) -> ArticleEvidence:
    [found] = model.extract([text])
    return found


def spans_of(evidence: ArticleEvidence) -> list[tuple[str, int, int]]:
    found = []
    for attribution in evidence.attributions:
        for span in (attribution.source, attribution.cue, attribution.content):
            if span is not None:
                found.append((span.text, span.start, span.end))
    return found


def assert_exact_spans(evidence: ArticleEvidence) -> None:
    starts = sentence_starts(evidence.text)
    for text, start, end in spans_of(evidence):
        assert evidence.text[start:end] == text
    for attribution in evidence.attributions:
        assert 0 <= attribution.sentence < len(starts)
        if attribution.cue is not None:
            # the attribution's sentence is the sentence its cue is in
            cue_sentence = max(i for i, s in enumerate(starts) if s <= attribution.cue.start)
            assert attribution.sentence == cue_sentence


def test_a_plain_attribution_is_found_at_its_exact_characters(model: EvidenceClaimModel) -> None:
    text = 'The mayor said the bridge would reopen. "It is safe," the engineer told reporters.'
    found = evidence_of(model, text)
    cues = {(a.cue.text, a.cue.start) for a in found.attributions if a.cue is not None}
    assert ("said", text.index("said")) in cues
    assert_exact_spans(found)
    sources = [a.source.text for a in found.attributions if a.source is not None]
    assert any("mayor" in source for source in sources)


@pytest.mark.parametrize(
    "text",
    [
        "Le ministre a dit: \u00ab c\u2019est faux \u00bb. Mr. M\u00fcller said "
        "Z\u00fcrich\u2019s caf\u00e9 was \u201cclosed\u201d.",
        "\u201cWe never saw it,\u201d said Ana Lucía Pérez.\n\nShe added that it was 🚧 unsafe.",
        'Officials said "the patrol was routine.\nThere was no confrontation," the colonel said.',
        "ÉDITO — Ibn Saʿūd stated that\u00a0the claims were baseless.",
    ],
)
def test_spans_index_the_text_exactly_with_unicode_and_quotes(
    model: EvidenceClaimModel, text: str
) -> None:
    assert_exact_spans(evidence_of(model, text))


def test_record_spans_are_offsets_into_the_scored_text(model: EvidenceClaimModel) -> None:
    text = (SEED / "000_87b075374c3535e4.txt").read_text(encoding="utf-8")
    found = evidence_of(model, text)
    for record in found.attribution_records():
        for role in ("source", "cue", "content"):
            span = record[role]
            if span is not None:
                assert text[span["start"] : span["end"]] == span["text"]
    for sentence in found.sentence_records():
        assert text[sentence["start"] : sentence["end"]] == sentence["text"]
        assert sentence["hedge"] is None or 0.0 <= sentence["hedge"] <= 1.0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=600))
def test_extraction_never_raises_and_spans_stay_exact(text: str) -> None:
    model = shared_model()
    found = evidence_of(model, text)
    assert len(found.attributions) <= MAX_ATTRIBUTIONS
    assert len(found.hedge) <= len(sentence_starts(text))
    assert_exact_spans(found)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["said", "claimed", "denied", "according to", '"', "\u201c", "\u201d", ",", ".",
             "the", "IMIS", "officials", "no", "reportedly", "\n\n", ":", "told", "CNN"]
        ),
        max_size=300,
    )
)
def test_cue_dense_word_salad_stays_exact(words: list[str]) -> None:
    model = shared_model()
    assert_exact_spans(evidence_of(model, " ".join(words)))


_SALAD = st.lists(
    st.sampled_from(
        ["said", "claimed", "denied", "according to", '"', "\u201c", "\u201d", ",", ".", "the",
         "IMIS", "officials", "no", "\n\n", "\n", ":", "told", "CNN", "Mr.", "?", " "]
    ),
    max_size=120,
).map(" ".join)


@settings(max_examples=40, deadline=None)
@given(st.lists(_SALAD, max_size=6))
def test_a_batch_tags_each_article_as_alone(texts: list[str]) -> None:
    """extract_many lays a batch's articles end to end for its numpy work: no quotation,
    sentence or chunk may carry from one article into the next."""
    tagger = shared_model().evidence.tagger
    assert tagger.extract_many(texts) == [tagger.extract(text) for text in texts]
    for text in texts:  # also with an unclosed quotation before it
        batch = ['He said "no', text, "\u201cYes", text]
        assert tagger.extract_many(batch)[1] == tagger.extract(text)
        assert tagger.extract_many(batch)[3] == tagger.extract(text)


def test_emissions_in_blocks_are_those_of_the_whole_batch(
    model: EvidenceClaimModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    import models.evidence.attribution as attribution

    [seed_file] = sorted(SEED.glob("*.txt"))
    seed = seed_file.read_text(encoding="utf-8")
    texts = [seed, seed[: len(seed) // 3], "", "He said no.", seed]
    tagger = model.evidence.tagger
    whole = tagger.extract_many(texts)
    for size in (1, 7, 150):  # a block always takes whole chunks, at least one
        monkeypatch.setattr(attribution, "EMISSION_BLOCK_TOKENS", size)
        assert tagger.extract_many(texts) == whole
    assert whole == [tagger.extract(text) for text in texts]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from(
                ["It", "may", "be", "said", "\u2019s", "\u201cno\u201d", "\u2014", "well-known",
                 "\u0130stanbul", "caf\u00e9", "x" * 40, ".", "?", "\n\n", "\u00a0", "some"]
            ),
            max_size=60,
        ).map(" ".join),
        max_size=4,
    ),
    st.integers(min_value=1, max_value=8),
)
def test_hedge_probabilities_read_in_place_are_those_of_the_cut_sentences(
    texts: list[str], limit: int
) -> None:
    """predict_proba_of matches tokens in the article where that is exact (short sentences,
    offsets kept by lower-casing) and cuts the others out: the same probabilities as
    predict_proba of sentence_texts, bit for bit."""
    hedge = shared_model().evidence.hedge
    starts = [sentence_starts(text) for text in texts]
    got = hedge.predict_proba_of(texts, starts, limit)
    for text, article_starts, probabilities in zip(texts, starts, got, strict=True):
        expected = hedge.predict_proba(sentence_texts(text, article_starts, limit))
        assert np.array_equal(probabilities, expected)


def test_hedge_in_place_covers_long_sentences_and_changed_lengths() -> None:
    hedge = shared_model().evidence.hedge
    long = "Some say it is \u2014 reportedly \u2014 true" + " and more" * 130 + " maybe."
    texts = [long + " It may be so.", "\u0130stanbul officials said it may be true. No."]
    starts = [sentence_starts(text) for text in texts]
    assert len(long) > 1000 and len("\u0130".lower()) == 2  # both leave the in-place path
    got = hedge.predict_proba_of(texts, starts, 400)
    for text, article_starts, probabilities in zip(texts, starts, got, strict=True):
        assert np.array_equal(probabilities, hedge.predict_proba(
            sentence_texts(text, article_starts, 400)))


def test_huge_inputs_are_bounded(model: EvidenceClaimModel) -> None:
    no_breaks = "officials said the claim was denied " * 5_600  # ~200 KB, one sentence
    many = "He said no. " * 16_000  # ~190 KB, 16,000 sentences
    for text in (no_breaks, many):
        found = evidence_of(model, text)
        assert len(found.attributions) <= MAX_ATTRIBUTIONS
        assert_exact_spans(found)
    assert MAX_TOKENS_PER_CHUNK <= 200 and MAX_SENTENCES <= 2000
    assert len(prepare("x" * 200_000)) == MAX_CHARS


def test_hedge_probabilities_rank_hedged_sentences_first(model: EvidenceClaimModel) -> None:
    hedged = "It is widely believed that the minister may have been involved."
    plain = "The match ended 2-1 on Saturday."
    probabilities = model.evidence.hedge.predict_proba([hedged, plain])
    assert probabilities.shape == (2,)
    assert probabilities[0] > model.evidence.hedge_threshold > probabilities[1]


@pytest.mark.parametrize(
    ("span", "name", "kind"),
    [
        ("The US-led coalition fighting against ISIS in Syria and Iraq", "US-led coalition",
         "organisation"),
        ("Col. Sean Ryan, a spokesperson for the US-led coalition,", "Col. Sean Ryan", "person"),
        ("by, Voice of America", "Voice of America", "media"),
        ("the Emirates247 news website", "Emirates247 news website", "media"),
        ("officials", "officials", "anonymous"),
        ("US", "US", "organisation"),
        ("al-Shabaki,", "al-Shabaki", "person"),
        # the phrase naming the party ends at a verb, a participle or a clause
        ("Rebel spokesmen have denied", "Rebel spokesmen", "anonymous"),
        ("the FBI has yet to comment", "FBI", "organisation"),
        ("Gov. Ann Lee dismissed", "Gov. Ann Lee", "person"),
        ("Regional officials cast doubt", "Regional officials", "anonymous"),
        ("The ministry maintains that", "ministry", "organisation"),
        ("Gov. Ann Lee confirmed", "Gov. Ann Lee", "person"),
        ("the Interior Ministry flatly", "Interior Ministry", "organisation"),
        ("Israel's ruling party", "Israel's ruling party", "organisation"),
        # a sentence opener in front of the span is not part of the name
        ("However, the Pentagon", "Pentagon", "organisation"),
        ("With Mrs. Clinton", "Mrs. Clinton", "person"),
        # "post" is a document ("a Facebook post"), but a newspaper's name may end in it
        ("The Washington Post", "Washington Post", "media"),
    ],
)
def test_a_source_span_names_its_party(span: str, name: str, kind: str) -> None:
    assert party_name(span) == name
    assert party_kind(name) == kind


@pytest.mark.parametrize(
    "span",
    [
        "Monday", "Iraq Monday", "confrontation", "a press conference Saturday", "2019",
        "last week", "Iraq",
        # openers, quantifiers and clauses that a tagger can leave as a source span
        "However", "Meanwhile", "But", "Perhaps", "On 6 November 2014", "In Iraq", "Some",
        "Several", "And despite whatever the mayor thinks", "no matter how often the papers",
        "a Facebook post", "Post", "Video",
    ],
)
def test_dates_places_and_common_nouns_are_never_parties(span: str) -> None:
    assert party_name(span) is None


@pytest.mark.parametrize("name", ["I", "I'll", "It\u2019s", "they"])
def test_pronouns_and_their_contractions_are_pronouns(name: str) -> None:
    assert party_kind(name) == "pronoun"


def test_the_subject_of_a_cue_verb_is_its_party() -> None:
    text = "The US-led coalition fighting against ISIS in Syria and Iraq Monday denied it."
    assert subject_party(text, 0, text.index("denied")) == "US-led coalition"
    noun = "He rejected the claims."
    assert subject_party(noun, 0, noun.index("claims")) is None


@pytest.mark.parametrize(
    ("sentence", "cue", "agent"),
    [
        ("The claim was denied by the US-led coalition on Monday.", "denied",
         "US-led coalition"),
        ("The claim was flatly denied on Monday by Col. Sean Ryan.", "denied", "Col. Sean Ryan"),
        ("The story was first reported by The Washington Post.", "reported", "Washington Post"),
        ("The report has been rejected by the U.S.", "rejected", "U.S."),
        # not a passive, "by" too far or in another clause, or no party after it
        ("The coalition denied by text the claim.", "denied", None),
        ("It was rejected, by all accounts, by Iraq.", "rejected", None),
        ("It was denied by Iraq.", "denied", None),
        ("The claim was denied in a long statement issued late on Monday evening by Iraq's "
         "ministry.", "denied", None),
    ],
)
def test_a_passive_cue_names_its_agent(sentence: str, cue: str, agent: str | None) -> None:
    start = sentence.index(cue)
    assert agent_party(sentence, start, start + len(cue), len(sentence)) == agent
    found = agent_span(sentence, start, start + len(cue), len(sentence))
    assert (found is None) == (agent is None)
    assert found is None or sentence[found[0] : found[1]] == agent


def test_a_passive_denial_pairs_with_its_agent(model: EvidenceClaimModel) -> None:
    text = ("IMIS claimed on Sunday that its fighters attacked an American patrol near Mosul. "
            "The claim was denied by the US-led coalition on Monday.")
    found = evidence_of(model, text)
    assert [(p.claimant, p.denier) for p in found.pairs] == [("IMIS", "US-led coalition")]


def test_a_media_report_is_the_claim_a_denial_answers(model: EvidenceClaimModel) -> None:
    text = ("The Washington Post reported that the minister had resigned. "
            "The ministry denied the report.")
    found = evidence_of(model, text)
    assert [p.claimant for p in found.pairs] == ["Washington Post"]


def test_the_subject_span_is_where_the_subject_stands() -> None:
    text = (
        "Turnout fell. Derek Mitchell, who served as U.S. ambassador to Burma from 2012 "
        "until earlier this year, said Clinton reached out."
    )
    found = subject_span(text, text.index("Derek"), text.index(" said") + 1)
    assert found is not None and text[found[0] : found[1]] == "Derek Mitchell"
    quoted = "\u201cIt was routine,\u201d Col. Sean Ryan told VOA."
    found = subject_span(quoted, 0, quoted.index("told"))
    assert found is not None and quoted[found[0] : found[1]] == "Col. Sean Ryan"
    for text, cue in (("He rejected the claims.", "claims"), ("On Monday said it.", "said")):
        assert subject_span(text, 0, text.index(cue)) is None


def test_a_cue_without_a_source_takes_its_subject_as_source() -> None:
    text = "The ministry said nothing. Maria Lopez, the treasurer, denied it. Officials agreed."
    said, denied = text.index("said"), text.index("denied")
    starts = sentence_starts(text)
    agreed = text.index("agreed")
    given_source = Span("Officials", agreed - 10, agreed - 1)
    attributions = [
        Attribution("statement", 0, None, Span("said", said, said + 4), None),
        Attribution("denial", 1, None, Span("denied", denied, denied + 6), None),
        Attribution("statement", 2, given_source, Span("agreed", agreed, agreed + 6), None),
        Attribution("claim", 1, None, None, None),
    ]
    out = with_subject_sources(text, starts, attributions)
    assert [a.source.text if a.source else None for a in out] == [
        "ministry", "Maria Lopez", "Officials", None,
    ]
    for attribution in out:
        if attribution.source is not None:
            source = attribution.source
            assert text[source.start : source.end] == source.text
    assert [a.cue for a in out] == [a.cue for a in attributions]


def test_subject_sources_change_the_record_not_the_features(
    model: EvidenceClaimModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (
        "Derek Mitchell, who served as U.S. ambassador to Burma from 2012 until earlier "
        "this year, said Clinton reached out to McConnell in 2009. The State Department "
        "denied the account, and Mitchell, who now teaches at a university in Ohio, "
        "insisted it was accurate."
    )
    with_subjects = evidence_of(model, text)
    monkeypatch.setattr(evidence_module, "with_subject_sources", lambda _t, _s, found: found)
    without = evidence_of(model, text)
    assert with_subjects.parties == without.parties
    assert with_subjects.pairs == without.pairs
    rows = [base_row(with_subjects), base_row(without)]
    assert rows[0] == rows[1]
    sources = [a.source for a in with_subjects.attributions]
    assert sum(a.source is None for a in without.attributions) > sum(s is None for s in sources)
    assert any(s is not None and s.text == "Derek Mitchell" for s in sources)


def test_a_pronoun_source_takes_the_preceding_named_party(model: EvidenceClaimModel) -> None:
    text = (
        "Maria Lopez, the city's treasurer, said the audit was complete. "
        "She said the figures were accurate."
    )
    found = evidence_of(model, text)
    named = [p.name for p in found.parties if p is not None]
    assert named and all(name == "Maria Lopez" for name in named)
    assert np.all(found.hedge >= 0)


def test_type_rows_are_the_sums_of_their_attribute_weights(model: EvidenceClaimModel) -> None:
    # the tagger scores new word types in one sparse product; each row must still be the
    # plain sum of the weights of that type's attributes at that offset (crfsuite's score)
    import copy

    from models.evidence.attribution import type_attributes

    tagger = copy.deepcopy(model.evidence.tagger)
    words = ["said", "Obama", "denied", "zzqx-unseen", "\u201c", "according", "U.S."]
    tagger._add_types(words)
    for word in words:
        row = tagger._type_id[word]
        attrs = type_attributes(word, tagger._lex, tagger._rates)
        for k, names in enumerate(attrs):
            rows = [tagger._attr_index[a] for a in names if a in tagger._attr_index]
            expected = tagger._weights[rows].sum(axis=0) if rows else np.zeros(7)
            np.testing.assert_allclose(tagger._table[k, row], expected, rtol=1e-9, atol=1e-12)


def test_type_rows_found_by_family_are_those_of_the_attribute_strings() -> None:
    # _add_types finds a word's attribute rows family by family; they must be exactly the
    # rows type_attributes names, summed in the same order (bit for bit), cue rates included
    from models.evidence.attribution import build_tagger, type_attributes
    from models.training.attribution import set_rates

    words = ["said", "Said", "SAID", "Obama", "U.S.", "2016", "a1B2", "\u201c", '"', "'s",
             "\u0130stanbul", "\ufb01nancial", "\u01c5emal", "\u03a3\u0391\u03a3", "=",
             "x" * 40, "claims", "denied", "unseen-type"]
    rates = {"said": 3, "claims": 1, "denied": 0}
    names = sorted({
        a for w in words[:-1]
        for offset in type_attributes(w, frozenset({"said", "denied"}), rates) for a in offset
    })
    rng = np.random.default_rng(0)
    state = {(a, label): float(rng.normal()) for a in names for label in LABELS}
    tagger = build_tagger(state, {}, ["said", "denied"], ["said"], True, 0.0, "viterbi")
    set_rates(tagger, rates)
    by_family = tagger._word_attribute_rows(words)
    by_name = tagger._named_attribute_rows(words)
    for k in range(len(by_name)):
        fast = tagger._summed_weights(by_family[k])
        reference = tagger._summed_weights(by_name[k])
        assert fast.tobytes() == reference.tobytes()
        width = by_name[k].shape[1]
        found = np.sort(by_family[k], axis=1)
        assert np.array_equal(found[:, :width], np.sort(by_name[k], axis=1))
        assert (found[:, width:] == tagger._absent).all()


def test_a_restarted_type_cache_tags_the_same(
    model: EvidenceClaimModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    import copy

    import models.evidence.attribution as attribution

    [seed_file] = sorted(SEED.glob("*.txt"))
    seed = seed_file.read_text(encoding="utf-8")
    half = len(seed) // 2
    texts = [seed[:half], seed[half:], seed[:half], seed[half:]]

    def types_of(text: str) -> int:
        fresh = copy.deepcopy(model.evidence.tagger)
        fresh._init_runtime()
        fresh.extract(text)
        return fresh._n_types

    tagger = copy.deepcopy(model.evidence.tagger)
    tagger._init_runtime()
    expected = tagger.extract_many(texts)
    # each half fits in the cache, both halves do not: it restarts within the batch
    limit = max(types_of(texts[0]), types_of(texts[1]))
    assert limit < tagger._n_types
    monkeypatch.setattr(attribution, "MAX_TYPES", limit)
    small = copy.deepcopy(model.evidence.tagger)
    small._init_runtime()
    restarts = []
    original = small._init_runtime

    def counting() -> None:
        restarts.append(1)
        original()

    monkeypatch.setattr(small, "_init_runtime", counting)
    assert small.extract_many(texts) == expected
    assert restarts, "the type cache never restarted: the test proves nothing"
    assert small._n_types <= limit


def test_a_bare_common_noun_source_takes_its_left_out_modifiers() -> None:
    from models.evidence.attribution import Attribution, Span
    from models.evidence.evidence import resolve_parties

    text = "In Iraq, the coalition denied it. The US-led coalition denied it too."
    first = text.index("coalition")
    second = text.index("coalition", first + 1)

    def denial(sentence: int, at: int) -> Attribution:
        cue = text.index("denied", at)
        return Attribution(
            "denial", sentence, Span("coalition", at, at + 9), Span("denied", cue, cue + 6), None
        )

    starts = sentence_starts(text)
    parties = resolve_parties(text, starts, [denial(0, first), denial(1, second)])
    # "In Iraq, the" is no modifier of the coalition; "US-led" is
    assert [p.name if p else None for p in parties] == ["coalition", "US-led coalition"]


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="aZ9_'\u2019\"\u201c.,s-\u2010 \n\t\u00a0\u3000\u2028\U0001F600", max_size=80)
)
def test_token_offsets_are_the_token_regex_spans(text: str) -> None:
    strings, starts, ends = tokenize(text)
    spans = [(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]
    assert list(zip(strings, starts.tolist(), ends.tolist(), strict=True)) == spans


def test_a_hyphenated_word_is_one_token() -> None:
    # A span boundary can then never fall inside it (once "The US-" / "led coalition denied")
    strings, starts, ends = tokenize("The US-led coalition's re\u2010elect -- 1990-95 -x x-")
    assert strings == [
        "The", "US-led", "coalition", "'s", "re\u2010elect", "-", "-", "1990-95", "-", "x", "x", "-"
    ]
    assert (starts[1], ends[1]) == (4, 10)


def _viterbi_reference(emit: np.ndarray, trans: np.ndarray) -> list[int]:
    """Textbook Viterbi over one chunk (first best label on ties, as argmax)."""
    delta, back = emit[0].copy(), []
    for row in emit[1:]:
        scores = delta[:, None] + trans  # (from, to)
        back.append(scores.argmax(axis=0))
        delta = scores.max(axis=0) + row
    path = [int(delta.argmax())]
    for pointers in reversed(back):
        path.append(int(pointers[path[-1]]))
    return path[::-1]


def test_the_batched_viterbi_decodes_each_chunk_as_alone(model: EvidenceClaimModel) -> None:
    tagger = model.evidence.tagger
    rng = np.random.default_rng(0)
    lens = np.array([5, 1, 12, 3, 12, 7])
    starts = np.concatenate(([0], np.cumsum(lens)[:-1]))
    emit = rng.normal(size=(int(lens.sum()), len(LABELS)))
    empty = np.zeros(0, dtype=np.int64)
    labels = tagger.decode(emit, Chunks(empty, starts, lens, empty))
    for start, length in zip(starts, lens, strict=True):
        chunk = emit[start : start + length]
        assert labels[start : start + length].tolist() == _viterbi_reference(
            chunk, tagger._trans
        )


def test_sentence_texts_are_the_sentence_spans() -> None:
    text = "One. Two!  \n\nThree?   Four"
    starts = sentence_starts(text)
    spans = [text[slice(*sentence_span(text, starts, i))] for i in range(len(starts))]
    assert sentence_texts(text, starts, 10) == spans
    assert sentence_texts(text, starts, 2) == spans[:2]

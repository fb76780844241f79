"""The weasel-word group flags and the hedge model that reads them (since 2.7.0)."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer

from models.evidence.hedge import TOKEN_PATTERN, HedgeModel, prepare
from models.evidence.weasel import WEASEL_GROUPS, WeaselFlags, group_weights
from models.training.hedge import (
    HedgeParams,
    fit_hedge_model,
    fit_hedge_pipeline,
    hedge_scores,
)

FLAGS = WeaselFlags(WEASEL_GROUPS, TOKEN_PATTERN)


def groups_of(sentence: str) -> set[str]:
    row = FLAGS.transform([prepare(sentence)]).toarray()[0]
    return {name for name, flag in zip(FLAGS.names, row, strict=True) if flag}


def test_each_group_flags_its_own_wording_and_nothing_else() -> None:
    assert groups_of("The bridge was opened in 1932.") == set()
    assert groups_of("It is widely believed that the bridge is old.") == {
        "passive_view", "hedging_adverb", "opinion_verb"}  # "widely believed", each word
    assert groups_of("Some critics dispute the figure.") == {"unnamed_crowd", "vague_source"}
    assert groups_of("The result may change.") == {"modal"}
    assert groups_of("He is one of the best-known painters.") == {"puffery"}
    assert groups_of("Rumours spread quickly.") == {"vague_source"}
    assert groups_of("The data suggest otherwise.") == {"opinion_verb"}
    # a bigram needs its two words next to each other
    assert "passive_view" not in groups_of("It is, they said, believed.")


def test_flags_are_one_per_group_however_often_its_words_occur() -> None:
    flags = FLAGS.transform([prepare("Perhaps, possibly, probably and arguably so.")])
    assert flags.toarray().tolist() == [[1.0 if n == "hedging_adverb" else 0.0
                                         for n in FLAGS.names]]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from([
    *"abc ISw.'\u2019\u0130\u00e9", " may ", " some critics ", " is believed ", " well known ",
    "Widely "]), max_size=30).map("".join), max_size=6))
def test_flags_are_scikit_learns_ngrams_of_the_groups(sentences: list[str]) -> None:
    """The table look-ups find what scikit-learn's own word n-gram analysis finds."""
    prepared = [prepare(s) for s in sentences]
    terms = sorted({t for members in WEASEL_GROUPS.values() for t in members})
    counts = CountVectorizer(vocabulary=terms, ngram_range=(1, 2), token_pattern=TOKEN_PATTERN,
                             lowercase=True).transform(prepared or [""])[: len(prepared)]
    column = {term: index for index, term in enumerate(terms)}
    expected = np.array([
        [float(any(counts[row, column[t]] for t in WEASEL_GROUPS[name])) for name in FLAGS.names]
        for row in range(len(prepared))
    ]).reshape(len(prepared), len(FLAGS.names))
    assert np.array_equal(FLAGS.transform(prepared).toarray(), expected)
    found = [re.findall(TOKEN_PATTERN, p.lower()) for p in prepared]
    assert np.array_equal(FLAGS.flags(found), expected)


def test_stored_groups_rebuild_the_same_flags() -> None:
    again = WeaselFlags(**FLAGS.stored())  # type: ignore[arg-type]
    texts = [prepare("Many people say it is said to be one of the finest."), ""]
    assert again.names == FLAGS.names
    assert (again.transform(texts) != FLAGS.transform(texts)).nnz == 0


def _training_set() -> tuple[list[str], np.ndarray]:
    """Hedged sentences use a few hedging adverbs; none of them is "reputedly"."""
    adverbs = ["probably", "possibly", "perhaps", "apparently", "supposedly"]
    topics = ["river", "bridge", "harbour", "museum", "railway", "castle", "library"]
    texts, labels = [], []
    for i in range(280):
        topic = topics[i % len(topics)]
        if i % 2:
            texts.append(f"The {topic} was {adverbs[i % len(adverbs)]} built in {1800 + i}.")
        else:
            texts.append(f"The {topic} was built in {1800 + i}.")
        labels.append(i % 2)
    return texts, np.asarray(labels)


def test_a_group_member_never_seen_in_training_still_raises_the_score() -> None:
    texts, labels = _training_set()
    params = HedgeParams(word_ngrams=(1, 2), C=10.0, weasel=True)
    model, _ = fit_hedge_model(texts, labels, np.arange(len(texts)) // 10, params)
    assert model.weasel is not None and group_weights(
        model.weasel, model.pipeline.named_steps["clf"].coef_)["hedging_adverb"] > 0
    assert "reputedly" not in model.pipeline.named_steps["features"].vocabulary_
    unseen = ["The tower was reputedly built in 1700.", "The tower was built in 1700."]
    hedged, plain = model.predict_proba(unseen)
    without, _ = fit_hedge_model(texts, labels, np.arange(len(texts)) // 10,
                                 HedgeParams(word_ngrams=(1, 2), C=10.0))
    assert without.weasel is None
    words_only, _ = without.predict_proba(unseen)
    # the flag carries "hedged" to the unseen adverb; the words alone do not
    assert hedged > 0.5 > words_only and hedged > plain


def test_the_fast_path_scores_as_the_classifier_on_words_then_flags() -> None:
    texts, labels = _training_set()
    params = HedgeParams(word_ngrams=(1, 2), C=10.0, weasel=True)
    prepared = [prepare(t) for t in texts]
    pipeline, weasel = fit_hedge_pipeline(params, prepared, labels, np.arange(len(texts)))
    model = HedgeModel(pipeline=pipeline, threshold=0.5, weasel=weasel)
    probe = ["Critics say the castle was perhaps older.", "The castle may be older.",
             "The castle \u2014 widely regarded as old \u2014 fell.", ""]
    expected = 1 / (1 + np.exp(-hedge_scores(pipeline, weasel, [prepare(p) for p in probe])))
    # float32 tf-idf in the classifier, float64 on the fast path: equal to 1e-6
    assert np.allclose(model.predict_proba(probe), expected, rtol=0, atol=1e-6)
    assert model.features(probe).shape[1] == (
        len(pipeline.named_steps["features"].vocabulary_) + len(WEASEL_GROUPS))

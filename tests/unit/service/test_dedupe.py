"""Stage 3: same id + same content is a duplicate; same id + new content is the next version."""

from __future__ import annotations

from typing import Any

from service.pipeline.dedupe import Window, content_hash, remember, split_duplicates
from service.pipeline.records import Article


def art(article_id: str, text: str, title: str | None = None) -> Article:
    return Article(article_id, text, {"title": title} if title is not None else {})


def test_first_sight_is_version_one_and_remembered_only_on_request() -> None:
    seen: dict[str, Any] = {}
    fresh, duplicates = split_duplicates([art("a", "x"), art("b", "y")], seen)
    assert [(f.article.id, f.version) for f in fresh] == [("a", 1), ("b", 1)]
    assert duplicates == [] and seen == {}
    remember(fresh, seen, now=1000.0, partition=3)
    assert seen == {
        "a": {"hash": content_hash(art("a", "x")), "version": 1, "at": 1000.0, "p": 3},
        "b": {"hash": content_hash(art("b", "y")), "version": 1, "at": 1000.0, "p": 3},
    }


def test_repeat_inside_one_batch_is_a_duplicate() -> None:
    first, again = art("a", "x"), art("a", "x")
    fresh, duplicates = split_duplicates([first, again], {})
    assert [f.article for f in fresh] == [first]
    assert duplicates == [again] and duplicates[0] is again


def test_repeat_of_a_remembered_article_is_a_duplicate() -> None:
    seen: dict[str, Any] = {}
    remember(split_duplicates([art("a", "x")], seen)[0], seen)
    fresh, duplicates = split_duplicates([art("a", "x"), art("c", "z")], seen)
    assert [f.article.id for f in fresh] == ["c"]
    assert [d.id for d in duplicates] == ["a"]


def test_new_content_is_the_next_version_in_batch_and_against_the_table() -> None:
    seen: dict[str, Any] = {"a": {"hash": content_hash(art("a", "v1")), "version": 3}}
    fresh, duplicates = split_duplicates(
        [art("a", "v1"), art("a", "v2"), art("a", "v2"), art("a", "v3")], seen
    )
    assert [(f.article.text, f.version) for f in fresh] == [("v2", 4), ("v3", 5)]
    assert [d.text for d in duplicates] == ["v1", "v2"]
    remember(fresh, seen)
    assert seen["a"] == {"hash": content_hash(art("a", "v3")), "version": 5, "at": 0.0}


def test_title_is_part_of_the_content_other_fields_are_not() -> None:
    plain = art("a", "x")
    assert content_hash(plain) != content_hash(art("a", "x", title="New title"))
    assert content_hash(plain) == content_hash(Article("a", "x", {"source": "wire"}))
    assert content_hash(art("a", "xy")) != content_hash(art("a", "x", title="y"))


def test_unreadable_table_entries_count_as_unseen() -> None:
    fresh, _ = split_duplicates([art("a", "x")], {"a": None})
    assert fresh[0].version == 1
    fresh, _ = split_duplicates([art("a", "x")], {"a": "garbage"})
    assert fresh[0].version == 1


WEEK = Window(7 * 24 * 3600.0)


def test_within_the_window_a_repeat_is_a_duplicate_after_it_the_id_is_new() -> None:
    seen: dict[str, Any] = {}
    remember(split_duplicates([art("a", "x")], seen, WEEK, now=100.0)[0], seen, now=100.0)
    last_moment = 100.0 + WEEK.seconds - 0.001
    fresh, duplicates = split_duplicates([art("a", "x")], seen, WEEK, now=last_moment)
    assert fresh == [] and [d.id for d in duplicates] == ["a"]
    fresh, duplicates = split_duplicates([art("a", "x")], seen, WEEK, now=100.0 + WEEK.seconds)
    assert [(f.article.id, f.version) for f in fresh] == [("a", 1)] and duplicates == []


def test_new_content_after_the_window_starts_the_versions_again() -> None:
    seen: dict[str, Any] = {"a": {"hash": content_hash(art("a", "v1")), "version": 4, "at": 0.0}}
    window = Window(10.0)
    fresh, _ = split_duplicates([art("a", "v2")], seen, window, now=5.0)
    assert fresh[0].version == 5
    fresh, _ = split_duplicates([art("a", "v2")], seen, window, now=10.0)
    assert fresh[0].version == 1


def test_entries_without_a_decision_time_expire_under_a_window_not_without_one() -> None:
    seen: dict[str, Any] = {"a": {"hash": content_hash(art("a", "x")), "version": 1}}
    assert split_duplicates([art("a", "x")], seen)[1] != []  # no window: kept for ever
    fresh, duplicates = split_duplicates([art("a", "x")], seen, WEEK, now=WEEK.seconds)
    assert [f.article.id for f in fresh] == ["a"] and duplicates == []
    assert not WEEK.holds({"hash": "h", "at": "yesterday"}, now=WEEK.seconds)


def test_exactly_once_rereading_the_message_behind_an_entry_scores_it_again() -> None:
    # The entry was written for the message at partition 2, offset 41, but that
    # message's transaction never committed: reading it again is not a repeat.
    seen: dict[str, Any] = {}
    remember(split_duplicates([art("a", "x")], seen)[0], seen, now=1.0, partition=2, offset=41)
    assert seen["a"]["o"] == 41
    fresh, duplicates = split_duplicates([art("a", "x")], seen, positions=[(2, 41)])
    assert [(f.article.id, f.version) for f in fresh] == [("a", 1)] and duplicates == []


def test_exactly_once_the_same_article_at_another_position_is_still_a_duplicate() -> None:
    seen: dict[str, Any] = {}
    remember(split_duplicates([art("a", "x")], seen)[0], seen, now=1.0, partition=2, offset=41)
    for position in [(2, 42), (1, 41)]:
        fresh, duplicates = split_duplicates([art("a", "x")], seen, positions=[position])
        assert fresh == [] and [d.id for d in duplicates] == ["a"], position


def test_exactly_once_a_reread_keeps_its_version_and_its_in_batch_repeat_is_a_duplicate() -> None:
    seen: dict[str, Any] = {}
    remember(split_duplicates([art("a", "v1")], seen)[0], seen, partition=0, offset=5)
    [second] = split_duplicates([art("a", "v2")], seen)[0]
    remember([second], seen, partition=0, offset=9)  # version 2, its commit lost
    fresh, duplicates = split_duplicates(
        [art("a", "v2"), art("a", "v2")], seen, positions=[(0, 9), (0, 10)]
    )
    assert [(f.article.id, f.version) for f in fresh] == [("a", 2)]
    assert [d.id for d in duplicates] == ["a"]


def test_at_least_once_rereading_the_same_message_is_a_duplicate() -> None:
    seen: dict[str, Any] = {}
    remember(split_duplicates([art("a", "x")], seen)[0], seen, partition=2, offset=41)
    fresh, duplicates = split_duplicates([art("a", "x")], seen)  # no positions given
    assert fresh == [] and [d.id for d in duplicates] == ["a"]

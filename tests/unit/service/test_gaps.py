"""The gap guard: a partition's messages are admitted only in offset order, without holes."""

from __future__ import annotations

from service.gaps import GapGuard, Verdict

P0, P1 = "articles:0", "articles:1"


def admitted(guard: GapGuard, tp: str, offsets: list[int], generation: int = 1) -> list[int]:
    return [o for o in offsets if guard.check(tp, o, generation).admit]


def test_consecutive_offsets_pass_per_partition() -> None:
    guard = GapGuard()
    assert admitted(guard, P0, [5, 6, 7]) == [5, 6, 7]
    assert admitted(guard, P1, [0, 1]) == [0, 1]


def test_the_committed_offset_is_where_a_partition_must_start() -> None:
    guard = GapGuard()
    assert guard.check(P0, 12, 1, start=10) == Verdict(False, seek_to=10)


def test_a_dropped_message_is_read_again_before_anything_after_it() -> None:
    guard = GapGuard()
    assert admitted(guard, P0, [64, 65, 66, 67]) == [64, 65, 66, 67]
    assert guard.check(P0, 69, 1) == Verdict(False, seek_to=68)
    # already fetched before the seek took effect: dropped, read again later
    assert admitted(guard, P0, [70, 71]) == []
    # after the seek: 68 comes, then everything after it again
    assert admitted(guard, P0, [68, 69, 70, 71, 72]) == [68, 69, 70, 71, 72]


def test_offsets_that_really_are_missing_are_accepted_after_one_look() -> None:
    # transaction markers and compaction leave holes in offsets
    guard = GapGuard()
    assert admitted(guard, P0, [10, 11]) == [10, 11]
    assert guard.check(P0, 14, 1) == Verdict(False, seek_to=12)
    assert admitted(guard, P0, [15]) == []  # a message fetched before the seek
    assert admitted(guard, P0, [14, 15, 16]) == [14, 15, 16]  # the re-read starts at 14


def test_a_re_read_after_a_seek_is_not_admitted_twice() -> None:
    guard = GapGuard()
    assert admitted(guard, P0, [3, 4, 5]) == [3, 4, 5]
    assert admitted(guard, P0, [3, 4, 5, 6]) == [6]


def test_a_new_generation_starts_over_from_the_committed_offset() -> None:
    guard = GapGuard()
    assert admitted(guard, P0, [3, 4, 5]) == [3, 4, 5]
    assert guard.check(P0, 4, 2, start=4).admit
    assert guard.check(P1, 9, 2, start=None).admit  # nothing committed: first one sets it

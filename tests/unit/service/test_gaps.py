"""The gap guard: a partition's messages are admitted only in offset order, without holes."""

from __future__ import annotations

from service.worker.gaps import GapGuard, StallWatch, Verdict

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


def test_the_next_offset_is_the_committed_one_until_the_generation_has_admitted_some() -> None:
    guard = GapGuard()
    assert guard.next_offset(P0, 1, start=40) == 40
    assert admitted(guard, P0, [40, 41]) == [40, 41]
    assert guard.next_offset(P0, 1, start=40) == 42
    assert guard.next_offset(P0, 2, start=41) == 41  # a new generation


def test_a_partition_read_again_admits_the_expected_offset_and_drops_stragglers() -> None:
    guard = GapGuard()
    assert admitted(guard, P0, [10, 11]) == [10, 11]
    guard.read_again(P0, 1, offset=12, first=30)
    assert guard.next_offset(P0, 1, start=None) == 12
    assert admitted(guard, P0, [31, 32]) == []  # fetched before the seek
    assert admitted(guard, P0, [12, 13, 14]) == [12, 13, 14]


def test_a_partition_read_again_that_only_held_a_marker_goes_on_at_the_position() -> None:
    guard = GapGuard()
    assert admitted(guard, P0, [10, 11]) == [10, 11]
    guard.read_again(P0, 1, offset=12, first=13)  # offset 12: a transaction marker
    assert admitted(guard, P0, [13, 14]) == [13, 14]


def test_a_quiet_partition_read_past_what_was_delivered_is_due_after_the_quiet_time() -> None:
    watch = StallWatch(quiet_s=5.0)
    watch.restart(100.0)
    watch.seen(P0, 101.0)
    assert not watch.due(P0, expected=373, position=720, now=105.0)
    assert watch.due(P0, expected=373, position=720, now=106.5)


def test_a_partition_delivered_up_to_its_position_is_never_due() -> None:
    watch = StallWatch(quiet_s=5.0)
    assert not watch.due(P0, expected=720, position=720, now=1000.0)
    assert not watch.due(P0, expected=None, position=720, now=1000.0)
    assert not watch.due(P0, expected=720, position=None, now=1000.0)


def test_time_spent_holding_the_stream_back_is_not_quiet_time() -> None:
    watch = StallWatch(quiet_s=5.0)
    watch.seen(P0, 0.0)
    watch.restart(50.0)  # the agent had a full batch queue until t=50
    assert not watch.due(P0, expected=10, position=20, now=52.0)
    assert watch.due(P0, expected=10, position=20, now=55.0)


def test_the_same_range_is_looked_at_again_only_after_a_doubling_wait() -> None:
    watch = StallWatch(quiet_s=5.0, max_wait_s=30.0)
    assert watch.due(P0, expected=10, position=11, now=10.0)  # first look
    assert not watch.due(P0, expected=10, position=11, now=19.0)
    assert watch.due(P0, expected=10, position=11, now=20.0)  # 5 s * 2
    assert not watch.due(P0, expected=10, position=11, now=39.0)
    assert watch.due(P0, expected=10, position=11, now=40.0)  # 5 s * 4
    assert watch.due(P0, expected=10, position=11, now=70.0)  # capped at 30 s
    # something new was read: a new range, looked at once it is quiet
    assert watch.due(P0, expected=10, position=15, now=71.0)
    assert watch.due(P1, expected=3, position=4, now=71.0)  # partitions are separate

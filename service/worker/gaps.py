"""No commit past a message we never saw: per partition, admitted offsets are contiguous.

The agent commits a batch's highest offset + 1 per partition, which is only safe if
every message before it reached the agent. Faust can drop a message on the way
around a rebalance (seen here once in a few dozen takeovers: offset 68 of a
partition never arrived, 67 and 69 did). So the agent admits messages through a
:class:`GapGuard`: within one consumer generation, a partition's next message must
carry the next offset. When one arrives past a gap, the guard asks for a seek back
to the first missing offset, and after the seek admits either that offset (the
message had been dropped) or exactly the message that revealed the gap (the
offsets really are missing: transaction markers, compaction); anything else is a
message fetched before the seek, dropped here and read again.

A guard waiting for a re-read depends on the seek taking effect. A
:class:`StallWatch` covers that and any other way a partition can go quiet with
messages read but never delivered: when the consumer has read past the offset the
guard expects and nothing from that partition has reached the agent for a while
(the agent not holding the stream back meanwhile), the agent reads it again from
the expected offset. A look that finds nothing means nothing is there (a
transaction marker at the end of a partition); the same range is looked at again
only after a doubling wait.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Verdict:
    admit: bool
    seek_to: int | None = None  # seek the partition back to this offset first


@dataclass
class _Resync:
    missing_from: int  # where we sought to
    revealed_at: int  # the offset that showed the gap


@dataclass
class GapGuard:
    generation: int | None = None
    expected: dict[Any, int] = field(default_factory=dict)  # partition -> next offset
    resync: dict[Any, _Resync] = field(default_factory=dict)

    def check(self, tp: Any, offset: int, generation: int, start: int | None = None) -> Verdict:
        """May the message at ``offset`` of ``tp`` go on? ``start`` is the partition's
        committed offset, used when this generation has seen nothing from it yet."""
        self._enter(generation)
        pending = self.resync.get(tp)
        if pending is not None:
            if offset in (pending.missing_from, pending.revealed_at):
                del self.resync[tp]
                return self._admit(tp, offset)
            return Verdict(False)  # fetched before the seek (or a duplicate): read again
        expected = self.expected.get(tp, start)
        if expected is None or offset == expected:
            return self._admit(tp, offset)
        if offset < expected:
            return Verdict(False)  # already admitted: a re-read after a seek
        self.resync[tp] = _Resync(missing_from=expected, revealed_at=offset)
        return Verdict(False, seek_to=expected)

    def next_offset(self, tp: Any, generation: int, start: int | None) -> int | None:
        """The offset the guard will admit next from ``tp`` (``start``: committed offset)."""
        if generation != self.generation:
            return start
        pending = self.resync.get(tp)
        if pending is not None:
            return pending.missing_from
        return self.expected.get(tp, start)

    def read_again(self, tp: Any, generation: int, offset: int, first: int) -> None:
        """The agent seeks ``tp`` back to ``offset`` although no message revealed a gap
        (the consumer read past it and delivered nothing). ``first``: the offset the
        broker's first message from ``offset`` on has, or where the consumer stands when
        there is none (:mod:`service.worker.stalls`); the re-read goes on there."""
        self._enter(generation)
        self.resync[tp] = _Resync(missing_from=offset, revealed_at=first)

    def _enter(self, generation: int) -> None:
        """A new consumer generation starts over from the committed offsets."""
        if generation != self.generation:
            self.generation, self.expected, self.resync = generation, {}, {}

    def _admit(self, tp: Any, offset: int) -> Verdict:
        self.expected[tp] = offset + 1
        return Verdict(True)


@dataclass
class StallWatch:
    """Which partitions went quiet with messages read but never delivered to the agent.

    The agent reports every message it receives (:meth:`seen`) and when it was
    holding the stream back (:meth:`restart`: a full batch queue, a rebalance), and
    asks :meth:`due` once a second per partition with the offset it expects next and
    the consumer's read position. The same range is looked at again only after a
    doubling wait (capped at ``max_wait_s``): normally one look shows it empty.
    """

    quiet_s: float
    max_wait_s: float = 300.0
    since: float = 0.0  # clocks start here: the last restart
    last_seen: dict[Any, float] = field(default_factory=dict)
    looks: dict[Any, _Look] = field(default_factory=dict)

    def restart(self, now: float) -> None:
        """The agent was not taking messages until ``now``: quiet time starts over."""
        self.since = now

    def seen(self, tp: Any, now: float) -> None:
        self.last_seen[tp] = now

    def due(self, tp: Any, expected: int | None, position: int | None, now: float) -> bool:
        """Should ``tp`` be read again from ``expected``?"""
        if expected is None or position is None or position <= expected:
            self.looks.pop(tp, None)
            return False
        quiet_from = max(self.since, self.last_seen.get(tp, self.since))
        if now - quiet_from < self.quiet_s:
            return False
        look = self.looks.get(tp)
        if look is None or look.range != (expected, position):
            self.looks[tp] = _Look((expected, position), now, 1)
            return True
        if now - look.at < min(self.quiet_s * 2**look.count, self.max_wait_s):
            return False
        look.at, look.count = now, look.count + 1
        return True


@dataclass
class _Look:
    range: tuple[int, int]  # (expected, position) when the partition was read again
    at: float
    count: int

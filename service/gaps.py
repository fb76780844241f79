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
        if generation != self.generation:
            self.generation, self.expected, self.resync = generation, {}, {}
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

    def _admit(self, tp: Any, offset: int) -> Verdict:
        self.expected[tp] = offset + 1
        return Verdict(True)

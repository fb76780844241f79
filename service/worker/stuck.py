"""Since when the batch in flight has been failing to publish (pure logic).

The batch loop retries a batch whose outputs fail, never skipping it; a batch that
keeps failing (a dead transaction, a topic deleted, the broker gone) stops its
partitions for good while the process looks alive. :class:`FailingBatch` remembers
when the current batch first failed, so that ``/readyz`` and the
``claimwatch_batch_failing_seconds`` gauge can say how long the worker has made no
progress.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class FailingBatch:
    """When the batch in flight first failed to publish, if it has.

    ``clock`` is monotonic seconds (:func:`time.monotonic` unless a test gives one).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.since: float | None = None

    def failed(self) -> None:
        """The batch in flight failed again; the first failure starts the count."""
        if self.since is None:
            self.since = self.clock()

    def settled(self) -> None:
        """The batch in flight was published, handed back or dropped: nothing is failing."""
        self.since = None

    def seconds(self) -> float:
        """How long the batch in flight has been failing (0 when nothing is failing)."""
        return 0.0 if self.since is None else max(0.0, self.clock() - self.since)

    def stuck(self, bound_s: float) -> bool:
        """Whether the batch in flight has been failing for longer than ``bound_s``."""
        return self.since is not None and self.seconds() > bound_s

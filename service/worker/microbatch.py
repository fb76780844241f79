"""Micro-batches from a stream of events: up to ``size`` at once, or fewer after ``within_s``.

The agent's stream task puts events in; the batch task takes batches out. The queue
holds at most one batch, so while a batch is being scored the next one gathers and
then the stream waits (Faust stops fetching when its own buffer fills): memory stays
bounded and nothing is taken that cannot be processed soon.

Unlike Faust's ``Stream.take_events``, this never acks anything: the caller commits
a batch's offsets once its outputs are on the broker, so a batch that fails or is
cut off by a shutdown is simply read again, by this worker or by the next owner of
its partition.
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

T = TypeVar("T")


class MicroBatcher(Generic[T]):
    def __init__(self, size: int, within_s: float) -> None:
        if size < 1:
            raise ValueError(f"batch size must be at least 1, not {size}")
        if within_s <= 0:
            raise ValueError(f"batch wait must be positive, not {within_s}")
        self.size = size
        self.within_s = within_s
        self._queue: asyncio.Queue[T] = asyncio.Queue(maxsize=size)

    def __len__(self) -> int:
        return self._queue.qsize()

    def full(self) -> bool:
        """Is a whole batch waiting (so the next ``put`` waits)?"""
        return self._queue.full()

    async def put(self, item: T) -> None:
        """Queue ``item``; waits while a whole batch is already waiting."""
        await self._queue.put(item)

    async def next_batch(self) -> list[T]:
        """The next batch: waits for a first item, then up to ``within_s`` for the rest."""
        queue = self._queue
        batch = [await queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.within_s
        while len(batch) < self.size:
            if not queue.empty():
                batch.append(queue.get_nowait())
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                # Cancelling Queue.get never loses an item: it stays queued until taken.
                batch.append(await asyncio.wait_for(queue.get(), remaining))
            except TimeoutError:
                break
        return batch

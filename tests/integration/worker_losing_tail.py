"""``claimwatch worker`` whose Faust consumer loses the end of one partition, once.

Run as ``python -m worker_losing_tail worker`` by ``test_worker_stall.py``. Faust's
consumer silently skips the last ``LOSE_TAIL_MESSAGES`` messages of
partition 0 of the articles topic the first time it reads them: the consumer's
position moves past messages the agent never receives, and no later message
reveals the hole. That is how the rare stall after a takeover looked (a seek undone
by the fetcher); the worker must notice the quiet partition and read it again.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from typing import Any

from faust.transport.consumer import Consumer

from service.cli.main import main

TOPIC = os.environ["CLAIMWATCH_TOPIC_ARTICLES"]
TAIL = int(os.environ["LOSE_TAIL_MESSAGES"])
_read = Consumer.getmany
_lost: set[int] = set()


async def getmany_losing_tail(self: Any, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
    async for tp, message in _read(self, timeout):
        if _loses(self, tp, message.offset):
            _lost.add(message.offset)
            print(f"test fault: lost offset {message.offset} of {tp}", flush=True)
            continue
        yield tp, message


def _loses(consumer: Any, tp: Any, offset: int) -> bool:
    """One of the last TAIL messages of partition 0, read for the first time?"""
    if tp.topic != TOPIC or tp.partition != 0 or offset in _lost:
        return False
    return bool(offset >= consumer.highwater(tp) - TAIL)


Consumer.getmany = getmany_losing_tail  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())

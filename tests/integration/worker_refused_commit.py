"""``claimwatch worker`` whose consumer refuses one offset commit, as after a rebalance.

Run as ``python -m worker_refused_commit worker`` by ``test_worker_crash.py``. On
commit number ``REFUSE_AT_COMMIT`` the consumer thread's commit answers False without
committing, which is what Faust's consumer does when the group rebalanced meanwhile
("already rebalanced"). Faust then files the refused offsets as committed; the
worker must put back what the broker holds. Printed for the test: the offsets the
worker files after the refusal, and those the broker held before it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from service.cli.main import main
from service.worker import agent, faust_fixes

REFUSE_AT_COMMIT = int(os.environ["REFUSE_AT_COMMIT"])
_commit_offsets = faust_fixes.commit_offsets
_commits = 0


async def commit_offsets_refusing_once(consumer: Any, offsets: dict[Any, int]) -> None:
    global _commits
    _commits += 1
    if _commits != REFUSE_AT_COMMIT:
        await _commit_offsets(consumer, offsets)
        return
    before = await faust_fixes.broker_committed(consumer, sorted(offsets))
    commit = consumer._commit

    async def refused(_offsets: Any) -> bool:
        return False

    consumer._commit = refused
    try:
        await _commit_offsets(consumer, offsets)
    finally:
        consumer._commit = commit
        filed = {tp.partition: faust_fixes.committed_offset(consumer, tp) for tp in offsets}
        held = {tp.partition: offset for tp, offset in before.items()}
        filed, held = dict(sorted(filed.items())), dict(sorted(held.items()))
        print(f"test fault: commit refused; filed {filed}; broker held {held}", flush=True)


agent.commit_offsets = commit_offsets_refusing_once  # type: ignore[assignment]

if __name__ == "__main__":
    sys.exit(main())

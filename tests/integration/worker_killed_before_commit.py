"""``claimwatch worker`` that SIGKILLs itself between writing its tables and committing.

Run as ``python -m worker_killed_before_commit worker`` by ``test_worker_crash.py``.
On batch ``KILL_AT_BATCH`` it lets the worker publish the outputs and write the
dedupe entries (into the local RocksDB store and into the changelog, inside the
open transaction under exactly-once), then dies before the commit: the narrowest
window a crash can hit, the one where the local store holds what the broker never
committed.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from service.cli.main import main
from service.worker import outputs

KILL_AT_BATCH = int(os.environ["KILL_AT_BATCH"])
_update_tables = outputs._update_tables
_batches = 0


def update_tables_then_die(worker: Any, events: Any, routed: Any) -> None:
    global _batches
    _update_tables(worker, events, routed)
    _batches += 1
    if _batches == KILL_AT_BATCH:
        print(f"test fault: killed after the tables of batch {_batches}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


outputs._update_tables = update_tables_then_die  # type: ignore[assignment]

if __name__ == "__main__":
    sys.exit(main())

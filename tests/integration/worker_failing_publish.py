"""``claimwatch worker`` whose publish of one batch fails after half its outputs went out.

Run as ``python -m worker_failing_publish worker`` by ``test_worker_crash.py``. On
batch ``FAIL_AT_BATCH`` the first half of the batch's outputs reaches the broker
(acknowledged, inside the open transaction under exactly-once), then the publish
raises, as when a broker goes away mid-batch. The agent retries the batch; under
exactly-once the half that got through must not be committed beside the retry's.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from service.cli.main import main
from service.worker import outputs

FAIL_AT_BATCH = int(os.environ["FAIL_AT_BATCH"])
_publish = outputs.publish
_batches = 0


async def publish_failing_half_way(worker: Any, outgoing: Any) -> None:
    global _batches
    _batches += 1
    if _batches == FAIL_AT_BATCH:
        await _publish(worker, outgoing[: len(outgoing) // 2])
        print(f"test fault: batch {_batches} failed after {len(outgoing) // 2} outputs", flush=True)
        raise ConnectionError("test fault: publish failed half way")
    await _publish(worker, outgoing)


outputs.publish = publish_failing_half_way  # type: ignore[assignment]

if __name__ == "__main__":
    sys.exit(main())

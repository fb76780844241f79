"""Where a worker keeps its tables on disk: a directory of its own.

RocksDB lets one process at a time open a database, so two workers on one host
(or in one pod volume) must never share table directories; Faust's own advice is
a data directory per worker. :func:`claim_data_dir` hands out numbered slots under
the configured directory, each held by an advisory lock for the life of the
process: a worker that restarts, even after SIGKILL (the kernel drops the lock),
takes the first free slot again and finds its tables there.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

LOCK_NAME = ".claimwatch-worker.lock"
# More workers than this on one host with one data directory is a configuration error.
MAX_SLOTS = 64


@dataclass
class DataDir:
    """A claimed slot: the directory and the open lock file that holds it."""

    path: Path
    lock_fd: int

    def release(self) -> None:
        os.close(self.lock_fd)


def claim_data_dir(base: Path) -> DataDir:
    """The first unlocked ``base/worker-N`` directory, locked for this process."""
    for slot in range(MAX_SLOTS):
        path = base / f"worker-{slot}"
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return DataDir(path, fd)
    raise RuntimeError(f"all {MAX_SLOTS} worker data directories under {base} are in use")

"""A small progress line for long CLI work, written to stderr (silent when not a TTY)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Redraws ``label done/total rate`` at most ~10 times a second on a terminal."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.done = 0
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._enabled = self.stream.isatty()

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if self._enabled and now - self._last_draw >= 0.1:
            self._last_draw = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.done / max(now - self.started, 1e-9)
        if self.total:
            width = 30
            filled = int(width * self.done / self.total)
            bar = "#" * filled + "-" * (width - filled)
            text = f"\r{self.label} [{bar}] {self.done}/{self.total} {rate:,.0f}/s"
        else:
            text = f"\r{self.label} {self.done} {rate:,.0f}/s"
        self.stream.write(text)
        self.stream.flush()

    def close(self) -> float:
        """Finish the line; return elapsed seconds."""
        elapsed = time.monotonic() - self.started
        if self._enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
        return elapsed

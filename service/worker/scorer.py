"""Where a batch is scored: a thread of the worker (default) or a child process.

Either way the event loop never waits behind the model. In a thread the model and
the loop share one GIL; a child process scores on another core while the loop keeps
the GIL to itself, at the price of pickling each batch both ways and a second copy
of the model (~150 MB). ``make bench`` measures both side by side: on the 2-core
machine this was built on, where the broker shares the cores, neither wins
(process ÷ thread between 0.77 and 1.21 over eight bench runs), so the thread,
cheaper in memory, is the default; the process is for machines with cores to spare.

The model goes to the child once per version (pickled in memory between our own two
processes, never from a file); every batch names the sha256 it expects, so a batch
is never scored by a model other than the one its decisions will name. If the child
dies, the batch fails (the agent retries it, uncommitted) and a new child is started.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from models.article.assess import ArticleModel
from service.pipeline.batch import Accepted, Routed, score_and_route
from service.settings import SCORING_MODES, Topics

log = logging.getLogger(__name__)


class Scorer:
    """Runs :func:`service.pipeline.batch.score_and_route` off the event loop."""

    def __init__(self, mode: str = "thread") -> None:
        if mode not in SCORING_MODES:
            raise ValueError(f"scoring mode must be one of {SCORING_MODES}, not {mode!r}")
        self.mode = mode
        self._executor: Executor | None = None
        self._installed: str | None = None  # sha256 of the model the child holds

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.mode == "thread":
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="claimwatch-score")
            else:
                self._executor = ProcessPoolExecutor(
                    1, mp_context=multiprocessing.get_context("spawn"), initializer=_child_start
                )
            self._installed = None
        return self._executor

    async def score_and_route(
        self,
        accepted: Accepted,
        model: ArticleModel,
        threshold: float | None,
        topics: Topics,
        languages: tuple[str, ...] = ("en",),
    ) -> Routed:
        loop = asyncio.get_running_loop()
        pool = self._pool()
        if self.mode == "thread":
            return await loop.run_in_executor(
                pool, score_and_route, accepted, model, threshold, topics, languages
            )
        try:
            if self._installed != model.sha256:
                await loop.run_in_executor(pool, _install, model)
                self._installed = model.sha256
            return await loop.run_in_executor(
                pool, _score_in_child, accepted, model.sha256, threshold, topics, languages
            )
        except BrokenProcessPool:
            log.error("the scoring process died; the batch will be retried in a new one")
            self._executor = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


# -- in the child process ---------------------------------------------------------

_model: ArticleModel | None = None


def _child_start() -> None:
    # Ctrl-C reaches the whole process group: the worker decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _install(model: ArticleModel) -> None:
    global _model
    _model = model


def _score_in_child(
    accepted: Accepted,
    sha256: str,
    threshold: float | None,
    topics: Topics,
    languages: tuple[str, ...],
) -> Routed:
    if _model is None or _model.sha256 != sha256:
        held = _model.sha256[:12] if _model else "none"
        raise RuntimeError(f"scoring process holds model {held}, batch wants {sha256[:12]}")
    return score_and_route(accepted, _model, threshold, topics, languages)

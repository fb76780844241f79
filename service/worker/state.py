"""What the agent, the web views and the timers of one worker share.

Built once per app by :func:`service.worker.app.build_app`; a plain dataclass so
that the agent and the views depend on it, not on the module that builds the app.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import faust

from service.settings import Settings
from service.worker.metrics import ClaimwatchMetrics
from service.worker.model_reload import ModelHolder
from service.worker.scorer import Scorer
from service.worker.stuck import FailingBatch
from service.worker.undecodable import UndecodableBatches


@dataclass
class Worker:
    """Everything the agent and the views share, built once per app."""

    settings: Settings
    app: faust.App
    holder: ModelHolder
    metrics: ClaimwatchMetrics
    executor: ThreadPoolExecutor  # model reloads
    scorer: Scorer
    articles: Any
    seen: Any  # Faust table: article id -> {"hash", "version"}
    source_scored: Any  # windowed Faust tables: source -> count
    source_flagged: Any
    undecodable: UndecodableBatches
    health: dict[str, float] = field(default_factory=dict)
    data_dir: Any = None  # the claimed local_state.DataDir holding the tables on disk
    failing: FailingBatch = field(default_factory=FailingBatch)  # the batch in flight

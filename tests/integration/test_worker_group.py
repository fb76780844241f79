"""Two workers in one consumer group split a 4-partition topic; when one stops, the other
takes its partitions and nothing is lost."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from worker_proc import (
    TopicReader,
    WorkerProcess,
    article,
    produce,
    stop_all,
    synthetic_articles,
    wait_until,
)

from service.settings import Settings


def partitions_of(worker: WorkerProcess) -> set[str] | None:
    """The articles partitions a ready worker owns (None while not ready)."""
    answer = worker.get("/readyz")
    if not answer or answer[0] != 200:
        return None
    return set(answer[1]["partitions"])


def test_two_workers_share_partitions_and_one_takes_over(
    delivery_settings: Settings, create_topics: Callable[..., list[str]], tmp_path: Path
) -> None:
    create_topics(partitions=4)
    settings = replace(delivery_settings, topic_partitions=4, session_timeout_s=6.0)
    every = {f"{settings.topic_articles}:{p}" for p in range(4)}
    first_half = synthetic_articles(1500, "g")
    second_half = synthetic_articles(1500, "h")
    ids = {i for i, _ in first_half + second_half}
    reader = TopicReader(settings, [settings.topic_scored, settings.topic_deadletter])

    workers = [WorkerProcess(settings, tmp_path, f"w{n}") for n in range(2)]
    try:
        workers[0].start().wait_ready()  # scale out: the second joins a running group
        workers[1].start()

        def split() -> tuple[set[str], set[str]] | None:
            for worker in workers:
                worker.assert_alive()
            owned = [partitions_of(worker) for worker in workers]
            if owned[0] and owned[1] and not owned[0] & owned[1] and owned[0] | owned[1] == every:
                return owned[0], owned[1]
            return None

        first_owns, second_owns = wait_until(split, 90, "both workers to own partitions", 0.5)
        assert len(first_owns) == len(second_owns) == 2

        produce(settings, [article(i, text) for i, text in first_half])
        reader.read_until(lambda: len(reader.accounted()) >= 300, 60, "the first decisions")
        assert workers[0].stop() == 0, workers[0].log_tail()
        produce(settings, [article(i, text) for i, text in second_half])
        try:
            wait_until(
                lambda: partitions_of(workers[1]) == every, 120, "the survivor to own all", 0.5
            )
        except AssertionError as error:
            workers[1].signal(signal.SIGUSR1)  # mode's task dump into the worker's log
            time.sleep(2)
            readiness = json.dumps(workers[1].readiness(), sort_keys=True)
            raise AssertionError(
                f"{error}\nsurvivor /readyz: {readiness}\nsurvivor: {workers[1].describe()}"
            ) from None
        try:
            reader.read_until(lambda: reader.accounted() >= ids, 120, "every article")
        except AssertionError as error:
            workers[1].signal(signal.SIGUSR1)  # mode's task dump into the worker's log
            time.sleep(2)
            missing = sorted(ids - reader.accounted())
            raise AssertionError(
                f"{error}: {len(missing)} of {len(ids)} missing (first: {missing[:5]})\n"
                f"survivor: {workers[1].describe()}"
            ) from None
    finally:
        stop_all(workers)
        reader.close()
    assert reader.accounted() == ids

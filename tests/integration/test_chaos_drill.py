"""The short chaos drill (issue 20): `make chaos`'s faults, fewer of them, in CI.

At-least-once only. The guarantee gets its own single-node broker (the drill kills
it), two real `claimwatch worker` processes and a steady producer; the workers are
SIGKILLed, frozen past their session timeout, stopped, and the broker is killed and
restarted while articles flow. Every acknowledged article must end up decided and
both workers must be alive at the end.

Exactly-once is not in the short drill because it does not hold yet, not even for
kills alone: in the short runs made for issue 20 it crashed a worker, decided 26
articles twice after a broker restart, and lost 2 articles after a SIGKILL and a
SIGTERM (README "Known issues"). A CI drill that fails on a known defect one run in
two says nothing new each time; `make chaos` runs exactly-once in full and reports
it failing until it is fixed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.chaos import describe, run_guarantee
from service.kafka import cluster as kafka_cluster
from service.kafka.launcher import Cluster, resolve_jars
from tests.conftest import _home

pytestmark = [pytest.mark.drill, pytest.mark.broker]

SHORT_STEPS = ["sigkill:0", "sigstop:1", "sigterm:0", "broker"]


@pytest.fixture
def libs() -> Path:
    return resolve_jars(_home(), progress=lambda _m: None)


@pytest.fixture
def broker(libs: Path, tmp_path: Path) -> Iterator[Cluster]:
    cluster = kafka_cluster.up(
        tmp_path / "kafka", libs, nodes=1, free_ports=True, progress=lambda _m: None
    )
    try:
        yield cluster
    finally:
        kafka_cluster.stop(cluster, progress=lambda _m: None)


def test_short_chaos_drill_at_least_once_loses_nothing(
    broker: Cluster, libs: Path, tmp_path: Path
) -> None:
    result = run_guarantee(
        broker,
        libs,
        tmp_path,
        "at_least_once",
        SHORT_STEPS,
        rate=50.0,
        session_timeout_s=6.0,
        gap_s=3.0,
        drain_timeout_s=120.0,
    )
    print(describe(result))
    assert result["acknowledged"] > 0
    assert result["lost"] == 0, result["lost_examples"]
    assert result["drain_s"] is not None
    assert result["workers_alive"] == 2, result["crashes"]

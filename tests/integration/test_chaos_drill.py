"""The short chaos drill (issue 20): `make chaos`'s faults, fewer of them, in CI.

Each guarantee gets its own single-node broker (the drill kills it), two real
`claimwatch worker` processes and a steady producer; the workers are SIGKILLed,
frozen past their session timeout and resumed, and (at-least-once) the broker is
killed and restarted while articles flow. Every acknowledged article must end up
decided and both workers must be alive at the end; under exactly-once no article
may be decided twice (read with ``read_committed``). A worker stopped (SIGTERM)
while the other takes over is `test_worker_group.py`'s subject, and in the full
drill.

Exactly-once runs the paused worker ("zombie") and a SIGKILL only, the faults that
crashed or stalled its workers before Faust departure 14; the broker kill is in the
full drill (`make chaos`), to keep CI within its time.
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

SHORT_STEPS = {
    "at_least_once": ["sigkill:0", "sigstop:1", "broker"],
    "exactly_once": ["sigstop:1", "sigkill:0"],
}


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


@pytest.mark.parametrize("guarantee", sorted(SHORT_STEPS))
def test_short_chaos_drill_loses_nothing(
    broker: Cluster, libs: Path, tmp_path: Path, guarantee: str
) -> None:
    result = run_guarantee(
        broker,
        libs,
        tmp_path,
        guarantee,
        SHORT_STEPS[guarantee],
        rate=50.0,
        session_timeout_s=6.0,
        gap_s=3.0,
        drain_timeout_s=120.0,
    )
    print(describe(result))
    assert result["acknowledged"] > 0
    assert result["lost"] == 0, describe(result)
    assert result["drain_s"] is not None
    assert result["workers_alive"] == 2, result["crashes"]
    if guarantee == "exactly_once":
        assert result["duplicate_decisions"] == 0, result["duplicate_examples"]

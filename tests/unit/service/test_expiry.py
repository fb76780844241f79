"""The dedupe window's sweep: expired ids leave the table with a tombstone in their
partition, ids of partitions served elsewhere leave only this worker's memory.

A real Faust table in the in-memory store; only the producer of its changelog
(recorded) and the consumer's assignment are made up.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
from faust.types import TP

from service.settings import Settings
from service.worker import expiry
from service.worker.expiry import sweep_interval, sweep_seen
from service.worker.local_state import claim_data_dir
from service.worker.metrics import ClaimwatchMetrics


def worker_with(entries: dict[str, Any], served: set[int], window_s: float) -> Any:
    app = faust.App(
        "expiry", broker="kafka://127.0.0.1:1", store="memory://",
        autodiscover=False, web_enabled=False,
    )  # fmt: skip
    table = app.Table("seen", default=None)
    for key, entry in entries.items():
        table.data[key] = entry
    sent: list[tuple[Any, Any, int]] = []
    table.changelog_topic.send_soon = lambda **m: sent.append(
        (m["key"], m["value"], m["partition"])
    )
    assignment = {TP("articles", p) for p in served} | {TP("other", 9)}
    return SimpleNamespace(
        settings=Settings(dedupe_window_s=window_s),
        seen=table,
        app=SimpleNamespace(consumer=SimpleNamespace(assignment=lambda: assignment)),
        metrics=ClaimwatchMetrics(),
        sent=sent,
    )


def entry(at: float, partition: int | None) -> dict[str, Any]:
    value: dict[str, Any] = {"hash": "h", "version": 1, "at": at}
    if partition is not None:
        value["p"] = partition
    return value


def test_expired_ids_are_tombstoned_in_their_partition_recent_ones_kept() -> None:
    worker = worker_with(
        {"old0": entry(0.0, 0), "old1": entry(50.0, 1), "new1": entry(95.0, 1)},
        served={0, 1},
        window_s=10.0,
    )
    swept = asyncio.run(sweep_seen(worker, now=100.0))
    assert (swept.expired, swept.dropped, swept.kept) == (2, 0, 1)
    assert sorted(worker.seen.data) == ["new1"]
    assert sorted(worker.sent) == [("old0", None, 0), ("old1", None, 1)]
    expired = worker.metrics.registry.get_sample_value("claimwatch_dedupe_expired_total")
    assert expired == 2


def test_ids_of_partitions_served_elsewhere_are_forgotten_without_a_tombstone() -> None:
    worker = worker_with(
        {"theirs": entry(99.0, 3), "mine": entry(99.0, 0)}, served={0}, window_s=10.0
    )
    swept = asyncio.run(sweep_seen(worker, now=100.0))
    assert (swept.expired, swept.dropped, swept.kept) == (0, 1, 1)
    assert list(worker.seen.data) == ["mine"] and worker.sent == []


def test_an_old_entry_without_a_partition_uses_the_one_it_was_recovered_from() -> None:
    worker = worker_with({"legacy": {"hash": "h", "version": 1}, "lost": {"hash": "h"}}, {2}, 10.0)
    worker.seen.data._key_partition["legacy"] = 2
    asyncio.run(sweep_seen(worker, now=100.0))
    assert not worker.seen.data
    assert worker.sent == [("legacy", None, 2)]  # "lost": no partition known, forgotten here


def test_a_table_larger_than_a_page_is_swept_whole(monkeypatch: Any) -> None:
    monkeypatch.setattr(expiry, "PAGE", 7)
    entries = {f"id{i}": entry(float(i % 2) * 100.0, 0) for i in range(50)}
    worker = worker_with(entries, served={0}, window_s=10.0)
    swept = asyncio.run(sweep_seen(worker, now=100.0))
    assert (swept.expired, swept.kept) == (25, 25)
    assert sorted(worker.seen.data) == sorted(f"id{i}" for i in range(1, 50, 2))


def test_sweeps_run_ten_times_a_window_between_one_second_and_ten_minutes() -> None:
    assert sweep_interval(7 * 24 * 3600.0) == 600.0
    assert sweep_interval(100.0) == 10.0
    assert sweep_interval(2.0) == 1.0


def test_each_worker_process_claims_its_own_data_directory(tmp_path: Path) -> None:
    first = claim_data_dir(tmp_path)
    second = claim_data_dir(tmp_path)
    assert (first.path.name, second.path.name) == ("worker-0", "worker-1")
    first.release()
    again = claim_data_dir(tmp_path)
    assert again.path == first.path
    second.release()
    again.release()

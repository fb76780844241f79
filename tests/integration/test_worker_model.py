"""Model swaps on a running worker: a new artifact takes over at one point per partition
with nothing lost; a tampered one is refused and the old model keeps serving; a worker
never starts on a bad artifact."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from worker_proc import (
    ROOT,
    TopicReader,
    WorkerProcess,
    article,
    produce,
    settings_env,
    synthetic_articles,
    wait_until,
)

from models.artifact import card_path_for, load_model, save_model
from service.settings import PREFIX, Settings


def write_version(directory: Path, version: str) -> Path:
    """The shipped model re-saved under another version into ``directory``."""
    model = load_model()
    model.card["version"] = version
    return save_model(model, directory)


def install(staged: Path, live: Path) -> None:
    """Atomically replace the live artifact and its card by the staged ones."""
    os.replace(card_path_for(staged), card_path_for(live))
    os.replace(staged, live)


def serving(worker: WorkerProcess) -> dict[str, object]:
    return worker.readiness().get("model") or {}


def test_hot_swap_then_refuse_a_tampered_artifact(
    broker_settings: Settings, create_topics: Callable[..., list[str]], tmp_path: Path
) -> None:
    create_topics(partitions=2)
    live = write_version(tmp_path / "live", "swap-a")
    settings = replace(broker_settings, topic_partitions=2, model_path=live)
    before = synthetic_articles(3000, "m")
    after = synthetic_articles(300, "n")
    last = synthetic_articles(50, "z")
    reader = TopicReader(settings, [settings.topic_scored, settings.topic_deadletter])

    def decided() -> dict[str, str]:
        return {
            r.value["article_id"]: r.value["model"]["version"]
            for r in reader.records[settings.topic_scored]
        }

    worker = WorkerProcess(settings, tmp_path).start()
    try:
        assert worker.wait_ready()["model"]["version"] == "swap-a"
        produce(settings, [article(i, text) for i, text in before])
        reader.read_until(lambda: len(decided()) >= 300, 60, "the first decisions")
        install(write_version(tmp_path / "staged-b", "swap-b"), live)
        wait_until(lambda: serving(worker).get("version") == "swap-b", 30, "the swap")
        produce(settings, [article(i, text) for i, text in after])
        everything = {i for i, _ in before + after}
        reader.read_until(lambda: everything <= decided().keys(), 90, "every article")

        tampered = write_version(tmp_path / "staged-bad", "swap-c")
        tampered.write_bytes(tampered.read_bytes() + b"\0")
        install(tampered, live)
        refused = wait_until(
            lambda: worker.readiness().get("model_reload_error"), 30, "the refusal"
        )
        assert "sha256" in refused and "tampered or truncated" in refused
        assert serving(worker)["version"] == "swap-b"
        produce(settings, [article(i, text) for i, text in last])
        reader.read_until(lambda: {i for i, _ in last} <= decided().keys(), 60, "the last ones")
        assert worker.stop() == 0
    finally:
        worker.ensure_stopped()
        reader.close()

    versions = decided()
    assert {versions[i] for i, _ in after + last} == {"swap-b"}
    by_partition: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for record in reader.records[settings.topic_scored]:
        source = record.value["source"]
        by_partition[source["partition"]].append(
            (source["offset"], record.value["model"]["version"])
        )
    for partition, seen in by_partition.items():
        sequence = [version for _, version in sorted(seen)]
        assert sequence == sorted(sequence), f"partition {partition} switched back and forth"
        assert sequence[0] == "swap-a" and sequence[-1] == "swap-b"
    assert reader.count(settings.topic_deadletter) == 0

    # A worker refuses to start on the tampered artifact: one clear line, non-zero exit.
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env.update(settings_env(settings), PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("claimwatch: error [artifact_hash_mismatch]: model artifact ")
    assert "tampered or truncated" in lines[0]

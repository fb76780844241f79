"""`claimwatch worker` against the real broker: every article accounted for, exactly.

Valid articles, one invalid message per dead-letter code, duplicates and a new
version go in; the test checks the exact outputs, recomputes the review records with
``assess_batch`` on the same texts and model, reads ``/stats/sources``, and stops the
worker with SIGTERM (exit 0, nothing lost).
"""

from __future__ import annotations

import base64
import json
import signal
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from worker_proc import TopicReader, WorkerProcess, article, produce, synthetic_text, wait_until

from models.article.assess import assess_batch
from models.artifact import load_model
from service.settings import Settings

SOURCES = ("wire", "blog", None)  # None: no source field → counted as "unknown"


def bad_messages(settings: Settings) -> dict[str, tuple[bytes, bytes | None]]:
    """One message per input-side dead-letter code; the key names the code."""
    too_long_text = "a" * (settings.max_text_bytes + 1)
    cases: dict[str, bytes | None] = {
        "invalid_utf8": b'{"id": "bad-invalid_utf8", "text": "caf\xe9"}',
        "invalid_json": b'{"id": "bad-invalid_json", "text": ',
        "tombstone": None,
        "not_an_object": b'["bad-not_an_object"]',
        "message_too_large": b" " * (settings.max_text_bytes + 64 * 1024 + 1),
        "missing_id": json.dumps({"text": "x"}).encode(),
        "empty_id": json.dumps({"id": " ", "text": "x"}).encode(),
        "id_too_long": json.dumps({"id": "i" * 257, "text": "x"}).encode(),
        "missing_text": json.dumps({"id": "bad-missing_text"}).encode(),
        "empty_text": json.dumps({"id": "bad-empty_text", "text": ""}).encode(),
        "wrong_type": json.dumps({"id": "bad-wrong_type", "text": "x", "title": 1}).encode(),
        "text_too_large": json.dumps({"id": "bad-text_too_large", "text": too_long_text}).encode(),
        "key_mismatch": json.dumps({"id": "someone-else", "text": "x"}).encode(),
    }
    return {code: (f"bad-{code}".encode(), value) for code, value in cases.items()}


def test_every_article_is_accounted_for_exactly(
    broker_settings: Settings, create_topics: Callable[..., list[str]], tmp_path: Path
) -> None:
    create_topics(partitions=2)
    settings = replace(broker_settings, topic_partitions=2)
    valid = {f"a{i}": (synthetic_text(i), SOURCES[i % 3]) for i in range(120)}
    messages = [article(i, text, **({"source": s} if s else {})) for i, (text, s) in valid.items()]
    duplicates = [messages[3], messages[10], messages[10], messages[77]]
    new_version = article("a5", valid["a5"][0] + " Updated.", source="wire")
    bad = bad_messages(settings)
    stream = [*messages[:60], *duplicates[:2], *bad.values(), *messages[60:], new_version]
    stream += duplicates[2:]
    expected_outputs = len(stream) - len(duplicates)

    worker = WorkerProcess(settings, tmp_path).start()
    reader = TopicReader(
        settings, [settings.topic_scored, settings.topic_flagged, settings.topic_deadletter]
    )
    try:
        worker.wait_ready()
        produce(settings, stream)
        reader.read_until(
            lambda: (
                reader.count(settings.topic_scored) + reader.count(settings.topic_deadletter)
                >= expected_outputs
            ),
            60,
            "every decision and dead letter",
        )
        stats = wait_until(
            lambda: _stats_when_complete(worker, len(valid) + 1), 15, "/stats/sources"
        )
        # the worker commits every partition up to its end once all is published
        consumer = wait_until(lambda: _all_committed(worker), 15, "/stats/consumer")
        assert consumer["partitions"] and consumer["generation"] >= 1
        # SIGQUIT: every thread's stack into the log (faulthandler), and the worker lives on
        worker.signal(signal.SIGQUIT)
        wait_until(lambda: "(most recent call first)" in worker.log_tail(400), 10, "stacks")
        worker.assert_alive()
        assert worker.stop() == 0, worker.log_tail()
    finally:
        worker.ensure_stopped()
    reader.read_to_end()
    reader.close()

    scored = reader.ids(settings.topic_scored)
    assert len(scored) + reader.count(settings.topic_deadletter) == expected_outputs
    assert Counter(scored) == Counter({**{i: 1 for i in valid}, "a5": 2})
    letters = {r.value["key"]: r.value for r in reader.records[settings.topic_deadletter]}
    assert {key: letter["error"] for key, letter in letters.items()} == {
        key.decode(): ("invalid_json" if code == "tombstone" else code)
        for code, (key, _) in bad.items()
    }
    for key, value in bad.values():
        original = letters[key.decode()]["value_b64"]
        assert (base64.b64decode(original) if original else None) == value
    versions = sorted(
        r.value["version"]
        for r in reader.records[settings.topic_scored]
        if r.value["article_id"] == "a5"
    )
    assert versions == [1, 2]

    # The review records are what assess_batch says about the same texts.
    decided = [(i, text) for i, (text, _) in valid.items()]
    decided.append(("a5#2", valid["a5"][0] + " Updated."))
    expected = {
        a.article_id: a.to_dict()
        for a in assess_batch(load_model(), [i for i, _ in decided], [t for _, t in decided])
    }
    reviews = {
        (r.value["article_id"] + ("#2" if r.value["version"] == 2 else "")): r.value
        for r in reader.records[settings.topic_flagged]
    }
    flagged = {i for i, a in expected.items() if a["flagged"]}
    assert set(reviews) == flagged and 0 < len(flagged) < len(expected)
    for article_id, review in reviews.items():
        for field in ("score", "flagged", "tier", "signals", "sentences", "contested_pairs"):
            assert review[field] == expected[article_id][field], (article_id, field)
    for record in reader.records[settings.topic_scored]:
        key = record.value["article_id"] + ("#2" if record.value["version"] == 2 else "")
        assert record.value["score"] == expected[key]["score"]
        assert record.value["flagged"] == expected[key]["flagged"]

    # /stats/sources counts what this worker scored, per source.
    want_scored: Counter[str] = Counter()
    want_flagged: Counter[str] = Counter()
    for article_id, (_, source) in [*valid.items(), ("a5#2", ("", "wire"))]:
        want_scored[source or "unknown"] += 1
        want_flagged[source or "unknown"] += article_id in flagged
    assert {name: (s["scored"], s["flagged"]) for name, s in stats["sources"].items()} == {
        name: (want_scored[name], want_flagged[name]) for name in want_scored
    }


def _all_committed(worker: WorkerProcess) -> dict[str, Any] | None:
    answer = worker.get("/stats/consumer")
    if not answer or answer[0] != 200:
        return None
    partitions = answer[1]["partitions"].values()
    done = all(p["committed"] == p["highwater"] and p["fetching"] for p in partitions)
    return answer[1] if done else None


def _stats_when_complete(worker: WorkerProcess, total: int) -> dict[str, object] | None:
    answer = worker.get("/stats/sources")
    if not answer or answer[0] != 200:
        return None
    body = answer[1]
    done = sum(s["scored"] for s in body["sources"].values()) >= total
    return body if done else None

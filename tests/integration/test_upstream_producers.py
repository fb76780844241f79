"""Upstream producers that are not ours: librdkafka (confluent-kafka) into a real worker.

For each of Kafka's five codecs, an idempotent librdkafka producer writes articles
with and without keys, all with headers, and a transactional one commits a
transaction and aborts another. Among the articles: a French and an Arabic one, an
HTML page and one whose value starts with a UTF-8 byte-order mark. One worker, whose
outputs use ``CLAIMWATCH_COMPRESSION=lz4``, decides them all; the tests check every
decision and the exact fields of the special ones, read the broker's own log
segments to show that the input really holds a batch of every codec and the outputs
lz4 batches, and read topics holding every codec with the kafka-python tools'
readers (``tail``, and the reviewer tools' ``kafka_io``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from sample_texts import ARABIC, FRENCH
from sample_texts import DESIGN_EXAMPLE as CONTESTED
from worker_proc import ROOT, Consumed, TopicReader, WorkerProcess, settings_env

from models.article.assess import assess_batch
from models.artifact import load_model
from service.kafka.topics import TopicSpec, admin_client, ensure_topics
from service.review.kafka_io import read_to_end
from service.review.records import read_review_record
from service.settings import PREFIX, Settings

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
# The codec id in a record batch's attributes (Kafka protocol: attributes & 0x07).
CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
OUTPUT_CODEC = "lz4"
HEADERS = [("source-system", b"ingest-7"), ("trace-id", b"00f067aa0ba902b7")]
ORDINARY = (
    "The city council approved a new budget on Monday that raises spending on schools and "
    "road repairs by 4 percent. The mayor said the plan would be funded by higher property "
    "tax revenue, and the vote passed by nine to two."
)
CLAIM, DENIAL = CONTESTED.split(". ", 1)
PAGE = (
    "<!DOCTYPE html><html><head><title>Clash | News</title><style>p { margin: 0 }</style>"
    "<script>var story = {headline: 'Officials allegedly denied everything'};</script>"
    "</head><body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
    f"<h1>Clash near Qaim</h1><p>{CLAIM.replace('claimed', '<em>claimed</em>')}.</p>"
    f"<p>{DENIAL}</p><noscript>Please enable JavaScript.</noscript></body></html>"
)
PAGE_TEXT = f"Clash near Qaim\n\n{CLAIM}.\n\n{DENIAL}"  # what a reader of PAGE sees
BOM = b"\xef\xbb\xbf"


@dataclass
class Upstream:
    """One run: what the producers sent and what the worker wrote."""

    settings: Settings
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # committed articles
    aborted: set[str] = field(default_factory=set)
    records: dict[str, list[Consumed]] = field(default_factory=dict)
    worker_exit: int | None = None
    worker_log: str = ""

    def decisions(self) -> dict[str, dict[str, Any]]:
        return {r.value["article_id"]: r.value for r in self.records[self.settings.topic_scored]}

    def reviews(self) -> dict[str, dict[str, Any]]:
        return {r.value["article_id"]: r.value for r in self.records[self.settings.topic_flagged]}


def run_settings(bootstrap: str, directory: Path) -> Settings:
    tag = uuid.uuid4().hex[:10]
    prefix = f"up{tag}."
    return Settings(
        bootstrap_servers=bootstrap,
        home=directory / "home",
        app_id=f"claimwatch-up-{tag}",
        data_dir=directory / "worker-data",
        topic_articles=prefix + "articles",
        topic_flagged=prefix + "articles.flagged",
        topic_scored=prefix + "articles.scored",
        topic_deadletter=prefix + "articles.deadletter",
        topic_verdicts=prefix + "articles.verdicts",
        topic_claims=prefix + "articles.claims",
        topic_partitions=2,
        compression=OUTPUT_CODEC,
    )


def create_topics(settings: Settings, names: list[str], partitions: int) -> None:
    admin = admin_client(settings.kafka_client_config())
    try:
        ensure_topics(admin, [TopicSpec(name, partitions, 1) for name in names])
    finally:
        admin.close()


def articles_for(codec: str) -> list[tuple[dict[str, Any], bool]]:
    """(article, keyed) pairs one codec's idempotent producer sends; a few carry a case."""
    cases: dict[str, dict[str, Any]] = {
        "none": {"text": ORDINARY, "language": "en-GB"},
        "gzip": {"text": FRENCH},
        "snappy": {"text": ARABIC},
        "lz4": {"text": PAGE, "content_type": "text/html; charset=utf-8"},
        "zstd": {"text": CONTESTED, "bom": True},
    }
    plain = [
        ({"id": f"{codec}-keyed-1", "text": CONTESTED, "source": "wire"}, True),
        ({"id": f"{codec}-keyed-2", "text": ORDINARY, "title": "Budget passes"}, True),
        ({"id": f"{codec}-keyless-1", "text": f"{CONTESTED} ({codec})"}, False),
        ({"id": f"{codec}-keyless-2", "text": f"{ORDINARY} ({codec})"}, False),
    ]
    return [*plain, ({"id": f"{codec}-case", **cases[codec]}, False)]


def encode(article: dict[str, Any]) -> bytes:
    body = {k: v for k, v in article.items() if k != "bom"}
    value = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return BOM + value if article.get("bom") else value


def delivered(errors: list[str]) -> Any:
    def report(error: Any, _message: Any) -> None:
        if error is not None:
            errors.append(str(error))

    return report


def produce_idempotent(run: Upstream, codec: str) -> None:
    errors: list[str] = []
    producer = Producer(
        {
            "bootstrap.servers": run.settings.bootstrap_servers,
            "compression.type": codec,
            "enable.idempotence": True,
            "linger.ms": 20,
        }
    )
    for article, keyed in articles_for(codec):
        key = article["id"].encode() if keyed else None
        producer.produce(
            run.settings.topic_articles,
            value=encode(article),
            key=key,
            headers=HEADERS,
            on_delivery=delivered(errors),
        )
        run.sent[article["id"]] = article
    assert producer.flush(30) == 0 and not errors, errors


def produce_transactional(run: Upstream, codec: str) -> None:
    producer = Producer(
        {
            "bootstrap.servers": run.settings.bootstrap_servers,
            "compression.type": codec,
            "transactional.id": f"{run.settings.app_id}-upstream-{codec}",
            "linger.ms": 20,
        }
    )
    producer.init_transactions(30)
    producer.begin_transaction()
    for n in (1, 2):
        article = {"id": f"{codec}-tx-{n}", "text": f"{CONTESTED} Transaction {n}."}
        key = article["id"].encode() if n == 1 else None
        value = encode(article)
        producer.produce(run.settings.topic_articles, value=value, key=key, headers=HEADERS)
        run.sent[article["id"]] = article
    producer.commit_transaction(30)
    producer.begin_transaction()
    aborted = {"id": f"{codec}-tx-aborted", "text": f"{CONTESTED} Never happened."}
    producer.produce(run.settings.topic_articles, value=encode(aborted), headers=HEADERS)
    producer.flush(30)
    producer.abort_transaction(30)
    run.aborted.add(aborted["id"])


@pytest.fixture(scope="module")
def upstream(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    directory = tmp_path_factory.mktemp("upstream")
    run = Upstream(run_settings(kafka_bootstrap, directory))
    settings = run.settings
    create_topics(settings, settings.topics.all(), partitions=2)
    worker = WorkerProcess(settings, directory).start()
    outputs = [settings.topic_scored, settings.topic_flagged, settings.topic_deadletter]
    reader = TopicReader(settings, outputs)
    try:
        for codec in CODECS:  # while the worker starts: it reads from the earliest offset
            produce_idempotent(run, codec)
            produce_transactional(run, codec)
        worker.wait_ready()
        reader.read_until(
            lambda: reader.count(settings.topic_scored) + reader.count(settings.topic_deadletter)
            >= len(run.sent),
            90,
            "a decision or a dead letter for every committed article",
        )
        reader.read_to_end()
        run.worker_exit = worker.stop()
        run.worker_log = worker.log_tail(400)
        run.records = reader.records
        yield run
    finally:
        worker.ensure_stopped()
        reader.close()


def test_every_committed_article_is_decided_once_and_no_aborted_one(upstream: Upstream) -> None:
    settings = upstream.settings
    scored = Counter(r.value["article_id"] for r in upstream.records[settings.topic_scored])
    assert upstream.records[settings.topic_deadletter] == []
    assert scored == Counter(set(upstream.sent)), "every committed article exactly once"
    assert not upstream.aborted & set(scored)
    assert len(upstream.sent) == 5 * 7 and len(upstream.aborted) == 5
    assert upstream.worker_exit == 0, upstream.worker_log


def test_scores_are_the_models_on_the_same_text(upstream: Upstream) -> None:
    decisions = upstream.decisions()
    plain = [i for i, a in upstream.sent.items() if not i.endswith("-case")]
    texts = [upstream.sent[i]["text"] for i in plain]
    titles = [upstream.sent[i].get("title") for i in plain]
    expected = assess_batch(load_model(), plain, texts, None, titles)
    assert {i: decisions[i]["score"] for i in plain} == {a.article_id: a.score for a in expected}
    assert {i: decisions[i]["language"] for i in plain} == dict.fromkeys(plain, "en")


def test_french_and_arabic_are_skipped_as_unsupported_language(upstream: Upstream) -> None:
    decisions = upstream.decisions()
    for article_id, language in (("gzip-case", "fr"), ("snappy-case", "ar")):
        decision = decisions[article_id]
        assert {
            k: decision[k]
            for k in ("language", "language_source", "flagged", "skipped", "score", "tier")
        } == {
            "language": language,
            "language_source": "detected",
            "flagged": False,
            "skipped": "unsupported_language",
            "score": None,
            "tier": None,
        }
        assert article_id not in upstream.reviews()


def test_the_language_field_is_taken_as_given(upstream: Upstream) -> None:
    decision = upstream.decisions()["none-case"]
    assert (decision["language"], decision["language_source"]) == ("en", "field")
    assert "skipped" not in decision


def test_html_is_scored_on_its_readable_text(upstream: Upstream) -> None:
    decision = upstream.decisions()["lz4-case"]
    [expected] = assess_batch(load_model(), ["lz4-case"], [PAGE_TEXT])
    assert (decision["score"], decision["flagged"]) == (expected.score, True)
    review = upstream.reviews()["lz4-case"]
    assert review["text"] == PAGE_TEXT
    for cue in review["signals"]:
        assert PAGE_TEXT[cue["start"] : cue["end"]] == cue["text"]
    assert "allegedly" not in PAGE_TEXT.lower().split("footage")[0]  # the script's cue is gone


def test_a_value_starting_with_a_byte_order_mark_is_decided(upstream: Upstream) -> None:
    decision = upstream.decisions()["zstd-case"]
    [expected] = assess_batch(load_model(), ["zstd-case"], [CONTESTED])
    assert (decision["score"], decision["flagged"]) == (expected.score, True)


def batch_codecs(data_dirs: list[Path], topic: str) -> set[int]:
    """The codec ids of the data batches in ``topic``'s log segments on the broker's disk."""
    from aiokafka.record.memory_records import MemoryRecords

    found: set[int] = set()
    for data in data_dirs:
        for segment in sorted(data.glob(f"{topic}-*/*.log")):
            records = MemoryRecords(segment.read_bytes())
            while records.has_next():
                batch = records.next_batch()
                if not batch.is_control_batch:
                    found.add(batch.compression_type)
    return found


def test_the_broker_holds_every_codec_in_and_the_configured_one_out(
    upstream: Upstream, kafka_data_dirs: list[Path]
) -> None:
    if not kafka_data_dirs:
        pytest.skip("needs the session's own broker: its log segments are read from disk")
    settings = upstream.settings
    assert batch_codecs(kafka_data_dirs, settings.topic_articles) == set(CODEC_IDS.values())
    for topic in (settings.topic_scored, settings.topic_flagged):
        assert batch_codecs(kafka_data_dirs, topic) == {CODEC_IDS[OUTPUT_CODEC]}, topic


def cli(settings: Settings, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env.update(settings_env(settings))
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_tail_reads_librdkafka_batches_of_every_codec(upstream: Upstream) -> None:
    settings = upstream.settings
    total = len(upstream.sent) + len(upstream.aborted)  # tail reads uncommitted too
    result = cli(
        settings, "tail", settings.topic_articles, "--from-beginning", "--json",
        "--max", str(total), "--timeout", "20",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    ids = {line["value"]["id"] for line in lines}
    assert ids == set(upstream.sent) | upstream.aborted


def test_the_reviewer_tools_reader_reads_review_records_in_every_codec(
    upstream: Upstream,
) -> None:
    """The reader of the review app's intake and of ``verdicts export``
    (``kafka_io.make_consumer``, here through ``read_to_end``) over every codec;
    ``review tail`` reads with ``tail``'s ``read_topic``, tested above."""
    settings = upstream.settings
    topic = settings.topic_flagged + ".codecs"
    create_topics(settings, [topic], partitions=1)
    reviews = list(upstream.reviews().values())[:2]
    expected: set[str] = set()
    for codec in CODECS:
        producer = Producer(
            {"bootstrap.servers": settings.bootstrap_servers, "compression.type": codec}
        )
        for review in reviews:
            copy = {**review, "article_id": f"{review['article_id']}@{codec}"}
            producer.produce(topic, value=json.dumps(copy).encode(), headers=HEADERS)
            expected.add(copy["article_id"])
        assert producer.flush(30) == 0
    read = [read_review_record(m.value) for m in read_to_end(settings.kafka_client_config(), topic)]
    assert {record.article_id for record in read} == expected

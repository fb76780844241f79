"""The review app in a real headless Chromium, fed by and producing to the real broker.

`claimwatch review serve` runs as its own process. Review records go to the
flagged topic; a reviewer loads the queue, opens an item, sees the cues
highlighted with the evidence (why it was flagged, hedged sentences, who → cue →
what), submits a verdict; the verdict is read back from the verdicts topic and
exported as labelled JSONL. A second reviewer meets the lock, and a title, body and
evidence carrying ``<script>`` show up as text and never run.

Claim clusters: three articles of one claim are one row of the queue; every
membership is on the claims topic; a reviewer moves one article out of the cluster
(a split), the review service restarts and remembers it, a fourth article joins
the same cluster, and one verdict on the cluster reaches the verdicts topic once
per member, each with the cluster id.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from service.settings import Settings

playwright_api = pytest.importorskip("playwright.sync_api")

expect = playwright_api.expect
pytestmark = pytest.mark.broker

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "test-team-token"
ROOT = Path(__file__).resolve().parents[2]

TEXT = (
    "The mayor allegedly approved the harbour contract without a vote. "
    "Council member Ana Ruiz claimed the deal was signed in secret. "
    "The mayor's office denied any wrongdoing. "
    "It was reported that the vote was skipped twice."
)
BRIDGE_TEXT = (
    "The minister allegedly approved the bridge repairs without an inspection. "
    "Engineer Tom Beck claimed the bridge cables were never tested. "
    "The ministry denied that any bridge inspection was skipped."
)
BRIDGE_CUES = [("allegedly", "hedged_attribution"), ("claimed", "claim"), ("denied", "denial")]
XSS_TITLE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
XSS_TEXT = (
    "Officials reportedly moved the funds. <script>window.__pwned = 3</script> "
    '<img src=x onerror="window.__pwned = 4"> The minister denied the report.'
)


def review_record(
    article_id: str,
    title: str,
    text: str,
    score: float,
    cues: list[tuple[str, str]],
    source: str = "harbour-gazette",
) -> dict[str, Any]:
    """A review record as DESIGN.md lists it, with exact offsets into ``text``."""
    sentences: list[dict[str, Any]] = [
        {"index": i, "text": m.group(0), "start": m.start(), "end": m.end()}
        for i, m in enumerate(re.finditer(r"[^. ][^.]*\.", text))
    ]
    signals: list[dict[str, Any]] = []
    for phrase, category in cues:
        start = text.index(phrase)
        index = next(s["index"] for s in sentences if s["start"] <= start < s["end"])
        signals.append(
            {
                "text": phrase,
                "category": category,
                "start": start,
                "end": start + len(phrase),
                "sentence": index,
            }
        )
    by_category = {c["category"]: sentences[c["sentence"]] for c in signals}
    pairs = []
    if "claim" in by_category and "denial" in by_category:
        pairs.append(
            {
                "claim": by_category["claim"],
                "denial": by_category["denial"],
                "claimant": "Ana Ruiz",
                "denier": "The mayor's office",
            }
        )
    return {
        "article_id": article_id,
        "title": title,
        "source": source,
        "url": f"https://example.org/{article_id}",
        "text": text,
        "score": score,
        "threshold": 0.5,
        "flagged": True,
        "tier": "high",
        "model": {"name": "claimwatch-linear", "version": "2025.11-test", "artifact_hash": "ab"},
        "signals": signals,
        "sentences": [s for s in sentences if any(c["sentence"] == s["index"] for c in signals)],
        "contested_pairs": pairs,
        "source_topic": "articles",
        "source_partition": 0,
        "source_offset": 1,
        "received_at": "2025-11-25T10:00:00+00:00",
        "scored_at": "2025-11-25T10:00:00+00:00",
    }


def span(text: str, phrase: str | None) -> dict[str, Any] | None:
    if phrase is None:
        return None
    start = text.index(phrase)
    return {"text": phrase, "start": start, "end": start + len(phrase)}


def with_evidence(
    record: dict[str, Any],
    hedges: list[float],
    reasons: list[tuple[str, float | None, str]],
    attributions: list[tuple[str, str | None, str, str, tuple[str, str] | None]],
) -> dict[str, Any]:
    """The record with the evidence model's fields: every sentence with its hedge
    probability, the flag reasons, and attributions (kind, source, cue, content, party)."""
    text = record["text"]
    sentences = [
        {"index": i, "text": m.group(0), "start": m.start(), "end": m.end(), "hedge": hedge}
        for (i, m), hedge in zip(enumerate(re.finditer(r"[^. ][^.]*\.", text)), hedges, strict=True)
    ]
    record["sentences"] = sentences
    record["hedge_threshold"] = 0.6
    record["refutation_score"] = 0.2
    record["flag_reasons"] = [{"feature": f, "weight": w, "text": t} for f, w, t in reasons]
    record["attributions"] = [
        {
            "kind": kind,
            "sentence": next(s["index"] for s in sentences if said in s["text"]),
            "source": span(text, source),
            "cue": span(text, said),
            "content": span(text, content),
            "party": None if party is None else {"name": party[0], "kind": party[1]},
        }
        for kind, source, said, content, party in attributions
    ]
    return record


def wait_for(condition: Callable[[], Any], what: str, timeout_s: float = 60.0) -> Any:
    """Poll ``condition`` until it returns something truthy, or fail after the deadline."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env_for(settings: Settings, db: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "CLAIMWATCH_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
            "CLAIMWATCH_HOME": str(settings.home),
            "CLAIMWATCH_TOPIC_ARTICLES": settings.topic_articles,
            "CLAIMWATCH_TOPIC_FLAGGED": settings.topic_flagged,
            "CLAIMWATCH_TOPIC_VERDICTS": settings.topic_verdicts,
            "CLAIMWATCH_TOPIC_CLAIMS": settings.topic_claims,
            "CLAIMWATCH_REVIEW_DB": str(db),
            "CLAIMWATCH_REVIEW_TOKEN": TOKEN,
            "CLAIMWATCH_REVIEW_PORT": str(port),
            "CLAIMWATCH_REVIEW_LOCK_S": "120",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def get_json(url: str, user: str = "alice") -> Any:
    request = urllib.request.Request(
        url, headers={"Authorization": "Bearer " + TOKEN, "X-Reviewer": user}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


class ReviewServer:
    """`claimwatch review serve` as a separate process, which a test may restart."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.log = env, log
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service.cli", "review", "serve"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self.healthy, "the review app to listen", 30)

    def healthy(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.log.read_text()
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None


@pytest.fixture
def review_app(
    broker_settings: Settings, create_topics: Callable[..., list[str]], tmp_path: Path
) -> Iterator[ReviewServer]:
    """`claimwatch review serve` on this test's topics and its own SQLite file."""
    create_topics(partitions=2)
    port = free_port()
    server = ReviewServer(
        env_for(broker_settings, tmp_path / "review.sqlite3", port), port, tmp_path / "serve.log"
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def produce(
    settings: Settings, records: list[dict[str, Any]], partition: int | None = None
) -> None:
    """Send review records (to one ``partition`` when given: read in the order sent)."""
    producer = KafkaProducer(**settings.kafka_client_config(), acks="all")
    for record in records:
        producer.send(
            settings.topic_flagged,
            key=record["article_id"].encode(),
            value=json.dumps(record).encode(),
            partition=partition,
        )
    producer.flush(30)
    producer.close()


def read_topic(settings: Settings, topic: str, count: int) -> list[tuple[str, dict[str, Any]]]:
    """Wait for ``count`` messages on ``topic`` and return (key, value) pairs."""
    consumer = KafkaConsumer(
        **settings.kafka_client_config(), group_id=None, enable_auto_commit=False
    )
    parts = [
        TopicPartition(topic, p)
        for p in wait_for(lambda: consumer.partitions_for_topic(topic), f"the topic {topic}")
    ]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    found: list[tuple[str, dict[str, Any]]] = []

    def enough() -> bool:
        for batch in consumer.poll(timeout_ms=500).values():
            found.extend((m.key.decode(), json.loads(m.value)) for m in batch)
        return len(found) >= count

    try:
        wait_for(enough, f"{count} message(s) on {topic}", 60)
    finally:
        consumer.close()
    return found


def read_verdicts(settings: Settings, count: int) -> list[tuple[str, dict[str, Any]]]:
    """Wait for ``count`` messages on the verdicts topic and return (key, value) pairs."""
    return read_topic(settings, settings.topic_verdicts, count)


def launch(playwright: Any) -> Any:
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium package at /usr/bin/chromium")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def test_review_round_trip_in_chromium(
    review_app: ReviewServer, broker_settings: Settings, tmp_path: Path
) -> None:
    base, env = review_app.base, review_app.env
    plain = with_evidence(
        review_record(
            "harbour-1",
            "Mayor approved harbour deal, council member says",
            TEXT,
            0.88,
            [("allegedly", "hedged_attribution"), ("claimed", "claim"), ("denied", "denial")],
        ),
        hedges=[0.91, 0.3, 0.05, 0.72],
        reasons=[
            ("pair_claim_denied_by_other_party", 1.2, "claim by Ana Ruiz denied by mayor's office"),
            ("hedged_share", 0.8, "2 of 4 sentences hedged (in the headline or lede)"),
            ("attribution_report", None, "reported secondhand"),
        ],
        attributions=[
            (
                "claim",
                "Council member Ana Ruiz",
                "claimed",
                "the deal was signed in secret",
                ("Ana Ruiz", "person"),
            ),
            (
                "denial",
                "The mayor's office",
                "denied",
                "any wrongdoing",
                ("mayor's office", "organisation"),
            ),
            ("report", None, "was reported", "the vote was skipped twice", None),
        ],
    )
    hostile = with_evidence(
        review_record(
            "xss-1",
            XSS_TITLE,
            XSS_TEXT,
            0.97,
            [("reportedly", "hedged_attribution"), ("denied", "denial")],
        ),
        hedges=[0.7, 0.1, 0.1, 0.1],
        reasons=[("<b>feature</b>", 1.0, XSS_TITLE)],
        attributions=[
            ("<script>kind</script>", "<script>window.__pwned = 3</script>", "moved", "the", None)
        ],
    )
    produce(broker_settings, [plain, hostile, plain])  # the repeat is a re-delivery

    def queued() -> list[str]:
        return [i["article_id"] for i in get_json(base + "/api/queue")["items"]]

    wait_for(lambda: len(queued()) == 2, "both flagged items in the review queue")
    assert queued() == ["xss-1", "harbour-1"]  # same tier: higher score first

    with playwright_api.sync_playwright() as playwright:
        browser = launch(playwright)
        alice = browser.new_context(
            http_credentials={"username": "alice", "password": TOKEN},
            viewport={"width": 1100, "height": 720},
        )
        page = alice.new_page()
        dialogs: list[str] = []

        def on_dialog(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)

        page.goto(base + "/")
        rows = page.locator("table.queue tbody tr")
        assert rows.count() == 2
        assert rows.nth(0).locator("td").nth(2).inner_text() == XSS_TITLE  # shown, as text
        assert rows.nth(1).locator("td").nth(2).inner_text() == plain["title"]
        page.screenshot(path=str(tmp_path / "review-queue.png"))

        # Open the hostile claim, then its article: markup is text and nothing ran.
        page.get_by_role("link", name=XSS_TITLE).click()
        expect(page.get_by_test_id("title")).to_have_text(XSS_TITLE)
        assert page.url.startswith(base + "/clusters/claim-")
        assert page.evaluate("typeof window.__pwned") == "undefined"
        page.get_by_test_id("members").get_by_role("link", name=XSS_TITLE).click()
        expect(page.get_by_test_id("text")).to_be_visible()
        assert page.get_by_test_id("title").inner_text() == XSS_TITLE
        assert "<script>window.__pwned = 3</script>" in page.get_by_test_id("text").inner_text()
        assert page.get_by_test_id("why").locator("li").all_inner_texts() == [
            XSS_TITLE + " (<b>feature</b>, weight 1.00)"
        ]
        assert page.get_by_test_id("attributions").locator("li").all_inner_texts() == [
            "<script>kind</script> <script>window.__pwned = 3</script> → moved → the"
        ]
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.locator("main script, main img").count() == 0

        # A second reviewer claims the plain item first: alice sees the lock, no buttons.
        bob = browser.new_context(http_credentials={"username": "bob", "password": TOKEN})
        bob_page = bob.new_page()
        bob_page.goto(base + "/articles/harbour-1")
        bob_page.get_by_role("button", name="Claim for review").click()
        expect(bob_page.locator("section.review")).to_contain_text("Claimed by you")
        page.goto(base + "/articles/harbour-1")
        assert "In review by bob" in page.locator("section.review").inner_text()
        assert page.get_by_role("button", name="Contested").count() == 0
        bob_page.get_by_role("button", name="Release").click()
        expect(bob_page.locator("table.queue")).to_contain_text("open")

        # Alice claims the claim from the queue, opens its one article, sees the
        # highlights and decides.
        page.goto(base + "/")
        rows.filter(has_text=plain["title"]).get_by_role("button", name="Review").click()
        expect(page.locator("section.review")).to_contain_text("Claimed by you")
        assert page.url.startswith(base + "/clusters/claim-")
        page.get_by_test_id("members").get_by_role("link", name=plain["title"]).click()
        expect(page.locator("section.review")).to_contain_text("Claimed by you")
        assert page.url == base + "/articles/harbour-1"
        marks = page.get_by_test_id("text").locator("mark.cue")
        assert marks.all_inner_texts() == ["allegedly", "claimed", "denied"]
        assert [marks.nth(i).get_attribute("data-category") for i in range(3)] == [
            "hedged_attribution",
            "claim",
            "denial",
        ]
        pair = page.locator("table.pairs tbody tr").first.locator("td")
        assert pair.all_inner_texts()[1::2] == ["Ana Ruiz", "The mayor's office"]
        assert pair.nth(0).locator("mark").inner_text() == "claimed"

        # The evidence: why it was flagged, the hedged sentences, who said what.
        why = page.get_by_test_id("why")
        expect(why).to_be_visible()
        assert why.locator("h2").inner_text() == "Why flagged"
        assert why.locator("li").all_inner_texts() == [
            "claim by Ana Ruiz denied by mayor's office"
            " (pair_claim_denied_by_other_party, weight 1.20)",
            "2 of 4 sentences hedged (in the headline or lede) (hedged_share, weight 0.80)",
            "reported secondhand (attribution_report)",
        ]
        hedged = page.get_by_test_id("sentences").locator("li.hedged")
        expect(hedged.first).to_be_visible()
        assert hedged.all_inner_texts() == [
            "hedged 0.91 The mayor allegedly approved the harbour contract without a vote.",
            "hedged 0.72 It was reported that the vote was skipped twice.",
        ]
        assert hedged.first.locator("mark.cue").inner_text() == "allegedly"
        assert page.get_by_test_id("sentences").locator("li").count() == 4
        attributions = page.get_by_test_id("attributions")
        expect(attributions).to_be_visible()
        assert attributions.locator("li").all_inner_texts() == [
            "claim Council member Ana Ruiz (person: Ana Ruiz) → claimed"
            " → the deal was signed in secret",
            "denial The mayor's office (organisation: mayor's office) → denied → any wrongdoing",
            "report (no source) → was reported → the vote was skipped twice",
        ]
        assert [attributions.locator("li").nth(i).get_attribute("data-kind") for i in range(3)] == [
            "claim",
            "denial",
            "report",
        ]
        page.screenshot(path=str(tmp_path / "review-article.png"), full_page=True)
        page.get_by_label("Note (optional)").fill("Two named sources contradict each other.")
        page.get_by_role("button", name="Contested", exact=True).click()

        expect(page.get_by_role("status")).to_contain_text("Verdict recorded for")
        assert page.url.startswith(base + "/?decided=harbour-1")
        assert page.locator("table.queue tbody tr").count() == 1
        assert dialogs == []
        browser.close()

    ((key, verdict),) = read_verdicts(broker_settings, 1)
    assert key == "harbour-1"
    assert verdict["verdict"] == "contested" and verdict["reviewer"] == "alice"
    assert verdict["note"] == "Two named sources contradict each other."
    assert verdict["model_version"] == "2025.11-test" and verdict["decided_at"]
    assert queued() == ["xss-1"]

    # Feedback loop: verdicts joined with the stored articles, as labelled JSONL.
    out = tmp_path / "labelled.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "verdicts", "export", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "exported 1 labelled articles; skipped 0 unsure" in result.stderr
    (line,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert line == {
        "id": "harbour-1",
        "text": TEXT,
        "label": "contested",
        "verdict": "contested",
        "reviewer": "alice",
        "decided_at": verdict["decided_at"],
        "model_version": "2025.11-test",
        "title": plain["title"],
    }


def test_claim_clusters_in_chromium(
    review_app: ReviewServer, broker_settings: Settings, tmp_path: Path
) -> None:
    base, settings = review_app.base, broker_settings
    titles = {
        "bridge-1": "Bridge repairs approved without inspection",
        "bridge-2": "Bridge cables never tested, engineer claims",
        "bridge-3": "Ministry denies skipped bridge inspection",
        "bridge-4": "Minister approved bridge repairs, engineer says",
    }

    def bridge(n: int, score: float) -> dict[str, Any]:
        article_id = f"bridge-{n}"
        return review_record(
            article_id, titles[article_id], BRIDGE_TEXT, score, BRIDGE_CUES, f"outlet-{n}"
        )

    harbour = review_record("harbour-1", "Harbour deal signed in secret", TEXT, 0.95, [])
    produce(settings, [bridge(1, 0.8), bridge(2, 0.7), harbour, bridge(3, 0.75)], partition=0)

    def clusters() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = get_json(base + "/api/clusters")["clusters"]
        return found

    wait_for(lambda: sum(c["articles"] for c in clusters()) == 4, "4 articles in clusters")
    # the bridge claim (three outlets within the hour) spreads faster than the harbour one
    assert [(c["articles"], c["sources"]) for c in clusters()] == [(3, 3), (1, 1)]
    cluster_id = clusters()[0]["cluster_id"]
    memberships = {
        v["article_id"]: (k, v) for k, v in read_topic(settings, settings.topic_claims, 4)
    }
    assert sorted(memberships) == ["bridge-1", "bridge-2", "bridge-3", "harbour-1"]
    for n in (1, 2, 3):
        key, value = memberships[f"bridge-{n}"]
        assert key == value["cluster_id"] == cluster_id
        assert (value["size"], value["sources"], value["source"]) == (n, n, f"outlet-{n}")
        assert value["first_seen"] == memberships["bridge-1"][1]["first_seen"]
        assert 0.1 <= value["similarity"] <= 1.0
    assert memberships["harbour-1"][0] != cluster_id
    assert set(memberships["harbour-1"][1]) == {
        "cluster_id", "article_id", "source", "similarity", "first_seen", "size", "sources"
    }  # fmt: skip
    cluster_page = f"{base}/clusters/{cluster_id}"

    with playwright_api.sync_playwright() as playwright:
        browser = launch(playwright)
        alice = browser.new_context(http_credentials={"username": "alice", "password": TOKEN})
        page = alice.new_page()
        page.goto(base + "/")
        rows = page.locator("table.queue tbody tr")
        assert rows.count() == 2
        assert rows.nth(0).get_attribute("data-cluster-id") == cluster_id
        assert rows.nth(0).locator("td").all_inner_texts()[1:5] == [
            "0.800",
            titles["bridge-1"],  # the strongest member's headline
            "3",
            "3",
        ]

        # The cluster page: every member with its evidence; bridge-3 is moved out.
        page.get_by_role("link", name=titles["bridge-1"]).click()
        assert page.url == cluster_page
        members = page.locator("li.member")
        expect(members).to_have_count(3)
        assert [members.nth(i).get_attribute("data-article-id") for i in range(3)] == [
            "bridge-1",
            "bridge-3",
            "bridge-2",
        ]
        for i in range(3):
            assert members.nth(i).locator("mark.cue").all_inner_texts() == [
                "allegedly",
                "claimed",
                "denied",
            ]
        page.screenshot(path=str(tmp_path / "review-cluster.png"), full_page=True)
        members.filter(has_text=titles["bridge-3"]).get_by_role(
            "button", name="Not this claim: move out"
        ).click()
        expect(page.get_by_role("status")).to_contain_text("moved out of this claim")
        expect(members).to_have_count(2)
        assert page.locator("dl.facts").get_by_test_id("articles").inner_text() == "2"

        # The split survives a restart of the review service, and the rebuilt
        # clusterer puts a new article of the claim into the same cluster.
        review_app.stop()
        review_app.start()
        page.goto(cluster_page)
        assert members.all_inner_texts() and members.count() == 2
        page.goto(base + "/articles/bridge-3")
        moved = page.get_by_test_id("cluster")
        assert moved.inner_text() != cluster_id
        expect(page.locator("dl.facts")).to_contain_text("(1 article)")
        produce(settings, [bridge(4, 0.6)], partition=0)
        wait_for(
            lambda: get_json(f"{base}/api/clusters/{cluster_id}")["articles"] == 3,
            "bridge-4 in the bridge cluster",
        )

        # One verdict on the cluster: one verdict record per member.
        page.goto(cluster_page)
        page.get_by_role("button", name="Claim cluster for review").click()
        expect(page.locator("section.review")).to_contain_text("one verdict applies to all 3")
        page.get_by_label("Note (optional)").fill("Same claim, three outlets.")
        page.get_by_role("button", name="Contested", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text(
            f"Verdict recorded for 3 articles of claim {cluster_id}"
        )
        assert page.locator("table.queue tbody tr").count() == 2  # bridge-3 and harbour-1
        browser.close()

    verdicts = sorted(read_verdicts(settings, 3))
    assert [key for key, _ in verdicts] == ["bridge-1", "bridge-2", "bridge-4"]
    for key, verdict in verdicts:
        assert verdict["article_id"] == key and verdict["cluster_id"] == cluster_id
        assert verdict["verdict"] == "contested" and verdict["reviewer"] == "alice"
        assert verdict["note"] == "Same claim, three outlets."
    messages = read_topic(settings, settings.topic_claims, 6)
    assert len(messages) == 6  # nothing sent twice across the restart
    [(split_key, split)] = [(k, v) for k, v in messages if v["article_id"] == "bridge-3" and
                            k != cluster_id]  # fmt: skip
    assert (split["cluster_id"], split["size"], split["similarity"]) == (split_key, 1, 1.0)
    [(key, joined)] = [(k, v) for k, v in messages if v["article_id"] == "bridge-4"]
    assert (key, joined["size"], joined["sources"]) == (cluster_id, 3, 3)

    # The split, and the members the cluster verdict confirmed, as threshold data.
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "claims", "splits"],
        cwd=ROOT,
        env=review_app.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(x["article_id"], x["cluster_id"], x["same_claim"]) for x in lines] == [
        ("bridge-3", cluster_id, False),
        ("bridge-2", cluster_id, True),
        ("bridge-4", cluster_id, True),
    ]

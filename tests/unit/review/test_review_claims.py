"""Claim clusters in the review store: placement, the outbox, the queue order, splits, restarts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from review_factory import make_record

from service.cli.main import main
from service.review.claims import ClaimAssigner
from service.review.claims_store import ClaimStore, Placement
from service.review.records import ReviewRecord, read_review_record
from service.review.store import ReviewConflictError, ReviewStore

DAY = 24 * 3600.0
HARBOUR = (
    "Council member Ana Ruiz claimed the harbour contract was signed in secret. "
    "The mayor's office denied that the harbour contract was signed without a vote."
)
FLOOD = (
    "Residents reportedly saw the river dam crack before the flood. "
    "The water authority denied that the dam had cracked."
)


def record(article_id: str, text: str, source: str, **fields: object) -> ReviewRecord:
    return read_review_record(make_record(article_id, text=text, source=source, cues=[], **fields))


def by_title(record: ReviewRecord) -> dict[str, float]:
    """Claim terms that make articles with the same title one claim, and only those."""
    return {record.title: 1.0}


def outbox(claims: ClaimStore) -> list[tuple[str, dict[str, object]]]:
    return [(key, json.loads(value)) for _, key, value in claims.pending_messages()]


def test_each_stored_article_joins_a_cluster_once_and_its_membership_is_queued(
    tmp_path: Path,
) -> None:
    store = ReviewStore(tmp_path / "review.sqlite3")
    claims = ClaimStore(store)
    assigner = ClaimAssigner(claims)
    store.add(
        [
            record("h-1", HARBOUR, "gazette", title="Harbour contract signed in secret"),
            record("f-1", FLOOD, "river-news", title="Dam cracked before flood"),
            record("h-2", HARBOUR, "wire", title="Harbour deal secret, councillor says"),
        ],
        now=1000.0,
    )
    assert assigner.assign_pending() == 3
    assert assigner.assign_pending() == 0  # each article once
    harbour, flood = claims.cluster_of("h-1"), claims.cluster_of("f-1")
    assert harbour is not None and flood is not None and harbour != flood
    assert claims.cluster_of("h-2") == harbour
    messages = outbox(claims)
    assert [key for key, _ in messages] == [harbour, flood, harbour]
    assert messages[2][1] == {
        "cluster_id": harbour,
        "article_id": "h-2",
        "source": "wire",
        "similarity": messages[2][1]["similarity"],
        "first_seen": 1000.0,
        "size": 2,
        "sources": 2,
    }
    assert messages[0][1]["size"] == 1 and messages[0][1]["similarity"] == 1.0
    assert 0.1 <= float(messages[2][1]["similarity"]) < 1.0  # type: ignore[arg-type]
    claims.join([Placement("h-1", "claim-other", 0.5, 2000.0)])  # placed already: ignored
    assert claims.cluster_of("h-1") == harbour and len(outbox(claims)) == 3
    first_id = claims.pending_messages()[0][0]
    claims.mark_produced(first_id)
    assert [m["article_id"] for _, m in outbox(claims)] == ["f-1", "h-2"]


def test_the_queue_lists_clusters_by_tier_then_spread_then_score(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "review.sqlite3")
    claims = ClaimStore(store)
    start = 1_000_000.0

    def add(article_id: str, title: str, source: str, tier: str, score: float, hour: float) -> None:
        fields = {"title": title, "tier": tier, "score": score}
        store.add([record(article_id, HARBOUR, source, **fields)], now=start + hour * 3600)

    # stored in time order, as the intake stores them
    add("slow-1", "slow", "a", "high", 0.99, 0)  # one source over 10 hours
    add("fast-1", "fast", "a", "high", 0.6, 0)  # three sources within the hour
    add("fast-2", "fast", "b", "medium", 0.9, 0.5)
    add("fast-3", "fast", "c", "high", 0.7, 0.9)
    add("calm-1", "calm", "a", "high", 0.8, 2)  # one source in an hour, like "lone"
    add("lone-1", "lone", "a", "high", 0.95, 3)
    add("many-1", "many", "a", "medium", 0.99, 3)  # spreads fastest, but medium
    add("many-2", "many", "b", "medium", 0.99, 3)
    add("many-3", "many", "c", "medium", 0.99, 3)
    add("many-4", "many", "d", "medium", 0.99, 3)
    add("slow-2", "slow", "a", "high", 0.5, 10)
    ClaimAssigner(claims, terms=by_title).assign_pending()
    listed = claims.clusters()
    assert [c.representative for c in listed] == ["fast-3", "lone-1", "calm-1", "slow-1", "many-1"]
    fast = listed[0]
    assert (fast.articles, fast.sources, fast.queued, fast.tier) == (3, 3, 3, "high")
    assert fast.headline == "fast" and fast.spread == 3.0
    assert fast.last_seen - fast.first_seen == pytest.approx(0.9 * 3600)
    assert listed[3].spread == pytest.approx(0.1)  # 1 source in 10 hours
    store.decide("fast-3", "alice", "contested")
    store.decide("fast-1", "alice", "contested")
    fast = claims.clusters()[-1]  # only its medium member is open now
    assert (fast.representative, fast.queued, fast.articles, fast.tier) == (
        "fast-2",
        1,
        3,
        "medium",
    )
    assert [c.representative for c in claims.clusters(source="b")] == ["many-1", "fast-2"]
    assert [c.representative for c in claims.clusters(tier="MEDIUM")] == ["many-1", "fast-2"]


def test_a_split_is_kept_across_a_restart_and_exported(tmp_path: Path) -> None:
    path = tmp_path / "review.sqlite3"
    store = ReviewStore(path, lock_seconds=60)
    claims = ClaimStore(store)
    store.add([record(f"s-{n}", HARBOUR, f"source-{n}", title="same") for n in range(3)], now=100.0)
    ClaimAssigner(claims, terms=by_title).assign_pending()
    cluster = claims.cluster_of("s-0")
    assert cluster is not None
    store.claim("s-2", "bob", now=1e12)
    with pytest.raises(ReviewConflictError, match="being reviewed by bob"):
        claims.split("s-2", "alice")
    split = claims.split("s-1", "alice", now=200.0)
    assert (split.from_cluster, split.article_id, split.reviewer) == (cluster, "s-1", "alice")
    assert split.to_cluster != cluster and split.similarity == 1.0
    assert split.split_at == "1970-01-01T00:03:20.000+00:00"
    summary, members = claims.cluster(cluster)
    assert (summary.articles, summary.sources) == (2, 2)
    assert [m.item.record.article_id for m in members] == ["s-0", "s-2"]
    key, message = outbox(claims)[-1]
    assert key == split.to_cluster
    assert (message["article_id"], message["size"], message["similarity"]) == ("s-1", 1, 1.0)
    store.close()

    store = ReviewStore(path)
    claims = ClaimStore(store)
    assigner = ClaimAssigner(claims, terms=by_title)
    assert assigner.rebuild() == 3
    assert claims.cluster_of("s-1") == split.to_cluster
    assert claims.splits() == [split]
    _, [moved] = claims.cluster(split.to_cluster)
    assert moved.split_from == cluster
    with pytest.raises(ReviewConflictError, match="alone"):
        claims.split("s-1", "alice")
    store.add([record("s-3", HARBOUR, "source-3", title="same")], now=300.0)
    assigner.assign_pending()
    assert claims.cluster_of("s-3") == cluster  # the clusterer's cluster, not the split's


def test_a_restart_rebuilds_the_window_and_new_articles_join_the_stored_clusters(
    tmp_path: Path,
) -> None:
    path = tmp_path / "review.sqlite3"
    store = ReviewStore(path)
    claims = ClaimStore(store)
    # c-1 founds the cluster, c-2 joins six days later, c-3 six days after that:
    # the cluster lives on (joined within the week each time), c-1 is outside the
    # week before the restart.
    for n, day in [(1, 0), (2, 6), (3, 12)]:
        store.add([record(f"c-{n}", HARBOUR, f"src-{n}", title="same")], now=day * DAY)
    store.add([record("other", FLOOD, "src-9", title="other")], now=12 * DAY)
    uninterrupted = ClaimAssigner(claims, terms=by_title)
    uninterrupted.assign_pending()
    cluster = claims.cluster_of("c-1")
    assert claims.cluster_of("c-3") == cluster
    store.close()

    store = ReviewStore(path)
    claims = ClaimStore(store)
    rebuilt = ClaimAssigner(claims, terms=by_title)
    assert rebuilt.rebuild() == 3  # c-2, c-3 and other: c-1 joined before the window
    store.add([record("c-4", HARBOUR, "src-4", title="same")], now=13 * DAY)
    store.add([record("new", HARBOUR, "src-5", title="new claim")], now=13 * DAY)
    assert rebuilt.assign_pending() == 2
    # the replay founded its cluster with c-2; c-4 still joins the stored one
    assert claims.cluster_of("c-4") == cluster
    assert claims.cluster_of("new") not in (None, cluster, claims.cluster_of("other"))
    summary, _ = claims.cluster(cluster or "")
    assert (summary.articles, summary.first_seen, summary.last_seen) == (4, 0.0, 13 * DAY)


def test_a_restart_with_an_empty_store_and_an_unknown_cluster(tmp_path: Path) -> None:
    claims = ClaimStore(ReviewStore(tmp_path / "review.sqlite3"))
    assert ClaimAssigner(claims).rebuild() == 0
    assert claims.clusters() == [] and claims.pending_messages() == []
    with pytest.raises(Exception, match="no claim cluster"):
        claims.cluster("claim-0")


def test_splits_and_confirmed_memberships_are_exported_for_the_threshold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "review.sqlite3"
    store = ReviewStore(path)
    claims = ClaimStore(store)
    store.add(
        [
            record("h-1", HARBOUR, "gazette", title="Harbour contract signed in secret"),
            record("h-2", HARBOUR, "wire", title="Harbour deal secret, councillor says"),
            record("h-3", HARBOUR, "blog", title="Harbour contract signed in secret"),
        ],
        now=1000.0,
    )
    ClaimAssigner(claims).assign_pending()
    cluster = claims.cluster_of("h-1")
    assert cluster is not None and claims.cluster_of("h-3") == cluster
    split = claims.split("h-3", "bob", now=2000.0)
    store.decide_all(["h-1", "h-2"], "alice", "contested", cluster_id=cluster)
    store.close()

    monkeypatch.delenv("CLAIMWATCH_REVIEW_DB", raising=False)
    assert main(["claims", "splits", "--db", str(path)]) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert "exported 1 splits and 1 confirmed memberships" in err
    assert [(x["article_id"], x["cluster_id"], x["same_claim"]) for x in lines] == [
        ("h-3", cluster, False),
        ("h-2", cluster, True),  # h-1 founded the cluster: nothing to learn from it
    ]
    assert lines[0]["similarity"] == split.similarity < 1.0
    assert lines[0]["reviewer"] == "bob" and lines[1]["reviewer"] == "alice"
    assert lines[0]["text"] == HARBOUR and lines[0]["source"] == "blog"
    assert main(["claims", "splits", "--db", str(tmp_path / "none.sqlite3")]) == 2

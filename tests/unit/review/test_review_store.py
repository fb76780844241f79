"""The review store: dedupe on re-delivery, queue order, locks with expiry, the outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from review_factory import make_record

from service.review.records import ReviewRecord, read_review_record
from service.review.store import ItemNotFoundError, ReviewConflictError, ReviewStore


def record(article_id: str, **kwargs: Any) -> ReviewRecord:
    return read_review_record(make_record(article_id, **kwargs))


@pytest.fixture
def store(tmp_path: Path) -> ReviewStore:
    return ReviewStore(tmp_path / "review.sqlite3", lock_seconds=60)


def test_redelivered_records_do_not_duplicate(store: ReviewStore) -> None:
    assert store.add([record("a"), record("b")], "flagged", {0: 2}) == 2
    assert store.add([record("a"), record("b")], "flagged", {0: 2}) == 0
    assert [i.record.article_id for i in store.queue()] == ["a", "b"]


def test_a_decided_item_stays_out_of_the_queue_when_redelivered(store: ReviewStore) -> None:
    store.add([record("a")])
    store.decide("a", "alice", "contested")
    assert store.add([record("a")]) == 0
    assert store.queue() == []


def test_offsets_only_move_forward(store: ReviewStore) -> None:
    store.add([], "flagged", {0: 10, 1: 3})
    store.add([], "flagged", {0: 4})
    assert store.next_offsets("flagged") == {0: 10, 1: 3}
    assert store.next_offsets("other") == {}


def test_queue_orders_by_tier_then_score_and_filters(store: ReviewStore) -> None:
    store.add(
        [
            record("m9", tier="medium", score=0.9, source="s1"),
            record("h6", tier="high", score=0.6, source="s2"),
            record("h8", tier="high", score=0.8, source="s1"),
            record("x9", tier="weird", score=0.99, source="s1"),
        ]
    )
    assert [i.record.article_id for i in store.queue()] == ["h8", "h6", "m9", "x9"]
    assert [i.record.article_id for i in store.queue(source="s1")] == ["h8", "m9", "x9"]
    assert [i.record.article_id for i in store.queue(tier="HIGH")] == ["h8", "h6"]
    assert store.facets() == (["s1", "s2"], ["high", "medium", "weird"])


def test_two_reviewers_cannot_hold_the_same_item(store: ReviewStore) -> None:
    store.add([record("a")])
    lock = store.claim("a", "alice", now=1000.0)
    assert (lock.reviewer, lock.expires) == ("alice", 1060.0)
    with pytest.raises(ReviewConflictError, match="being reviewed by alice"):
        store.claim("a", "bob", now=1001.0)
    with pytest.raises(ReviewConflictError, match="being reviewed by alice"):
        store.decide("a", "bob", "not_contested", now=1001.0)
    # Claiming again extends one's own lock.
    assert store.claim("a", "alice", now=1030.0).expires == 1090.0


def test_an_expired_lock_can_be_taken_over(store: ReviewStore) -> None:
    store.add([record("a")])
    store.claim("a", "alice", now=1000.0)
    assert store.claim("a", "bob", now=1060.0).reviewer == "bob"
    with pytest.raises(ReviewConflictError, match="being reviewed by bob"):
        store.decide("a", "alice", "contested", now=1061.0)


def test_release_frees_only_ones_own_lock(store: ReviewStore) -> None:
    store.add([record("a")])
    store.claim("a", "alice", now=1000.0)
    store.release("a", "bob")
    assert store.get("a").lock is not None
    store.release("a", "alice")
    assert store.get("a").lock is None


def test_a_decision_leaves_the_queue_and_waits_in_the_outbox(store: ReviewStore) -> None:
    store.add([record("a", version="7.1"), record("b")])
    store.claim("a", "alice")
    verdict = store.decide("a", "alice", "contested", note="two sources", now=0.0)
    assert verdict.model_version == "7.1"
    assert verdict.decided_at == "1970-01-01T00:00:00.000+00:00"
    assert [i.record.article_id for i in store.queue()] == ["b"]
    assert [v.article_id for v in store.pending_verdicts()] == ["a"]
    with pytest.raises(ReviewConflictError, match="already been decided"):
        store.decide("a", "bob", "unsure")
    store.mark_produced("a")
    assert store.pending_verdicts() == []
    assert [v.note for v in store.verdicts()] == ["two sources"]
    assert store.counts() == {"queued": 1, "decided": 1, "verdicts_pending": 0}


def test_unknown_items_are_reported(store: ReviewStore) -> None:
    with pytest.raises(ItemNotFoundError):
        store.get("nope")
    with pytest.raises(ItemNotFoundError):
        store.claim("nope", "alice")


def test_the_queue_and_secrets_survive_a_restart(tmp_path: Path) -> None:
    first = ReviewStore(tmp_path / "r.sqlite3")
    first.add([record("a"), record("b")], "flagged", {0: 2})
    first.decide("b", "alice", "unsure")
    secret = first.secret("csrf_key")
    first.close()
    second = ReviewStore(tmp_path / "r.sqlite3")
    assert [i.record.article_id for i in second.queue()] == ["a"]
    assert second.next_offsets("flagged") == {0: 2}
    assert second.secret("csrf_key") == secret
    assert [v.article_id for v in second.pending_verdicts()] == ["b"]

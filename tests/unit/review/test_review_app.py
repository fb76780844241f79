"""The review web app over HTTP: auth, CSRF refusals, escaping, locks, verdicts, clusters."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from review_factory import XSS_TEXT, XSS_TITLE, make_record

from service.review.app import build_app
from service.review.auth import Authenticator
from service.review.claims import ClaimAssigner
from service.review.claims_store import ClaimStore
from service.review.records import Verdict, read_review_record
from service.review.store import ReviewStore


class FakeSink:
    """Stands in for Kafka: takes every pending verdict (or none while ``down``)."""

    def __init__(self, store: ReviewStore) -> None:
        self.store = store
        self.sent: list[Verdict] = []
        self.down = False

    def flush_pending(self) -> int:
        if self.down:
            return 0
        pending = self.store.pending_verdicts()
        for verdict in pending:
            self.sent.append(verdict)
            self.store.mark_produced(verdict.article_id)
        return len(pending)

    def close(self) -> None:
        pass


def basic(name: str, password: str = "team-token") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


Scenario = Callable[[TestClient, ReviewStore, FakeSink], Awaitable[None]]


def run(tmp_path: Path, scenario: Scenario) -> None:
    store = ReviewStore(tmp_path / "review.sqlite3", lock_seconds=60)
    store.add(
        [
            read_review_record(make_record("a-1", score=0.7)),
            read_review_record(
                make_record(
                    "x/<b>&",
                    title=XSS_TITLE,
                    text=XSS_TEXT,
                    score=0.95,
                    cues=[("allegedly", "hedged"), ("denied", "denial")],
                )
            ),
            read_review_record(make_record("m-1", tier="medium", score=0.99, source="wire")),
        ]
    )
    ClaimAssigner(ClaimStore(store)).assign_pending()  # a-1 and m-1 tell the same claim
    sink = FakeSink(store)
    auth = Authenticator("team-token", {}, store.secret("csrf_key"))

    async def main() -> None:
        async with TestClient(TestServer(build_app(store, auth, sink, 3600))) as client:
            await scenario(client, store, sink)

    asyncio.run(main())


async def csrf_of(client: TestClient, name: str) -> str:
    response = await client.get("/api/me", headers=basic(name))
    return str((await response.json())["csrf_token"])


def test_everything_but_health_needs_credentials(tmp_path: Path) -> None:
    async def scenario(client: TestClient, store: ReviewStore, sink: FakeSink) -> None:
        for path in ("/", "/articles/a-1", "/api/queue", "/api/me"):
            response = await client.get(path)
            assert response.status == 401
            assert response.headers["WWW-Authenticate"].startswith('Basic realm="claimwatch')
        assert (await client.get("/", headers=basic("alice", "nope"))).status == 401
        response = await client.post("/api/articles/a-1/verdict", json={"verdict": "contested"})
        assert response.status == 401
        assert (await client.get("/healthz")).status == 200
        assert store.counts()["queued"] == 3

    run(tmp_path, scenario)


def test_queue_page_is_ordered_escaped_and_locked_down(tmp_path: Path) -> None:
    async def scenario(client: TestClient, store: ReviewStore, sink: FakeSink) -> None:
        response = await client.get("/", headers=basic("alice"))
        assert response.status == 200
        assert "script-src" not in response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        html = await response.text()
        assert "<script" not in html and "<img" not in html
        # one row per claim, each named by its strongest open article: the claim of
        # a-1 and m-1 (two sources within the hour) spreads faster than x's (one)
        assert re.findall(r'data-article-id="([^"]+)"', html) == ["a-1", "x/&lt;b&gt;&amp;"]
        assert re.findall(r"data-testid=articles>(\d+)<", html) == ["2", "1"]
        assert re.findall(r"data-testid=sources>(\d+)<", html) == ["2", "1"]
        filtered = await (await client.get("/?source=wire", headers=basic("alice"))).text()
        assert re.findall(r'data-article-id="([^"]+)"', filtered) == ["a-1"]
        medium = await (await client.get("/?tier=medium", headers=basic("alice"))).text()
        assert re.findall(r'data-article-id="([^"]+)"', medium) == ["a-1"]

    run(tmp_path, scenario)


def test_article_page_escapes_title_and_body(tmp_path: Path) -> None:
    async def scenario(client: TestClient, store: ReviewStore, sink: FakeSink) -> None:
        response = await client.get("/articles/x%2F%3Cb%3E%26", headers=basic("alice"))
        assert response.status == 200
        html = await response.text()
        assert "<script" not in html
        assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;&lt;img src=x" in html
        assert "&lt;script&gt;window.__pwned = 3&lt;/script&gt;" in html
        assert (await client.get("/articles/none", headers=basic("alice"))).status == 404

    run(tmp_path, scenario)


def test_posts_without_csrf_token_or_from_other_sites_are_refused(tmp_path: Path) -> None:
    async def scenario(client: TestClient, store: ReviewStore, sink: FakeSink) -> None:
        token = await csrf_of(client, "alice")
        attempts = [
            ({}, {"csrf_token": ""}),
            ({}, {"csrf_token": await csrf_of(client, "bob")}),
            ({"Origin": "https://evil.example"}, {"csrf_token": token}),
            ({"Sec-Fetch-Site": "cross-site"}, {"csrf_token": token}),
        ]
        for headers, form in attempts:
            response = await client.post(
                "/articles/a-1/verdict",
                headers=basic("alice") | headers,
                data={"verdict": "contested", **form},
                allow_redirects=False,
            )
            assert response.status == 403, headers
        api = await client.post("/api/articles/a-1/claim", headers=basic("alice"))
        assert api.status == 403
        assert (await api.json())["error"] == "cross_site_request"
        assert store.counts()["queued"] == 3 and sink.sent == []
        assert store.get("a-1").lock is None

    run(tmp_path, scenario)


def test_form_flow_claim_then_decide(tmp_path: Path) -> None:
    async def scenario(client: TestClient, store: ReviewStore, sink: FakeSink) -> None:
        token = await csrf_of(client, "alice")
        headers = basic("alice") | {
            "Origin": str(client.make_url("")).rstrip("/"),
            "Sec-Fetch-Site": "same-origin",
        }
        response = await client.post(
            "/articles/a-1/claim",
            headers=headers,
            data={"csrf_token": token},
            allow_redirects=False,
        )
        assert (response.status, response.headers["Location"]) == (303, "/articles/a-1")
        page = await (await client.get("/articles/a-1", headers=basic("alice"))).text()
        assert 'name=verdict value="contested"' in page
        form = {"csrf_token": token, "verdict": "not_contested", "note": " satire "}
        response = await client.post(
            "/articles/a-1/verdict", headers=headers, data=form, allow_redirects=False
        )
        assert (response.status, response.headers["Location"]) == (303, "/?decided=a-1")
        assert [(v.article_id, v.verdict, v.reviewer, v.note) for v in sink.sent] == [
            ("a-1", "not_contested", "alice", "satire")
        ]
        queue = await (await client.get("/?decided=a-1", headers=basic("alice"))).text()
        assert "Verdict recorded for" in queue and 'data-article-id="a-1"' not in queue

    run(tmp_path, scenario)


def test_two_reviewers_cannot_decide_the_same_item(tmp_path: Path) -> None:
    async def scenario(client: TestClient, store: ReviewStore, sink: FakeSink) -> None:
        alice = basic("alice") | {"X-CSRF-Token": await csrf_of(client, "alice")}
        bob = basic("bob") | {"X-CSRF-Token": await csrf_of(client, "bob")}
        assert (await client.post("/api/articles/a-1/claim", headers=alice)).status == 200
        response = await client.post("/api/articles/a-1/claim", headers=bob)
        assert response.status == 409
        assert (await response.json())["error"] == "review_conflict"
        response = await client.post(
            "/api/articles/a-1/verdict", headers=bob, json={"verdict": "contested"}
        )
        assert response.status == 409
        page = await (await client.get("/articles/a-1", headers=basic("bob"))).text()
        assert "In review by <b>alice</b>" in page and "name=verdict" not in page
        response = await client.post(
            "/api/articles/a-1/verdict",
            headers=alice,
            json={"verdict": "contested", "note": "two sources"},
        )
        body = await response.json()
        assert response.status == 200 and body["produced"] is True
        assert body["verdict"]["article_id"] == "a-1" and body["verdict"]["reviewer"] == "alice"
        response = await client.post(
            "/api/articles/a-1/verdict", headers=bob, json={"verdict": "unsure"}
        )
        assert response.status == 409
        queue = await (await client.get("/api/queue", headers=basic("bob"))).json()
        assert [i["article_id"] for i in queue["items"]] == ["x/<b>&", "m-1"]
        assert [v.verdict for v in sink.sent] == ["contested"]

    run(tmp_path, scenario)


def test_bearer_clients_skip_csrf_and_bad_input_is_rejected(tmp_path: Path) -> None:
    async def scenario(client: TestClient, store: ReviewStore, sink: FakeSink) -> None:
        robot = {"Authorization": "Bearer team-token", "X-Reviewer": "robot"}
        sink.down = True
        for body, status in [
            ({"verdict": "maybe"}, 400),
            (["x"], 400),
            ({"verdict": "unsure", "note": "n" * 2001}, 400),
            ({"verdict": "unsure"}, 200),
        ]:
            response = await client.post("/api/articles/m-1/verdict", headers=robot, json=body)
            assert response.status == status, body
        assert (await response.json())["produced"] is False
        assert [v.reviewer for v in store.pending_verdicts()] == ["robot"]
        assert (await client.get("/api/articles/m-1", headers=robot)).status == 200
        response = await client.get("/api/articles/nope", headers=robot)
        assert response.status == 404 and (await response.json())["error"] == "item_not_found"

    run(tmp_path, scenario)


@pytest.mark.parametrize("path", ["/api/queue?limit=x"])
def test_bad_query_is_a_400(tmp_path: Path, path: str) -> None:
    async def scenario(client: TestClient, store: ReviewStore, sink: FakeSink) -> None:
        assert (await client.get(path, headers=basic("alice"))).status == 400

    run(tmp_path, scenario)


def test_one_verdict_on_a_cluster_is_one_verdict_per_member(tmp_path: Path) -> None:
    async def scenario(client: TestClient, store: ReviewStore, sink: FakeSink) -> None:
        token = await csrf_of(client, "alice")
        headers = basic("alice") | {"Origin": str(client.make_url("")).rstrip("/")}
        cluster_id = ClaimStore(store).cluster_of("a-1")
        assert cluster_id is not None and ClaimStore(store).cluster_of("m-1") == cluster_id
        href = f"/clusters/{cluster_id}"
        page = await (await client.get(href, headers=basic("alice"))).text()
        assert re.findall(r'<li class=member data-article-id="([^"]+)"', page) == ["a-1", "m-1"]
        assert "Claim cluster for review" in page and "name=verdict" not in page
        response = await client.post(
            href + "/claim", headers=headers, data={"csrf_token": token}, allow_redirects=False
        )
        assert (response.status, response.headers["Location"]) == (303, href)
        assert [i.lock.reviewer for i in store.items(["a-1", "m-1"]) if i.lock] == [
            "alice",
            "alice",
        ]
        bob = await (await client.get(href, headers=basic("bob"))).text()
        assert "In review by <b>alice</b>" in bob and "name=verdict" not in bob
        page = await (await client.get(href, headers=basic("alice"))).text()
        assert re.findall(r'name=article_id value="([^"]+)"', page) == ["a-1", "m-1"]
        form = [
            ("csrf_token", token),
            ("article_id", "a-1"),
            ("article_id", "m-1"),
            ("verdict", "contested"),
        ]
        response = await client.post(
            href + "/verdict", headers=headers, data=form, allow_redirects=False
        )
        assert response.headers["Location"] == f"/?decided_cluster={cluster_id}"
        assert [(v.article_id, v.verdict, v.cluster_id) for v in sink.sent] == [
            ("a-1", "contested", cluster_id),
            ("m-1", "contested", cluster_id),
        ]
        queue = await client.get(response.headers["Location"], headers=basic("alice"))
        html = await queue.text()
        assert f"Verdict recorded for 2 articles of claim {cluster_id}" in html
        assert re.findall(r'data-article-id="([^"]+)"', html) == ["x/&lt;b&gt;&amp;"]
        page = await (await client.get("/articles/a-1", headers=basic("alice"))).text()
        assert f'href="/clusters/{cluster_id}">{cluster_id}</a> (2 articles)' in page

    run(tmp_path, scenario)


def test_a_split_moves_the_article_out_and_a_stale_cluster_verdict_is_refused(
    tmp_path: Path,
) -> None:
    async def scenario(client: TestClient, store: ReviewStore, sink: FakeSink) -> None:
        token = await csrf_of(client, "alice")
        headers = basic("alice") | {"Origin": str(client.make_url("")).rstrip("/")}
        cluster_id = ClaimStore(store).cluster_of("m-1")
        response = await client.post(
            "/articles/m-1/split",
            headers=headers,
            data={"csrf_token": token},
            allow_redirects=False,
        )
        assert response.headers["Location"] == f"/clusters/{cluster_id}?split=m-1"
        page = await client.get(response.headers["Location"], headers=basic("alice"))
        html = await page.text()
        assert "moved out of this claim into a cluster of its own" in html
        assert re.findall(r'<li class=member data-article-id="([^"]+)"', html) == ["a-1"]
        assert "Not this claim" not in html  # alone now: nothing left to split
        new_id = ClaimStore(store).cluster_of("m-1")
        assert new_id not in (None, cluster_id)
        moved = await (await client.get(f"/clusters/{new_id}", headers=basic("alice"))).text()
        assert f"moved out of {cluster_id} by a reviewer" in moved
        robot = {"Authorization": "Bearer team-token", "X-Reviewer": "robot"}
        response = await client.post(
            f"/api/clusters/{cluster_id}/verdict",
            headers=robot,
            json={"verdict": "contested", "article_ids": ["a-1", "m-1"]},
        )
        assert response.status == 409 and sink.sent == []  # m-1 left meanwhile
        response = await client.post("/api/articles/m-1/split", headers=robot)
        assert response.status == 409  # alone in its cluster
        clusters = await (await client.get("/api/clusters", headers=robot)).json()
        assert sorted(c["articles"] for c in clusters["clusters"]) == [1, 1, 1]

    run(tmp_path, scenario)

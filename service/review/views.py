"""The HTML pages: the cluster queue, the cluster and article views, and the form posts
behind their buttons."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import quote

from aiohttp import web

from service.review import cluster_pages, pages
from service.review.context import (
    AUTH,
    CLAIMS,
    SINK,
    STORE,
    decide,
    decide_cluster,
    reviewer_of,
)
from service.review.store import ItemNotFoundError


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html", charset="utf-8")


def _see(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


async def queue_view(request: web.Request) -> web.Response:
    store, reviewer = request.app[STORE], reviewer_of(request)
    source = request.query.get("source") or None
    tier = request.query.get("tier") or None
    sources, tiers = store.facets()
    csrf = request.app[AUTH].csrf_token(reviewer)
    clusters = request.app[CLAIMS].clusters(source=source, tier=tier)
    html = cluster_pages.queue_page(
        clusters, reviewer.name, csrf, sources, tiers, source, tier, _decided_notice(request)
    )
    return _html(html)


def _decided_notice(request: web.Request) -> str | None:
    """The line that confirms a verdict just recorded (``?decided=`` or ``?decided_cluster=``)."""
    decided, cluster = request.query.get("decided"), request.query.get("decided_cluster")
    with contextlib.suppress(ItemNotFoundError):
        if decided:
            item = request.app[STORE].get(decided)
            if item.status == "decided":
                return f"Verdict recorded for “{item.record.title or decided}”."
        if cluster:
            _, members = request.app[CLAIMS].cluster(cluster)
            decided_count = sum(m.item.status == "decided" for m in members)
            return f"Verdict recorded for {decided_count} articles of claim {cluster}."
    return None


async def article_view(request: web.Request) -> web.Response:
    reviewer = reviewer_of(request)
    article_id = request.match_info["article_id"]
    item = request.app[STORE].get(article_id)
    csrf = request.app[AUTH].csrf_token(reviewer)
    claims = request.app[CLAIMS]
    cluster_id = claims.cluster_of(article_id)
    cluster = None
    if cluster_id is not None:
        cluster = (cluster_id, claims.cluster(cluster_id)[0].articles)
    return _html(pages.article_page(item, reviewer.name, csrf, cluster=cluster))


async def cluster_view(request: web.Request) -> web.Response:
    reviewer = reviewer_of(request)
    summary, members = request.app[CLAIMS].cluster(request.match_info["cluster_id"])
    csrf = request.app[AUTH].csrf_token(reviewer)
    notice = None
    moved = request.query.get("split")
    if moved:
        with contextlib.suppress(ItemNotFoundError):
            title = request.app[STORE].get(moved).record.title or moved
            notice = f"“{title}” moved out of this claim into a cluster of its own."
    return _html(cluster_pages.cluster_page(summary, members, reviewer.name, csrf, notice))


def _queued_members(request: web.Request, cluster_id: str) -> list[str]:
    _, members = request.app[CLAIMS].cluster(cluster_id)
    return [m.item.record.article_id for m in members if m.item.status == "queued"]


async def cluster_claim_form(request: web.Request) -> web.Response:
    cluster_id = request.match_info["cluster_id"]
    request.app[STORE].claim_all(_queued_members(request, cluster_id), reviewer_of(request).name)
    raise _see("/clusters/" + quote(cluster_id, safe=""))


async def cluster_release_form(request: web.Request) -> web.Response:
    cluster_id = request.match_info["cluster_id"]
    request.app[STORE].release_all(_queued_members(request, cluster_id), reviewer_of(request).name)
    raise _see("/")


async def cluster_verdict_form(request: web.Request) -> web.Response:
    form = await request.post()
    cluster_id = request.match_info["cluster_id"]
    article_ids = [str(value) for value in form.getall("article_id", [])]
    await decide_cluster(request, cluster_id, article_ids, form.get("verdict"), form.get("note"))
    raise _see("/?decided_cluster=" + quote(cluster_id, safe=""))


async def split_form(request: web.Request) -> web.Response:
    """Move an article out of its cluster, then show the cluster it left."""
    article_id = request.match_info["article_id"]
    split = request.app[CLAIMS].split(article_id, reviewer_of(request).name)
    await asyncio.to_thread(request.app[SINK].flush_pending)
    location = "/clusters/" + quote(split.from_cluster, safe="")
    raise _see(location + "?split=" + quote(article_id, safe=""))


async def claim_form(request: web.Request) -> web.Response:
    article_id = request.match_info["article_id"]
    request.app[STORE].claim(article_id, reviewer_of(request).name)
    raise _see("/articles/" + quote(article_id, safe=""))


async def release_form(request: web.Request) -> web.Response:
    request.app[STORE].release(request.match_info["article_id"], reviewer_of(request).name)
    raise _see("/")


async def verdict_form(request: web.Request) -> web.Response:
    form = await request.post()
    article_id = request.match_info["article_id"]
    await decide(request, article_id, form.get("verdict"), form.get("note"))
    raise _see("/?decided=" + quote(article_id, safe=""))


async def stylesheet(request: web.Request) -> web.Response:
    return web.Response(text=pages.STYLESHEET, content_type="text/css")


async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})

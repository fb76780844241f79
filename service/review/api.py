"""The JSON API under the pages: the same operations, for scripts and other tools."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from service.review.cluster_queue import ClusterSummary, Member
from service.review.context import (
    AUTH,
    CLAIMS,
    SINK,
    STORE,
    BadRequestError,
    decide,
    decide_cluster,
    reviewer_of,
)
from service.review.store import QueueItem


def item_json(item: QueueItem) -> dict[str, Any]:
    lock = item.lock
    return {
        "article_id": item.record.article_id,
        "status": item.status,
        "lock": {"reviewer": lock.reviewer, "expires_at": lock.expires} if lock else None,
        "record": dict(item.record.raw),
    }


def cluster_json(cluster: ClusterSummary) -> dict[str, Any]:
    return {
        "cluster_id": cluster.cluster_id,
        "headline": cluster.headline,
        "representative": cluster.representative,
        "articles": cluster.articles,
        "sources": cluster.sources,
        "queued": cluster.queued,
        "first_seen": cluster.first_seen,
        "last_seen": cluster.last_seen,
        "spread_per_hour": round(cluster.spread, 3),
        "tier": cluster.tier,
        "score": cluster.score,
    }


def member_json(member: Member) -> dict[str, Any]:
    return {
        **item_json(member.item),
        "similarity": member.similarity,
        "joined_at": member.joined_at,
        "split_from": member.split_from,
    }


async def api_me(request: web.Request) -> web.Response:
    reviewer = reviewer_of(request)
    token = request.app[AUTH].csrf_token(reviewer)
    return web.json_response({"reviewer": reviewer.name, "csrf_token": token})


async def api_queue(request: web.Request) -> web.Response:
    try:
        limit = min(int(request.query.get("limit", "200")), 1000)
    except ValueError:
        raise BadRequestError("limit must be an integer") from None
    items = request.app[STORE].queue(
        source=request.query.get("source") or None,
        tier=request.query.get("tier") or None,
        limit=limit,
    )
    return web.json_response({"count": len(items), "items": [item_json(i) for i in items]})


async def api_clusters(request: web.Request) -> web.Response:
    clusters = request.app[CLAIMS].clusters(
        source=request.query.get("source") or None, tier=request.query.get("tier") or None
    )
    return web.json_response(
        {"count": len(clusters), "clusters": [cluster_json(c) for c in clusters]}
    )


async def api_cluster(request: web.Request) -> web.Response:
    summary, members = request.app[CLAIMS].cluster(request.match_info["cluster_id"])
    return web.json_response(
        {**cluster_json(summary), "members": [member_json(m) for m in members]}
    )


async def api_cluster_verdict(request: web.Request) -> web.Response:
    """One verdict for the cluster's queued members (or the ``article_ids`` given)."""
    body = await _json_body(request)
    article_ids = body.get("article_ids") or []
    if not isinstance(article_ids, list) or not all(isinstance(i, str) for i in article_ids):
        raise BadRequestError("article_ids must be a list of article ids")
    verdicts, produced = await decide_cluster(
        request,
        request.match_info["cluster_id"],
        article_ids,
        body.get("verdict"),
        body.get("note"),
    )
    return web.json_response({"verdicts": verdicts, "produced": produced})


async def api_split(request: web.Request) -> web.Response:
    split = request.app[CLAIMS].split(request.match_info["article_id"], reviewer_of(request).name)
    await asyncio.to_thread(request.app[SINK].flush_pending)
    return web.json_response(
        {
            "article_id": split.article_id,
            "from_cluster": split.from_cluster,
            "to_cluster": split.to_cluster,
        }
    )


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise BadRequestError("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequestError("the body must be a JSON object")
    return body


async def api_article(request: web.Request) -> web.Response:
    return web.json_response(item_json(request.app[STORE].get(request.match_info["article_id"])))


async def api_claim(request: web.Request) -> web.Response:
    lock = request.app[STORE].claim(request.match_info["article_id"], reviewer_of(request).name)
    return web.json_response({"lock": {"reviewer": lock.reviewer, "expires_at": lock.expires}})


async def api_release(request: web.Request) -> web.Response:
    request.app[STORE].release(request.match_info["article_id"], reviewer_of(request).name)
    return web.json_response({"released": True})


async def api_verdict(request: web.Request) -> web.Response:
    body = await _json_body(request)
    article_id = request.match_info["article_id"]
    verdict, produced = await decide(request, article_id, body.get("verdict"), body.get("note"))
    return web.json_response({"verdict": verdict, "produced": produced})

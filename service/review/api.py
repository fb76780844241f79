"""The JSON API under the pages: the same operations, for scripts and other tools."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from service.review.context import AUTH, STORE, BadRequestError, decide, reviewer_of
from service.review.store import QueueItem


def item_json(item: QueueItem) -> dict[str, Any]:
    lock = item.lock
    return {
        "article_id": item.record.article_id,
        "status": item.status,
        "lock": {"reviewer": lock.reviewer, "expires_at": lock.expires} if lock else None,
        "record": dict(item.record.raw),
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


async def api_article(request: web.Request) -> web.Response:
    return web.json_response(item_json(request.app[STORE].get(request.match_info["article_id"])))


async def api_claim(request: web.Request) -> web.Response:
    lock = request.app[STORE].claim(request.match_info["article_id"], reviewer_of(request).name)
    return web.json_response({"lock": {"reviewer": lock.reviewer, "expires_at": lock.expires}})


async def api_release(request: web.Request) -> web.Response:
    request.app[STORE].release(request.match_info["article_id"], reviewer_of(request).name)
    return web.json_response({"released": True})


async def api_verdict(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        raise BadRequestError("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequestError("the body must be a JSON object")
    article_id = request.match_info["article_id"]
    verdict, produced = await decide(request, article_id, body.get("verdict"), body.get("note"))
    return web.json_response({"verdict": verdict, "produced": produced})

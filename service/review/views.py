"""The HTML pages: the queue, the article view, and the form posts behind their buttons."""

from __future__ import annotations

import contextlib
from urllib.parse import quote

from aiohttp import web

from service.review import pages
from service.review.context import AUTH, STORE, decide, reviewer_of
from service.review.store import ItemNotFoundError


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html", charset="utf-8")


def _see(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


async def queue_view(request: web.Request) -> web.Response:
    store, reviewer = request.app[STORE], reviewer_of(request)
    source = request.query.get("source") or None
    tier = request.query.get("tier") or None
    notice = None
    decided = request.query.get("decided")
    if decided:
        with contextlib.suppress(ItemNotFoundError):
            item = store.get(decided)
            if item.status == "decided":
                notice = f"Verdict recorded for “{item.record.title or decided}”."
    sources, tiers = store.facets()
    csrf = request.app[AUTH].csrf_token(reviewer)
    items = store.queue(source=source, tier=tier)
    return _html(pages.queue_page(items, reviewer.name, csrf, sources, tiers, source, tier, notice))


async def article_view(request: web.Request) -> web.Response:
    reviewer = reviewer_of(request)
    item = request.app[STORE].get(request.match_info["article_id"])
    csrf = request.app[AUTH].csrf_token(reviewer)
    return _html(pages.article_page(item, reviewer.name, csrf))


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

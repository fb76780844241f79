"""The review web app: HTML pages for people, a JSON API underneath, both behind auth.

Handlers (:mod:`views`, :mod:`api`) stay thin: they read the request, call the
store, and render with :mod:`pages`. Every response carries a
Content-Security-Policy that allows no script at all, so the pages work (plain
forms) and an escaping slip could still not run code.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from service.errors import ClaimwatchError
from service.review import api, pages, views
from service.review.auth import Authenticator
from service.review.claims_store import ClaimStore
from service.review.context import (
    AUTH,
    CLAIMS,
    FLUSH_INTERVAL,
    REVIEWER,
    SINK,
    STORE,
    BadRequestError,
    VerdictSink,
)
from service.review.store import ItemNotFoundError, ReviewConflictError, ReviewStore

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC_PATHS = {"/healthz", "/static/review.css"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
STATUS = {ItemNotFoundError: 404, ReviewConflictError: 409, BadRequestError: 400}


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers.update(SECURITY_HEADERS)
        raise
    response.headers.update(SECURITY_HEADERS)
    return response


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse requests without valid credentials, and cross-site state changes."""
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    auth = request.app[AUTH]
    reviewer = auth.authenticate(
        request.headers.get("Authorization"), request.headers.get("X-Reviewer")
    )
    if reviewer is None:
        return _error(
            request,
            401,
            "unauthorized",
            "sign in with your reviewer name and token",
            {"WWW-Authenticate": 'Basic realm="claimwatch review", charset="UTF-8"'},
        )
    request[REVIEWER] = reviewer
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        token = request.headers.get("X-CSRF-Token")
        if token is None and request.content_type == "application/x-www-form-urlencoded":
            token = str((await request.post()).get("csrf_token", ""))
        reason = auth.cross_site_reason(
            reviewer,
            token,
            request.headers.get("Origin"),
            request.headers.get("Sec-Fetch-Site"),
            request.host,
        )
        if reason:
            return _error(request, 403, "cross_site_request", f"request refused: {reason}")
    try:
        return await handler(request)
    except tuple(STATUS) as error:
        assert isinstance(error, ClaimwatchError)
        return _error(request, STATUS[type(error)], error.code, str(error))


def _error(
    request: web.Request,
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
) -> web.Response:
    if request.path.startswith("/api/"):
        return web.json_response({"error": code, "detail": detail}, status=status, headers=headers)
    reviewer = request.get(REVIEWER)
    html = pages.error_page(status, detail, reviewer.name if reviewer else "")
    return web.Response(text=html, content_type="text/html", status=status, headers=headers)


async def _flush_periodically(app: web.Application) -> AsyncIterator[None]:
    async def loop() -> None:
        while True:
            await asyncio.sleep(app[FLUSH_INTERVAL])
            await asyncio.to_thread(app[SINK].flush_pending)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await asyncio.to_thread(app[SINK].close)


def build_app(
    store: ReviewStore,
    auth: Authenticator,
    sink: VerdictSink,
    flush_interval_s: float = 5.0,
    claims: ClaimStore | None = None,
) -> web.Application:
    """The review app; the caller owns the store and starts intake separately.

    The queue page lists claim clusters (``claims``, on the same store); ``sink``
    flushes the outboxes (verdicts, and claim memberships after a split).
    """
    app = web.Application(middlewares=[security_headers, authenticate], client_max_size=64_000)
    app[STORE], app[AUTH], app[SINK] = store, auth, sink
    app[CLAIMS] = ClaimStore(store) if claims is None else claims
    app[FLUSH_INTERVAL] = flush_interval_s
    app.cleanup_ctx.append(_flush_periodically)
    item = "/articles/{article_id}"
    cluster = "/clusters/{cluster_id}"
    app.router.add_get("/", views.queue_view)
    app.router.add_get(item, views.article_view)
    app.router.add_post(item + "/claim", views.claim_form)
    app.router.add_post(item + "/release", views.release_form)
    app.router.add_post(item + "/verdict", views.verdict_form)
    app.router.add_post(item + "/split", views.split_form)
    app.router.add_get(cluster, views.cluster_view)
    app.router.add_post(cluster + "/claim", views.cluster_claim_form)
    app.router.add_post(cluster + "/release", views.cluster_release_form)
    app.router.add_post(cluster + "/verdict", views.cluster_verdict_form)
    app.router.add_get("/api/me", api.api_me)
    app.router.add_get("/api/queue", api.api_queue)
    app.router.add_get("/api/clusters", api.api_clusters)
    app.router.add_get("/api" + cluster, api.api_cluster)
    app.router.add_post("/api" + cluster + "/verdict", api.api_cluster_verdict)
    app.router.add_get("/api" + item, api.api_article)
    app.router.add_post("/api" + item + "/claim", api.api_claim)
    app.router.add_post("/api" + item + "/release", api.api_release)
    app.router.add_post("/api" + item + "/verdict", api.api_verdict)
    app.router.add_post("/api" + item + "/split", api.api_split)
    app.router.add_get("/static/review.css", views.stylesheet)
    app.router.add_get("/healthz", views.health)
    return app

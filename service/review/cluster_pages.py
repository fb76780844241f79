"""HTML of the claim cluster queue and the cluster page (escaped like :mod:`pages`).

The queue lists clusters, not articles: a claim carried by five outlets is one row,
reviewed once. A cluster page shows every member with its evidence, one verdict for
all queued members, and a button per member to move it out of the cluster.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

from service.review.cluster_queue import ClusterSummary, Member
from service.review.pages import (
    VERDICT_LABELS,
    article_href,
    cluster_href,
    e,
    page,
    reasons_section,
    select,
    sentences_section,
    slug,
)
from service.review.records import VERDICTS
from service.review.store import Lock


def queue_page(
    clusters: Sequence[ClusterSummary],
    reviewer: str,
    csrf: str,
    sources: Sequence[str],
    tiers: Sequence[str],
    source: str | None,
    tier: str | None,
    notice: str | None = None,
) -> str:
    now = time.time()
    rows = "".join(_queue_row(cluster, reviewer, csrf, now) for cluster in clusters)
    if not rows:
        rows = "<tr><td colspan=9 class=empty>Nothing to review.</td></tr>"
    body = (
        (f"<p class=notice role=status>{e(notice)}</p>" if notice else "")
        + f"<h1>Review queue <small>({len(clusters)} claims)</small></h1>"
        + '<form class=filters method=get action="/">'
        + select("source", "all sources", sources, source)
        + select("tier", "all tiers", tiers, tier)
        + "<button type=submit>Filter</button></form>"
        + "<table class=queue><thead><tr><th>Tier</th><th>Score</th><th>Claim</th>"
        + "<th>Articles</th><th>Sources</th><th>First seen</th><th>Last seen</th>"
        + "<th>Status</th><th></th></tr></thead>"
        + f"<tbody>{rows}</tbody></table>"
    )
    return page("Queue", reviewer, body)


def _queue_row(cluster: ClusterSummary, reviewer: str, csrf: str, now: float) -> str:
    other = _other_lock(cluster.locks, reviewer, now)
    mine = any(lock.reviewer == reviewer and lock.expires > now for lock in cluster.locks)
    if other:
        status, action = f"in review by {e(other.reviewer)}", ""
    else:
        status = "claimed by you" if mine else "open"
        action = (
            f'<form method=post action="{cluster_href(cluster.cluster_id, "claim")}">'
            f'<input type=hidden name=csrf_token value="{e(csrf)}">'
            "<button type=submit>Review</button></form>"
        )
    queued = (
        "" if cluster.queued == cluster.articles else f" <small>({cluster.queued} open)</small>"
    )
    return (
        f'<tr data-cluster-id="{e(cluster.cluster_id)}"'
        f' data-article-id="{e(cluster.representative)}">'
        f'<td><span class="tier tier-{e(slug(cluster.tier))}">{e(cluster.tier or "-")}</span></td>'
        f"<td>{cluster.score:.3f}</td>"
        f'<td><a href="{cluster_href(cluster.cluster_id)}">{e(cluster.headline)}</a></td>'
        f"<td data-testid=articles>{cluster.articles}{queued}</td>"
        f"<td data-testid=sources>{cluster.sources}</td>"
        f"<td>{e(_when(cluster.first_seen))}</td><td>{e(_when(cluster.last_seen))}</td>"
        f"<td>{status}</td><td>{action}</td></tr>"
    )


def cluster_page(
    cluster: ClusterSummary,
    members: Sequence[Member],
    reviewer: str,
    csrf: str,
    notice: str | None = None,
) -> str:
    items = "".join(_member_item(m, reviewer, csrf, len(members)) for m in members)
    body = (
        (f"<p class=notice role=status>{e(notice)}</p>" if notice else "")
        + f"<h1 data-testid=title>{e(cluster.headline)}</h1>"
        + _facts(cluster)
        + _review_panel(cluster, members, reviewer, csrf)
        + f"<section data-testid=members><h2>Articles <small>({len(members)})</small></h2>"
        + f"<ol class=members>{items}</ol></section>"
    )
    return page(cluster.headline, reviewer, body)


def _facts(cluster: ClusterSummary) -> str:
    facts = [
        ("Cluster id", e(cluster.cluster_id)),
        ("Articles", f"<span data-testid=articles>{cluster.articles}</span>"),
        ("Sources", f"<span data-testid=sources>{cluster.sources}</span>"),
        ("First seen", e(_when(cluster.first_seen))),
        ("Last seen", e(_when(cluster.last_seen))),
        ("Spread", f"{cluster.spread:.1f} sources per hour"),
        (
            "Tier",
            f'<span class="tier tier-{e(slug(cluster.tier))}">{e(cluster.tier or "-")}</span>',
        ),
    ]
    return "<dl class=facts>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"


def _review_panel(
    cluster: ClusterSummary, members: Sequence[Member], reviewer: str, csrf: str
) -> str:
    now = time.time()
    hidden = f'<input type=hidden name=csrf_token value="{e(csrf)}">'
    queued = [m.item for m in members if m.item.status == "queued"]
    if not queued:
        return (
            "<section class=review><p>Every article of this claim has been decided.</p></section>"
        )
    other = _other_lock(cluster.locks, reviewer, now)
    if other:
        return (
            f"<section class=review><p>In review by <b>{e(other.reviewer)}</b>"
            f" until {e(_when(other.expires))}.</p></section>"
        )
    mine = [
        i.lock for i in queued if i.lock and i.lock.reviewer == reviewer and i.lock.expires > now
    ]
    if len(mine) < len(queued):
        return (
            f"<section class=review><p>{len(queued)} open articles; nobody is reviewing them.</p>"
            f'<form method=post action="{cluster_href(cluster.cluster_id, "claim")}">{hidden}'
            "<button type=submit>Claim cluster for review</button></form></section>"
        )
    ids = "".join(
        f'<input type=hidden name=article_id value="{e(i.record.article_id)}">' for i in queued
    )
    buttons = "".join(
        f'<button type=submit name=verdict value="{v}" class="verdict verdict-{v}">'
        f"{VERDICT_LABELS[v]}</button>"
        for v in VERDICTS
    )
    until = min(lock.expires for lock in mine if lock)
    verdict_action = cluster_href(cluster.cluster_id, "verdict")
    return (
        f"<section class=review><p>Claimed by you until {e(_when(until))}: one verdict"
        f" applies to all {len(queued)} open articles of this claim.</p>"
        f'<form class=verdict-form method=post action="{verdict_action}">'
        f"{hidden}{ids}<label>Note (optional)<textarea name=note maxlength=2000 rows=2></textarea>"
        f"</label><div class=buttons>{buttons}</div></form>"
        f'<form method=post action="{cluster_href(cluster.cluster_id, "release")}">{hidden}'
        "<button type=submit class=release>Release</button></form></section>"
    )


def _member_item(member: Member, reviewer: str, csrf: str, size: int) -> str:
    record = member.item.record
    facts = [
        e(record.source or "-"),
        f"score {record.score:.3f}",
        f'<span class="tier tier-{e(slug(record.tier))}">{e(record.tier or "-")}</span>',
        f"similarity <span data-testid=similarity>{member.similarity:.2f}</span>",
        "open" if member.item.status == "queued" else "decided",
    ]
    if member.split_from:
        facts.append(f"moved out of {e(member.split_from)} by a reviewer")
    split = ""
    if size > 1:
        split = (
            f'<form class=split method=post action="{article_href(record.article_id, "split")}">'
            f'<input type=hidden name=csrf_token value="{e(csrf)}">'
            "<button type=submit>Not this claim: move out</button></form>"
        )
    return (
        f'<li class=member data-article-id="{e(record.article_id)}">'
        f'<h3><a href="{article_href(record.article_id)}">{e(record.title or record.article_id)}'
        f"</a></h3><p class=member-facts>{' · '.join(facts)}</p>"
        f"{reasons_section(record)}{sentences_section(record)}{split}</li>"
    )


def _other_lock(locks: Sequence[Lock], reviewer: str, now: float) -> Lock | None:
    for lock in locks:
        if lock.reviewer != reviewer and lock.expires > now:
            return lock
    return None


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")

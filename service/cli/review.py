"""`claimwatch review tail|serve|add-user`: the reviewers' terminal view and web app."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from service.cli.tail import since_ms
from service.errors import ConfigError
from service.kafka.tail import read_topic
from service.review.app import build_app
from service.review.auth import NAME, Authenticator, hash_password, read_users
from service.review.claims import ClaimAssigner, ClaimLabel, StreamClaims
from service.review.claims_store import ClaimStore
from service.review.claims_topic import ClaimPublisher
from service.review.consumer import FlaggedIntake
from service.review.context import Outboxes
from service.review.records import InvalidRecordError, ReviewRecord, read_review_record
from service.review.render import claim_header, render_terminal
from service.review.store import ReviewStore
from service.review.verdicts import VerdictPublisher
from service.settings import Settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("review", help="review flagged articles (terminal or web)")
    commands = parser.add_subparsers(dest="review_command", metavar="SUBCOMMAND", required=True)

    tail = commands.add_parser("tail", help="follow articles.flagged and print each item")
    tail.add_argument("--tier", action="append", help="only this tier (repeatable)")
    tail.add_argument("--source", action="append", help="only this source (repeatable)")
    tail.add_argument("--min-score", type=float, default=None, help="only items scoring >= X")
    tail.add_argument("--json", action="store_true", help="print the review records as JSON lines")
    tail.add_argument("--from-beginning", action="store_true", help="start at the oldest item")
    tail.add_argument(
        "--since",
        type=float,
        default=None,
        metavar="UNIX_TIME",
        help="start at the first item flagged at or after this time (seconds, e.g. date +%%s)",
    )
    tail.add_argument("--max", type=int, default=None, help="stop after N printed items")
    tail.add_argument("--timeout", type=float, default=None, help="stop after N idle seconds")
    tail.add_argument("--no-color", action="store_true", help="mark cues as [[cue]](category)")
    tail.add_argument(
        "--group",
        action="store_true",
        help="print the items grouped by claim cluster once the tail ends (with --max or"
        " --timeout)",
    )
    tail.set_defaults(handler=review_tail)

    serve = commands.add_parser("serve", help="run the review web app")
    serve.add_argument("--host", default=None, help="listen address (CLAIMWATCH_REVIEW_HOST)")
    serve.add_argument("--port", type=int, default=None, help="port (CLAIMWATCH_REVIEW_PORT)")
    serve.add_argument("--db", type=Path, default=None, help="SQLite file (CLAIMWATCH_REVIEW_DB)")
    serve.set_defaults(handler=review_serve)

    add_user = commands.add_parser("add-user", help="add or replace a reviewer's password")
    add_user.add_argument("name", help="reviewer name (letters, digits, . _ @ + -)")
    add_user.add_argument(
        "--users-file", type=Path, default=None, help="users file (CLAIMWATCH_REVIEW_USERS)"
    )
    add_user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add_user.set_defaults(handler=review_add_user)


def review_db_path(settings: Settings, override: Path | None = None) -> Path:
    """Where the review store lives: the flag, CLAIMWATCH_REVIEW_DB, or under the home dir."""
    return override or settings.review_db or settings.home / "review.sqlite3"


def wanted(record: ReviewRecord, args: argparse.Namespace) -> bool:
    """Whether a record passes the tail filters (tier/source match case-insensitively)."""
    if args.tier and record.tier.lower() not in {t.lower() for t in args.tier}:
        return False
    if args.source and record.source.lower() not in {s.lower() for s in args.source}:
        return False
    return args.min_score is None or record.score >= args.min_score


def review_tail(args: argparse.Namespace, settings: Settings) -> int:
    """Print flagged items as they come, each with its claim cluster (clustered here, in
    the order read); with ``--group`` the items of one claim are printed together at the end."""
    if args.group and args.max is None and args.timeout is None:
        raise ConfigError("--group prints when the tail ends: give --max or --timeout")
    color = not args.no_color and sys.stdout.isatty()
    claims = StreamClaims(settings.claim_threshold, settings.claim_window_s)
    groups: dict[str, list[tuple[ReviewRecord, ClaimLabel]]] = {}
    printed = 0
    for message in read_topic(
        settings.kafka_client_config(),
        settings.topic_flagged,
        from_beginning=args.from_beginning,
        idle_timeout_s=args.timeout,
        since_ms=since_ms(args.since),
    ):
        try:
            record = read_review_record(message.value)
        except InvalidRecordError as error:
            print(f"claimwatch: skipping offset {message.offset}: {error}", file=sys.stderr)
            continue
        if not wanted(record, args):
            continue
        label = claims.place(record, message.timestamp_ms / 1000.0)
        if args.group:
            groups.setdefault(label.cluster_id, []).append((record, label))
        elif args.json:
            line = dict(record.raw) | {"cluster_id": label.cluster_id}
            print(json.dumps(line, ensure_ascii=False), flush=True)
        else:
            print(render_terminal(record, color=color, claim=label) + "\n", flush=True)
        printed += 1
        if args.max is not None and printed >= args.max:
            break
    for members in groups.values():
        _print_group(members, args.json, color)
    return 0


def _print_group(
    members: list[tuple[ReviewRecord, ClaimLabel]], as_json: bool, color: bool
) -> None:
    """One claim's items, oldest first, under a line naming the claim (JSON: one line each)."""
    if as_json:
        for record, label in members:
            line = dict(record.raw) | {"cluster_id": label.cluster_id}
            print(json.dumps(line, ensure_ascii=False))
        return
    last = members[-1][1]
    print(claim_header(last, len(members), color))
    for record, label in members:
        print(render_terminal(record, color=color, claim=label) + "\n")
    sys.stdout.flush()


def authenticator(settings: Settings, store: ReviewStore) -> Authenticator:
    users = read_users(settings.review_users) if settings.review_users else {}
    return Authenticator(settings.review_token, users, store.secret("csrf_key"))


def review_serve(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.review_host
    port = args.port or settings.review_port
    store = ReviewStore(review_db_path(settings, args.db), lock_seconds=settings.review_lock_s)
    auth = authenticator(settings, store)
    config = settings.kafka_client_config()
    claims = ClaimStore(store)
    assigner = ClaimAssigner(claims, settings.claim_threshold, settings.claim_window_s)
    memberships = ClaimPublisher(claims, config, settings.topic_claims)
    outboxes = Outboxes(VerdictPublisher(store, config, settings.topic_verdicts), memberships)

    def catch_up() -> None:
        assigner.rebuild()
        place_and_publish()

    def place_and_publish() -> None:
        assigner.assign_pending()
        memberships.flush_pending()

    intake = FlaggedIntake(
        store,
        config,
        settings.topic_flagged,
        after_batch=place_and_publish,
        startup_timeout_s=settings.startup_timeout_s,
        on_start=catch_up,
    )
    app = build_app(store, auth, outboxes, claims=claims)

    async def start_intake(_: web.Application) -> None:
        intake.on_unreachable = stop_app_from_thread(asyncio.get_running_loop())
        intake.start()

    async def stop_intake(_: web.Application) -> None:
        intake.stop()

    app.on_startup.append(start_intake)
    app.on_cleanup.append(stop_intake)
    print(f"claimwatch review: http://{host}:{port}/ (store {store.path})", flush=True)
    try:
        web.run_app(app, host=host, port=port, print=None, handle_signals=True)
    finally:
        store.close()
    if intake.failure is not None:  # Kafka never answered: the one line, non-zero
        raise intake.failure
    return 0


def stop_app_from_thread(loop: asyncio.AbstractEventLoop) -> Callable[[object], None]:
    """A callback any thread may call to end ``web.run_app`` on ``loop`` gracefully
    (its cleanup runs), as SIGTERM would."""

    def graceful_exit() -> None:
        raise web.GracefulExit()

    def stop(_reason: object) -> None:
        loop.call_soon_threadsafe(graceful_exit)

    return stop


def review_add_user(args: argparse.Namespace, settings: Settings) -> int:
    path = args.users_file or settings.review_users
    if path is None:
        raise ConfigError("give --users-file or set CLAIMWATCH_REVIEW_USERS")
    if not NAME.match(args.name):
        raise ConfigError(f"reviewer name {args.name!r} may use letters, digits and . _ @ + -")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
    if len(password) < 8:
        raise ConfigError("the password must have at least 8 characters")
    users = read_users(path) if path.exists() else {}
    users[args.name] = hash_password(password)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{n}:{h}\n" for n, h in sorted(users.items())), encoding="utf-8")
    path.chmod(0o600)
    print(f"claimwatch: {args.name} can now sign in ({path})")
    return 0

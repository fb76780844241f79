"""Credentials and cross-site request checks."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from service.errors import ConfigError
from service.review.auth import Authenticator, hash_password, read_users, verify_password


def basic(name: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()


@pytest.fixture
def auth() -> Authenticator:
    return Authenticator("team-token", {"carol": hash_password("carol-pass", 1000)}, "k" * 64)


def test_team_token_as_basic_password_names_the_reviewer(auth: Authenticator) -> None:
    reviewer = auth.authenticate(basic("alice", "team-token"), None)
    assert reviewer is not None and (reviewer.name, reviewer.ambient) == ("alice", True)
    assert auth.authenticate(basic("alice", "wrong"), None) is None
    assert auth.authenticate(basic("al ice", "team-token"), None) is None
    assert auth.authenticate("Basic !!!", None) is None
    assert auth.authenticate(None, None) is None


def test_users_file_names_need_their_own_password(auth: Authenticator) -> None:
    assert auth.authenticate(basic("carol", "carol-pass"), None) is not None
    assert auth.authenticate(basic("carol", "carol-pass"), None) is not None  # cached path
    assert auth.authenticate(basic("carol", "team-token"), None) is None


def test_bearer_token_is_not_ambient(auth: Authenticator) -> None:
    reviewer = auth.authenticate("Bearer team-token", "robot")
    assert reviewer is not None and (reviewer.name, reviewer.ambient) == ("robot", False)
    assert auth.authenticate("Bearer nope", "robot") is None
    assert auth.cross_site_reason(reviewer, None, "https://evil.example", "cross-site", "h") is None


def test_cross_site_checks(auth: Authenticator) -> None:
    alice = auth.authenticate(basic("alice", "team-token"), None)
    assert alice is not None
    token = auth.csrf_token(alice)
    bob = auth.authenticate(basic("bob", "team-token"), None)
    assert bob is not None and auth.csrf_token(bob) != token
    ok = auth.cross_site_reason(alice, token, "http://review:8080", "same-origin", "review:8080")
    assert ok is None
    assert auth.cross_site_reason(alice, token, None, None, "review:8080") is None
    assert auth.cross_site_reason(alice, None, None, None, "h") == "missing or wrong CSRF token"
    assert auth.cross_site_reason(alice, auth.csrf_token(bob), None, None, "h") is not None
    assert auth.cross_site_reason(alice, token, "http://evil:8080", None, "review:8080") == (
        "Origin does not match this site"
    )
    assert auth.cross_site_reason(alice, token, "null", None, "h") is not None
    assert auth.cross_site_reason(alice, token, None, "cross-site", "h") == (
        "Sec-Fetch-Site is cross-site"
    )
    assert auth.cross_site_reason(alice, token, None, "same-site", "h") is not None


def test_the_app_refuses_to_run_without_credentials() -> None:
    with pytest.raises(ConfigError, match="CLAIMWATCH_REVIEW_TOKEN"):
        Authenticator(None, {}, "k")


def test_users_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "users"
    path.write_text(f"# reviewers\ncarol:{hash_password('pw-123456', 1000)}\n\n")
    users = read_users(path)
    assert list(users) == ["carol"] and verify_password("pw-123456", users["carol"])
    assert not verify_password("other", users["carol"])
    path.write_text("carol:plaintext\n")
    with pytest.raises(ConfigError, match="users:1"):
        read_users(path)

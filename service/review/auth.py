"""Who is reviewing, and proof that a POST came from our own page.

Access: HTTP Basic auth, where the user name is the reviewer's name and the
password is either that reviewer's own password (from the users file) or the
team token (``CLAIMWATCH_REVIEW_TOKEN``). Scripts may instead send
``Authorization: Bearer <token>`` with an ``X-Reviewer`` name.

Cross-site requests: a browser attaches Basic credentials to any request to our
origin, so every state-changing request authenticated that way must carry a
CSRF token (an HMAC of the reviewer's name under a key kept in the store) and
must not be marked cross-site by ``Origin`` or ``Sec-Fetch-Site``. Bearer
requests carry no ambient credential and need no CSRF token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from service.errors import ConfigError

NAME = re.compile(r"^[A-Za-z0-9._@+-]{1,64}$")
PBKDF2_ITERATIONS = 200_000
SAFE_FETCH_SITES = {"same-origin", "none"}


@dataclass(frozen=True)
class Reviewer:
    name: str
    ambient: bool
    """True when the browser sent the credential by itself (Basic auth): CSRF applies."""


def hash_password(password: str, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A users-file entry's hash: ``pbkdf2_sha256$iterations$salt$digest`` (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, iterations, salt, digest = encoded.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        computed = hashlib.pbkdf2_hmac(
            "sha256", password.encode(), bytes.fromhex(salt), int(iterations)
        )
        return hmac.compare_digest(computed, bytes.fromhex(digest))
    except ValueError:
        return False


def read_users(path: Path) -> dict[str, str]:
    """Parse a users file: one ``name:hash`` per line, ``#`` starts a comment."""
    users: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ConfigError(f"cannot read the review users file {path}: {error.strerror}") from None
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, encoded = line.partition(":")
        if not sep or not NAME.match(name) or not encoded.startswith("pbkdf2_sha256$"):
            raise ConfigError(f"{path}:{number}: expected name:pbkdf2_sha256$...")
        users[name] = encoded
    return users


class Authenticator:
    """Checks credentials and CSRF tokens; holds no per-request state."""

    def __init__(self, token: str | None, users: Mapping[str, str], csrf_key: str) -> None:
        if not token and not users:
            raise ConfigError(
                "the review app needs credentials: set CLAIMWATCH_REVIEW_TOKEN"
                " or CLAIMWATCH_REVIEW_USERS (a users file)"
            )
        self._token = token
        self._users = dict(users)
        self._csrf_key = csrf_key.encode()
        self._verified: set[bytes] = set()

    def authenticate(
        self, authorization: str | None, reviewer_header: str | None
    ) -> Reviewer | None:
        """The reviewer an ``Authorization`` header proves, or None."""
        if not authorization:
            return None
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() == "bearer":
            name = (reviewer_header or "api").strip()
            if self._token and NAME.match(name) and _equal(credential, self._token):
                return Reviewer(name, ambient=False)
            return None
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(credential, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        name, sep, password = decoded.partition(":")
        if sep and NAME.match(name) and self._password_ok(name, password):
            return Reviewer(name, ambient=True)
        return None

    def _password_ok(self, name: str, password: str) -> bool:
        encoded = self._users.get(name)
        if encoded is None:
            # Names in the users file need their own password, never the team token.
            return bool(self._token) and _equal(password, self._token or "")
        # PBKDF2 is slow on purpose; remember successes (keyed, never the password itself).
        fingerprint = hmac.new(self._csrf_key, f"{name}\0{password}".encode(), "sha256").digest()
        if fingerprint in self._verified:
            return True
        if verify_password(password, encoded):
            self._verified.add(fingerprint)
            return True
        return False

    def csrf_token(self, reviewer: Reviewer) -> str:
        """The token our pages embed in every form for this reviewer."""
        return hmac.new(self._csrf_key, f"csrf\0{reviewer.name}".encode(), "sha256").hexdigest()

    def cross_site_reason(
        self,
        reviewer: Reviewer,
        token: str | None,
        origin: str | None,
        fetch_site: str | None,
        host: str,
    ) -> str | None:
        """Why a state-changing request must be refused as cross-site, or None if it is fine."""
        if not reviewer.ambient:
            return None
        if fetch_site and fetch_site.lower() not in SAFE_FETCH_SITES:
            return f"Sec-Fetch-Site is {fetch_site}"
        if origin and (origin == "null" or urlsplit(origin).netloc.lower() != host.lower()):
            return "Origin does not match this site"
        if not token or not _equal(token, self.csrf_token(reviewer)):
            return "missing or wrong CSRF token"
        return None


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())

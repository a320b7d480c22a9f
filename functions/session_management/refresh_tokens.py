"""Refresh tokens: the proof that a refreshConnection comes from the client that held a place.

A connection id is no secret (it appears in the stage's access log and in replies), so it
cannot prove anything. Each reply that gives a place - ``sessionCreated`` (speaker),
``sessionJoined`` (listener) and ``connectionRefreshed`` - carries a fresh random
``refreshToken`` that only that connection received. Only its SHA-256 is stored (the
listener's Connections row, the session's row for the speaker), so reading a table does not
reveal a usable token; a refresh must present the token, and gets a new one (rotation).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


@dataclass(frozen=True)
class RefreshToken:
    """A new token (goes to the client once) and its hash (stored)."""

    token: str
    digest: str


def issue() -> RefreshToken:
    """A new random token (256 bits) with its stored hash."""
    token = secrets.token_urlsafe(32)
    return RefreshToken(token, digest(token))


def digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("ascii", errors="replace")).hexdigest()


def matches(token: str | None, stored_digest: str | None) -> bool:
    """True when ``token`` is the one whose hash was stored (constant-time comparison)."""
    if not token or not stored_digest:
        return False
    return hmac.compare_digest(digest(token), stored_digest)

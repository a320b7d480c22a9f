"""Validation of Cognito user-pool JWTs against the pool's JWKS.

Checked, in order: size and shape; header ``alg`` is exactly RS256 (so ``none`` and HS256
with the public key as an HMAC secret never reach a verifier); a ``kid`` that the pool's
JWKS holds (cached per container, refetched once for an unknown kid but at most every
``min_refetch_seconds``, so random kids cannot turn the authorizer into a JWKS-fetching
amplifier); the RS256 signature; ``iss``; ``exp`` (small leeway), ``iat``/``nbf`` when present;
``token_use`` is ``access`` and ``client_id`` is the app client (ID tokens are refused: see
docs/protocol.md, "Which token"); ``sub`` present. Any failure raises ``TokenRejected`` with
a short, loggable reason; the token itself is never logged.

The JWKS fetch has an overall deadline (a slow-drip response cannot hold the authorizer past
its timeout) and, while no keys are known yet, is retried after ``cold_retry_seconds`` rather
than the refetch floor, so one failed cold-start fetch does not deny every token for a minute.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHM = "RS256"
MAX_TOKEN_LENGTH = 8192
DEFAULT_LEEWAY_SECONDS = 30
MAX_JWKS_BYTES = 256 * 1024
# The whole fetch (connect, headers, body) ends within this, well inside the authorizer's timeout.
JWKS_DEADLINE_SECONDS = 3.0
# While no keys are known, the next fetch may come this soon after a failed one.
COLD_RETRY_SECONDS = 1.0
ACCEPTED_TOKEN_USE = "access"

JwksFetcher = Callable[[], dict[str, Any]]


class TokenRejected(Exception):
    """The token is not acceptable; ``reason`` is safe to log (it never contains the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JwksDeadlineExceeded(TimeoutError):
    """The JWKS did not arrive within the fetch's overall deadline."""


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def http_jwks_fetcher(url: str, deadline_seconds: float = JWKS_DEADLINE_SECONDS) -> JwksFetcher:
    """A fetcher that GETs the JWKS over HTTPS (plain HTTP only from a loopback issuer, the local run),
    within ``deadline_seconds`` in all."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != "https" and not (parsed.scheme == "http" and parsed.hostname in LOOPBACK_HOSTS):
        raise ValueError("the JWKS URL must be https")
    return deadline_fetcher(url, deadline_seconds)


def deadline_fetcher(url: str, deadline_seconds: float) -> JwksFetcher:
    """GET ``url`` as JSON, giving up after ``deadline_seconds`` in all.

    A socket timeout bounds each read, not the response: a server that drips a byte every
    second never trips it. So the request runs on a daemon thread and the caller waits for it
    at most ``deadline_seconds``; a request still running then is abandoned (its result dropped).
    """
    def request() -> dict[str, Any]:
        with urllib.request.urlopen(url, timeout=deadline_seconds) as response:  # noqa: S310 - configured URL
            return json.loads(response.read(MAX_JWKS_BYTES))

    def fetch() -> dict[str, Any]:
        done: Future[dict[str, Any]] = Future()

        def run() -> None:
            try:
                done.set_result(request())
            except BaseException as error:  # noqa: BLE001 - handed to the waiting caller
                done.set_exception(error)
        threading.Thread(target=run, name="jwks-fetch", daemon=True).start()
        try:
            return done.result(timeout=deadline_seconds)
        except TimeoutError:
            raise JwksDeadlineExceeded(f"no JWKS within {deadline_seconds} s") from None
    return fetch


class JwksCache:
    """The pool's signing keys by ``kid``, fetched lazily and refreshed rarely.

    ``max_age_seconds``: keys are refetched after this long (a failed refresh keeps the
    keys already known: they are still the pool's genuine keys). ``min_refetch_seconds``: the
    floor between two fetches triggered by unknown ``kid`` values.
    """

    def __init__(self, fetch: JwksFetcher, max_age_seconds: float = 6 * 3600, min_refetch_seconds: float = 60,
                 clock: Callable[[], float] = time.monotonic, cold_retry_seconds: float = COLD_RETRY_SECONDS) -> None:
        self._fetch = fetch
        self._max_age = max_age_seconds
        self._min_refetch = min_refetch_seconds
        self._cold_retry = cold_retry_seconds
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> jwt.PyJWK | None:
        """The RS256 signing key with this ``kid``, or None when the pool does not publish it.

        Raises when no keys could ever be fetched (the caller rejects the token).
        """
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self._max_age
            # With no keys at all, every token is denied: retry soon. With keys, the floor holds.
            floor = self._min_refetch if self._keys else self._cold_retry
            if (stale or kid not in self._keys) and (self._attempted_at is None or now - self._attempted_at >= floor):
                self._attempted_at = now
                try:
                    self._keys = _parse_jwks(self._fetch())
                    self._fetched_at = now
                except Exception:
                    if not self._keys:
                        raise
            if not self._keys and self._fetched_at is None:
                raise RuntimeError("the JWKS has not been fetched yet")
            return self._keys.get(kid)


def _parse_jwks(document: Any) -> dict[str, jwt.PyJWK]:
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("the JWKS document has no 'keys' list")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", ALGORITHM) != ALGORITHM:
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry, algorithm=ALGORITHM)
        except jwt.PyJWTError:
            continue
    return keys


@dataclass(frozen=True)
class VerifiedToken:
    """What the authorizer needs from an accepted token."""

    subject: str
    token_use: str
    claims: dict[str, Any]


class CognitoTokenValidator:
    """Validates access tokens of one user pool and one app client."""

    def __init__(self, issuer: str, client_id: str, jwks: JwksCache, leeway_seconds: int = DEFAULT_LEEWAY_SECONDS) -> None:
        self._issuer = issuer
        self._client_id = client_id
        self._jwks = jwks
        self._leeway = leeway_seconds

    def validate(self, token: Any) -> VerifiedToken:
        """Return the verified token or raise ``TokenRejected``."""
        if not isinstance(token, str) or not token:
            raise TokenRejected("missing token")
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
            raise TokenRejected("malformed token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRejected("malformed token header") from None
        if header.get("alg") != ALGORITHM:
            raise TokenRejected("algorithm not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRejected("token has no kid")
        try:
            key = self._jwks.key(kid)
        except Exception:
            raise TokenRejected("signing keys unavailable") from None
        if key is None:
            raise TokenRejected("unknown kid")
        try:
            claims = jwt.decode(
                token, key=key.key, algorithms=[ALGORITHM], issuer=self._issuer, leeway=self._leeway,
                options={"require": ["exp", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected("token expired") from None
        except jwt.InvalidIssuerError:
            raise TokenRejected("wrong issuer") from None
        except jwt.InvalidSignatureError:
            raise TokenRejected("bad signature") from None
        except jwt.PyJWTError as error:
            raise TokenRejected(f"invalid token ({type(error).__name__})") from None
        token_use = claims.get("token_use")
        if token_use != ACCEPTED_TOKEN_USE:
            # ID tokens describe the user to the app; they are not credentials for an API.
            raise TokenRejected("wrong token_use")
        if claims.get("client_id") != self._client_id:
            raise TokenRejected("wrong client_id")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise TokenRejected("token has no subject")
        return VerifiedToken(subject=subject, token_use=token_use, claims=claims)

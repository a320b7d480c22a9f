"""A local token issuer: its own RS256 key, a JWKS, and Cognito-shaped ID and access tokens.

The stack's real authorizer verifies these through its issuer/JWKS settings (``TOKEN_ISSUER``,
``TOKEN_JWKS_URL``), which the local run points here; nothing in the function code knows.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

TOKEN_SECONDS = 3600
MAX_USERNAME = 128


class LocalIssuer:
    """Signs tokens for any username (local mode has no passwords) with a key made at startup."""

    def __init__(self, issuer_url: str, client_id: str) -> None:
        self.issuer = issuer_url.rstrip("/")
        self.client_id = client_id
        self.kid = uuid.uuid4().hex
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def jwks_url(self) -> str:
        """Where the JWKS is served."""
        return f"{self.issuer}/.well-known/jwks.json"

    def jwks(self) -> dict[str, Any]:
        """The public key set."""
        public = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def subject(self, username: str) -> str:
        """A stable user id per username (the same user gets the same ``sub`` across restarts)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.issuer}#{username}"))

    def tokens(self, username: str, now: float | None = None) -> dict[str, Any]:
        """ID and access tokens as Cognito shapes them (``token_use``, ``aud`` / ``client_id``)."""
        now = int(now if now is not None else time.time())
        common = {"sub": self.subject(username), "iss": self.issuer, "iat": now, "exp": now + TOKEN_SECONDS,
                  "auth_time": now, "jti": str(uuid.uuid4())}
        id_claims = {**common, "aud": self.client_id, "token_use": "id", "cognito:username": username}
        access_claims = {**common, "client_id": self.client_id, "token_use": "access", "username": username,
                         "scope": "aws.cognito.signin.user.admin"}
        headers = {"kid": self.kid}
        return {"idToken": jwt.encode(id_claims, self._key, algorithm="RS256", headers=headers),
                "accessToken": jwt.encode(access_claims, self._key, algorithm="RS256", headers=headers),
                "expiresIn": TOKEN_SECONDS, "tokenType": "Bearer"}

    def routes(self, path: str) -> list[web.RouteDef]:
        """``POST {path}/token`` and ``GET {path}/.well-known/jwks.json``."""
        return [web.post(f"{path}/token", self._handle_token),
                web.get(f"{path}/.well-known/jwks.json", self._handle_jwks)]

    async def _handle_token(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        username = body.get("username") if isinstance(body, dict) else None
        if not isinstance(username, str) or not username.strip() or len(username) > MAX_USERNAME:
            return web.json_response({"error": {"code": "INVALID_USERNAME",
                                                "message": f"send {{\"username\": \"...\"}} (1-{MAX_USERNAME} characters)"}},
                                     status=400)
        return web.json_response(self.tokens(username.strip()))

    async def _handle_jwks(self, request: web.Request) -> web.Response:
        return web.json_response(self.jwks())

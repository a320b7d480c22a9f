"""Getting a token: given, from the local run's issuer, or from a deployed stack's Cognito user pool."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import aiohttp


@dataclass(frozen=True)
class Target:
    """Where to connect and how to sign in."""

    websocket_url: str
    auth: dict[str, Any]
    region: str | None = None


def http_base(websocket_url: str) -> str:
    """``ws://host:port/ws`` -> ``http://host:port/`` (where the local run serves ``/config.json``)."""
    parts = urlsplit(websocket_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    return urlunsplit((scheme, parts.netloc, "/", "", ""))


def from_outputs(path: str | Path) -> Target:
    """A deployed stack from ``pulumi stack output --json``: its WebSocket URL and Cognito pool."""
    outputs = json.loads(Path(path).read_text())
    url = outputs["websocket_url"]
    pool = outputs.get("user_pool_id", "")
    match = re.match(r"^([a-z]{2}(?:-[a-z]+)+-\d)_", pool)
    region = match.group(1) if match else None
    return Target(url, {"kind": "cognito", "userPoolId": pool, "clientId": outputs.get("user_pool_client_id")}, region)


async def from_local(session: aiohttp.ClientSession, websocket_url: str) -> Target:
    """The local run (or any web host) from its ``/config.json``."""
    async with session.get(urljoin(http_base(websocket_url), "config.json")) as response:
        response.raise_for_status()
        config = await response.json(content_type=None)
    return Target(config.get("websocketUrl") or websocket_url, config.get("auth") or {}, config.get("region"))


async def token_for(session: aiohttp.ClientSession, target: Target, username: str, password: str | None) -> str:
    """A token for ``username``: the local issuer's, or Cognito's ``USER_PASSWORD_AUTH`` ID token."""
    kind = target.auth.get("kind")
    if kind == "local":
        url = urljoin(http_base(target.websocket_url), target.auth.get("tokenUrl", "/local/token"))
        async with session.post(url, json={"username": username}) as response:
            response.raise_for_status()
            return (await response.json(content_type=None))["accessToken"]
    if kind == "cognito":
        if not password:
            raise SystemExit("a deployed stack needs --password (or the SPEAKER_PASSWORD environment variable)")
        import boto3

        client = boto3.client("cognito-idp", region_name=target.region)
        answer = client.initiate_auth(ClientId=target.auth["clientId"], AuthFlow="USER_PASSWORD_AUTH",
                                      AuthParameters={"USERNAME": username, "PASSWORD": password})
        result = answer.get("AuthenticationResult")
        if not result:
            raise SystemExit(f"sign-in needs a challenge first ({answer.get('ChallengeName')}): complete it once in the web client")
        return result["AccessToken"]
    raise SystemExit(f"unknown auth kind {kind!r}: pass --token")

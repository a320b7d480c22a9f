"""What the speaker and listener share: arguments for the target, connecting, and waiting for replies."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import time
from typing import Any

import aiohttp

from clients import auth, protocol

DEFAULT_URL = "ws://127.0.0.1:8787/ws"
HEARTBEAT_SECONDS = 60


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """--url / --outputs, --token / --username / --password."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", default=None, help=f"WebSocket URL of the local run (default {DEFAULT_URL})")
    where.add_argument("--outputs", help="a deployed stack's `pulumi stack output --json` file")
    parser.add_argument("--token", help="a token to use as it is")
    parser.add_argument("--username", default="speaker", help="user to sign in as (local issuer or Cognito)")
    parser.add_argument("--password", default=os.environ.get("SPEAKER_PASSWORD"), help="Cognito password (deployed stack)")


def log(*parts: Any) -> None:
    """One line on stderr (stdout carries the program's results)."""
    print(*parts, file=sys.stderr, flush=True)


async def resolve(session: aiohttp.ClientSession, args: argparse.Namespace, need_token: bool) -> tuple[str, str | None]:
    """The WebSocket URL and the token (None for an anonymous listener)."""
    if args.outputs:
        target = auth.from_outputs(args.outputs)
    elif args.token and not need_token:
        target = auth.Target(args.url or DEFAULT_URL, {})
    else:
        url = args.url or DEFAULT_URL
        try:
            target = await auth.from_local(session, url)
        except aiohttp.ClientError:
            target = auth.Target(url, {"kind": "local", "tokenUrl": "/local/token"})
    if args.token:
        return target.websocket_url, args.token
    if not need_token:
        return target.websocket_url, None
    return target.websocket_url, await auth.token_for(session, target, args.username, args.password)


class Connection:
    """A WebSocket with numbered requests: ``request`` sends and waits for the reply carrying its requestId."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, on_push) -> None:  # noqa: ANN001 - async callable
        self.ws = ws
        self._on_push = on_push
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self.closed = asyncio.Event()

    async def send(self, text: str) -> None:
        """Send one message."""
        await self.ws.send_str(text)

    async def request(self, build, *args: Any, timeout: float = 30.0, **kwargs: Any) -> dict[str, Any]:  # noqa: ANN001
        """Send ``build(*args, request_id=...)`` and return the direct reply (success or error)."""
        request_id = f"r-{next(self._ids)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        try:
            await self.send(build(*args, request_id=request_id, **kwargs))
            return await asyncio.wait_for(future, timeout)
        finally:
            self._waiting.pop(request_id, None)

    async def read(self) -> None:
        """Dispatch replies to their requests and everything else to ``on_push`` until the socket closes."""
        try:
            async for frame in self.ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    message = protocol.parse(frame.data)
                except protocol.ProtocolError as error:
                    log(f"unreadable message: {error}")
                    continue
                waiter = self._waiting.get(message.get("requestId", ""))
                if waiter is not None and not waiter.done():
                    waiter.set_result(message)
                else:
                    await self._on_push(message, time.time())
        finally:
            self.closed.set()
            for waiter in self._waiting.values():
                if not waiter.done():
                    waiter.set_exception(ConnectionError(f"connection closed ({self.ws.close_code})"))

    async def heartbeats(self) -> None:
        """A heartbeat every minute, as the protocol asks."""
        while not self.ws.closed:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            if not self.ws.closed:
                await self.send(protocol.heartbeat())


async def open_connection(session: aiohttp.ClientSession, url: str, role: str, token: str | None) -> aiohttp.ClientWebSocketResponse:
    """Connect; a refused handshake exits with the documented meaning of its HTTP status."""
    meanings = {403: "token missing, invalid or expired, or unknown role", 429: "too many connection attempts: wait a minute",
                503: "rate limiter unavailable: retry in a few seconds", 500: "server error"}
    try:
        return await session.ws_connect(protocol.connect_url(url, role, token), heartbeat=None, autoping=True)
    except aiohttp.WSServerHandshakeError as error:
        raise SystemExit(f"handshake refused: HTTP {error.status} ({meanings.get(error.status, error.message)})") from None

"""What the client commands (speaker, listener, latency) do around their own work: run it on an event loop, and hold its connection.

``run_command`` parses the command line, runs the command's coroutine and turns Ctrl-C into exit
status 130. ``connected`` signs in (or not), opens the WebSocket and keeps its reader and heartbeats
running for the body of an ``async with``, then closes it.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from clients.common import Connection, open_connection, resolve

Push = Callable[[dict[str, Any], float], Awaitable[None]]


def run_command(arguments: Callable[[list[str] | None], argparse.Namespace],
                run: Callable[[argparse.Namespace], Awaitable[int]], argv: list[str] | None = None) -> int:
    """Exit status of ``run(arguments(argv))``; 130 on Ctrl-C."""
    try:
        return asyncio.run(run(arguments(argv)))
    except KeyboardInterrupt:
        return 130


@asynccontextmanager
async def connected(http: aiohttp.ClientSession, args: argparse.Namespace, role: str, on_push: Push,
                    need_token: bool) -> AsyncIterator[Connection]:
    """A connection as ``role`` to the target in ``args``, reading and sending heartbeats until the block ends.

    A refused handshake exits as ``open_connection`` says. The reader only starts at the body's first
    ``await``, so ``on_push`` may refer to what the body sets up before it.
    """
    url, token = await resolve(http, args, need_token=need_token)
    ws = await open_connection(http, url, role, token)
    connection = Connection(ws, on_push)
    reader = asyncio.create_task(connection.read())
    beats = asyncio.create_task(connection.heartbeats())
    try:
        yield connection
    finally:
        beats.cancel()
        await ws.close()
        await asyncio.wait_for(reader, 5)

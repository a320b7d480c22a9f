"""API Gateway's WebSocket API, locally: ``$connect`` with the REQUEST authorizer, route selection,
event shapes, limits, ``$disconnect``, and the ``@connections`` management API.

What it reproduces (docs/protocol.md): the token travels in the query string and the stack's own
authorizer decides (Deny -> HTTP 403 on the handshake; an authorizer error -> 500); ``$connect``'s
``statusCode`` becomes the handshake status (429, 503...); messages are routed on
``$request.body.action`` to the stack's route keys, anything else (non-JSON, binary, unknown
action) to ``$default``; each integration gets API Gateway's event (``requestContext`` with
``routeKey``, ``eventType``, ``connectionId``, ``domainName``, ``stage``, ``authorizer``...).
Limits: a frame over 32 KB closes the connection with 1009; idle and lifetime timeouts close it
with 1001. Integration responses are not sent back (no route responses are configured: the
handlers answer through ``@connections``). ``@connections``: POST sends one message, GET
describes the connection, DELETE closes it; an unknown id is 410 ``GoneException``, a post over
128 KB is 413 ``PayloadTooLargeException``, as boto3's ``apigatewaymanagementapi`` expects.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import fnmatch
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from local.lambda_service import LambdaService

log = logging.getLogger("local.gateway")

FRAME_LIMIT = 32 * 1024
POST_LIMIT = 128 * 1024


@dataclass(frozen=True)
class GatewayLimits:
    """API Gateway's WebSocket limits (timeouts configurable for local use)."""

    frame_bytes: int = FRAME_LIMIT
    idle_seconds: float = 600.0
    lifetime_seconds: float = 7200.0


@dataclass
class LiveConnection:
    """An open client connection as API Gateway tracks it."""

    connection_id: str
    ws: web.WebSocketResponse
    source_ip: str
    user_agent: str
    connected_at: float
    authorizer: dict[str, Any]
    last_active: float = field(default_factory=time.time)
    inbox: asyncio.Queue = field(default_factory=asyncio.Queue)


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).isoformat().replace("+00:00", "Z")


def _request_time(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def new_connection_id() -> str:
    """A URL-safe id of API Gateway's length (16 characters)."""
    return secrets.token_urlsafe(12)


def policy_allows(decision: Any, method_arn: str) -> bool:
    """Whether an authorizer's policy allows ``execute-api:Invoke`` on ``method_arn`` (an explicit Deny wins)."""
    try:
        statements = decision["policyDocument"]["Statement"]
    except (TypeError, KeyError):
        return False
    allowed = False
    for statement in statements if isinstance(statements, list) else [statements]:
        resources = statement.get("Resource", [])
        resources = resources if isinstance(resources, list) else [resources]
        if not any(fnmatch.fnmatchcase(method_arn, str(resource)) for resource in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


class Gateway:
    """The WebSocket endpoint at ``/ws`` and the management API at ``/{stage}/@connections/{id}``."""

    def __init__(self, lambdas: LambdaService, routes: dict[str, str], authorizer: str | None, stage: str,
                 api_id: str, region: str, account: str, limits: GatewayLimits) -> None:
        self.lambdas = lambdas
        self.route_functions = routes
        self.authorizer = authorizer
        self.stage = stage
        self.api_id = api_id
        self.region = region
        self.account = account
        self.limits = limits
        self.connections: dict[str, LiveConnection] = {}
        self._tasks: set[asyncio.Task] = set()

    def routes(self) -> list[web.RouteDef]:
        """The WebSocket route and ``@connections`` under the stage path and at the root."""
        out = [web.get("/ws", self._handle_websocket)]
        for prefix in (f"/{self.stage}", ""):
            path = prefix + "/@connections/{connection_id}"
            out += [web.post(path, self._handle_post), web.get(path, self._handle_get),
                    web.delete(path, self._handle_delete)]
        return out

    # -- events ---------------------------------------------------------------------------------

    def _context(self, request: web.Request, connection_id: str, connected_at: float, route_key: str,
                 event_type: str, authorizer: dict[str, Any] | None) -> dict[str, Any]:
        now = time.time()
        ctx: dict[str, Any] = {
            "routeKey": route_key, "eventType": event_type, "connectionId": connection_id,
            "extendedRequestId": uuid.uuid4().hex[:16], "requestTime": _request_time(now), "messageDirection": "IN",
            "stage": self.stage, "connectedAt": int(connected_at * 1000), "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": request.remote or "127.0.0.1", "userAgent": request.headers.get("User-Agent", "")},
            "requestId": uuid.uuid4().hex[:16], "domainName": request.host, "apiId": self.api_id,
        }
        if event_type == "MESSAGE":
            ctx["messageId"] = uuid.uuid4().hex[:16]
        if authorizer is not None:
            ctx["authorizer"] = authorizer
        return ctx

    def _method_arn(self) -> str:
        return f"arn:aws:execute-api:{self.region}:{self.account}:{self.api_id}/{self.stage}/$connect"

    async def _authorize(self, request: web.Request, connection_id: str, connected_at: float,
                         headers: dict[str, str], query: dict[str, str]) -> tuple[int, dict[str, Any] | None]:
        """Run the REQUEST authorizer; returns (status, authorizer context for the routes)."""
        if self.authorizer is None:
            return 200, {}
        method_arn = self._method_arn()
        event = {
            "type": "REQUEST", "methodArn": method_arn, "headers": headers,
            "multiValueHeaders": {k: request.headers.getall(k) for k in headers},
            "queryStringParameters": query, "multiValueQueryStringParameters": {k: request.query.getall(k) for k in query},
            "stageVariables": {},
            "requestContext": self._context(request, connection_id, connected_at, "$connect", "CONNECT", None),
        }
        result = await self.lambdas.invoke(self.authorizer, event)
        if not result.ok or not isinstance(result.payload, dict):
            return 500, None
        if not policy_allows(result.payload, method_arn):
            return 403, None
        context = result.payload.get("context") or {}
        return 200, {**context, "principalId": result.payload.get("principalId", ""), "integrationLatency": 0}

    async def _handle_websocket(self, request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            return web.Response(status=426, text='{"message": "Upgrade Required"}', headers={"Upgrade": "websocket"})
        connection_id = new_connection_id()
        connected_at = time.time()
        headers = dict(request.headers)
        query = dict(request.query)
        status, authorizer = await self._authorize(request, connection_id, connected_at, headers, query)
        if status != 200:
            return web.Response(status=status, text=json.dumps({"message": "Forbidden" if status == 403 else
                                                                 "Internal server error"}))
        if "$connect" in self.route_functions:
            event = {"headers": headers, "multiValueHeaders": {k: request.headers.getall(k) for k in headers},
                     "queryStringParameters": query,
                     "multiValueQueryStringParameters": {k: request.query.getall(k) for k in query},
                     "requestContext": self._context(request, connection_id, connected_at, "$connect", "CONNECT",
                                                     authorizer),
                     "isBase64Encoded": False}
            result = await self.lambdas.invoke(self.route_functions["$connect"], event)
            if not result.ok:
                return web.Response(status=500, text='{"message": "Internal server error"}')
            code = int((result.payload or {}).get("statusCode", 200)) if isinstance(result.payload, dict) else 200
            if not 200 <= code < 300:
                return web.Response(status=code, text=str((result.payload or {}).get("body") or ""))
        # aiohttp refuses a message at or over max_msg_size with close code 1009 (MESSAGE_TOO_BIG).
        ws = web.WebSocketResponse(max_msg_size=self.limits.frame_bytes + 1, autoping=True)
        await ws.prepare(request)
        connection = LiveConnection(connection_id, ws, request.remote or "127.0.0.1",
                                    request.headers.get("User-Agent", ""), connected_at, authorizer or {})
        self.connections[connection_id] = connection
        dispatcher = asyncio.get_running_loop().create_task(self._dispatch(request, connection))
        close_code, reason = 1000, "Client closed"
        try:
            close_code, reason = await self._receive_loop(request, connection)
        finally:
            self.connections.pop(connection_id, None)
            if not ws.closed:
                await ws.close(code=close_code, message=reason.encode())
            self._spawn(self._disconnect(request, connection, ws.close_code or close_code, reason, dispatcher))
        return ws

    async def _receive_loop(self, request: web.Request, connection: LiveConnection) -> tuple[int, str]:
        ws = connection.ws
        while True:
            now = time.time()
            idle_left = connection.last_active + self.limits.idle_seconds - now
            life_left = connection.connected_at + self.limits.lifetime_seconds - now
            if idle_left <= 0 or life_left <= 0:
                return WSCloseCode.GOING_AWAY, "Idle timeout" if idle_left <= 0 else "Connection lifetime exceeded"
            try:
                message = await ws.receive(timeout=min(idle_left, life_left))
            except TimeoutError:
                continue
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return ws.close_code or 1000, "Client closed"
            if message.type == WSMsgType.ERROR:
                return ws.close_code or WSCloseCode.MESSAGE_TOO_BIG, "Message too big"
            connection.last_active = time.time()
            if message.type == WSMsgType.TEXT:
                connection.inbox.put_nowait((message.data, False))
            elif message.type == WSMsgType.BINARY:
                # CONVERT_TO_TEXT: binary frames reach $default base64-encoded.
                connection.inbox.put_nowait((base64.b64encode(message.data).decode(), True))

    async def _dispatch(self, request: web.Request, connection: LiveConnection) -> None:
        """A connection's messages, one at a time in arrival order (API Gateway may overlap two; here a
        cold container start of a second or more would reorder a speaker's audio, so they never overlap)."""
        while True:
            body, binary = await connection.inbox.get()
            try:
                await self._route_message(request, connection, body, binary)
            except Exception:
                log.exception("routing a message failed")

    def _route_key(self, body: str, binary: bool) -> str:
        if not binary:
            try:
                action = json.loads(body).get("action")
            except (ValueError, AttributeError):
                action = None
            if isinstance(action, str) and action in self.route_functions and not action.startswith("$"):
                return action
        return "$default"

    async def _route_message(self, request: web.Request, connection: LiveConnection, body: str,
                             binary: bool = False) -> None:
        route_key = self._route_key(body, binary)
        function = self.route_functions.get(route_key)
        if function is None:
            await self._send(connection, json.dumps({"message": "Forbidden", "connectionId": connection.connection_id,
                                                     "requestId": uuid.uuid4().hex[:16]}))
            return
        event = {"requestContext": self._context(request, connection.connection_id, connection.connected_at,
                                                 route_key, "MESSAGE", connection.authorizer),
                 "body": body, "isBase64Encoded": False}
        result = await self.lambdas.invoke(function, event)
        if not result.ok:
            # What API Gateway sends when an integration fails.
            await self._send(connection, json.dumps({"message": "Internal server error",
                                                     "connectionId": connection.connection_id,
                                                     "requestId": event["requestContext"]["requestId"]}))

    async def _disconnect(self, request: web.Request, connection: LiveConnection, code: int, reason: str,
                          dispatcher: asyncio.Task) -> None:
        # Messages already received are still delivered (their replies go nowhere), then $disconnect.
        while not connection.inbox.empty():
            await asyncio.sleep(0.05)
        dispatcher.cancel()
        function = self.route_functions.get("$disconnect")
        if function is None:
            return
        ctx = self._context(request, connection.connection_id, connection.connected_at, "$disconnect", "DISCONNECT",
                            connection.authorizer)
        ctx.update({"disconnectStatusCode": code, "disconnectReason": reason})
        await self.lambdas.invoke(function, {"headers": {"Host": request.host}, "requestContext": ctx,
                                             "isBase64Encoded": False})

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, connection: LiveConnection, data: bytes | str) -> bool:
        if connection.ws.closed:
            return False
        try:
            if isinstance(data, bytes):
                try:
                    await connection.ws.send_str(data.decode("utf-8"))
                except UnicodeDecodeError:
                    await connection.ws.send_bytes(data)
            else:
                await connection.ws.send_str(data)
        except (ConnectionError, RuntimeError):
            return False
        return True

    # -- @connections -----------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, kind: str, message: str | None = None) -> web.Response:
        return web.json_response({"message": message}, status=status, headers={"x-amzn-ErrorType": kind})

    async def _handle_post(self, request: web.Request) -> web.Response:
        connection = self.connections.get(request.match_info["connection_id"])
        data = await request.read()
        if connection is None or connection.ws.closed:
            return self._error(410, "GoneException")
        if len(data) > POST_LIMIT:
            return self._error(413, "PayloadTooLargeException", "Message too long")
        if not await self._send(connection, data):
            return self._error(410, "GoneException")
        return web.Response(status=200)

    async def _handle_get(self, request: web.Request) -> web.Response:
        connection = self.connections.get(request.match_info["connection_id"])
        if connection is None:
            return self._error(410, "GoneException")
        # The wire names of GetConnection's output (botocore maps them to ConnectedAt, Identity...).
        return web.json_response({"connectedAt": _iso(connection.connected_at), "lastActiveAt": _iso(connection.last_active),
                                  "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent}})

    async def _handle_delete(self, request: web.Request) -> web.Response:
        connection = self.connections.get(request.match_info["connection_id"])
        if connection is None:
            return self._error(410, "GoneException")
        await connection.ws.close(code=WSCloseCode.OK, message=b"Connection deleted")
        return web.Response(status=204)

    async def close(self) -> None:
        """Close every connection (each runs its $disconnect) and wait for in-flight routes."""
        for connection in list(self.connections.values()):
            with contextlib.suppress(Exception):
                await connection.ws.close(code=WSCloseCode.GOING_AWAY, message=b"Server shutting down")
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

"""Test support: moto tables with the exact schema, a fake @connections client that records
posts, a controllable clock, and API Gateway WebSocket event shapes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError as AwsClientError

REGION = "us-east-1"
ENDPOINT = "https://abc123.execute-api.us-east-1.amazonaws.com/live"
INDEX = "BySessionLanguage"

BASE_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_SERVICE_NAME": "session-management",
    "POWERTOOLS_METRICS_NAMESPACE": "SpeechTranslationTest",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "SESSIONS_TABLE": "test-sessions",
    "CONNECTIONS_TABLE": "test-connections",
    "CONNECTIONS_BY_SESSION_INDEX": INDEX,
    "RATE_LIMITS_TABLE": "test-rate-limits",
    "WEBSOCKET_ENDPOINT": ENDPOINT,
    "MAX_LISTENERS": "5",
    "SESSION_MAX_DURATION_HOURS": "2",
    "REFRESH_MINUTES": "100",
    "WARNING_MINUTES": "105",
    "DATA_RETENTION_HOURS": "12",
    "STALE_CONNECTION_SECONDS": "300",
    "SPEAKER_GRACE_MINUTES": "10",
    "RATE_SESSIONS_PER_HOUR": "50",
    "RATE_LISTENER_JOINS_PER_MINUTE": "1000",
    "RATE_CONNECTION_ATTEMPTS_PER_MINUTE": "1000",
    "RATE_HEARTBEATS_PER_MINUTE": "2",
}

START = 1_700_000_000


def create_tables(dynamodb: Any) -> None:
    """The three tables exactly as docs/data-model.md describes them."""
    dynamodb.create_table(
        TableName=BASE_ENV["SESSIONS_TABLE"], BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "sessionId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "sessionId", "AttributeType": "S"}],
    )
    dynamodb.create_table(
        TableName=BASE_ENV["CONNECTIONS_TABLE"], BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"},
                              {"AttributeName": "sessionId", "AttributeType": "S"},
                              {"AttributeName": "targetLanguage", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{
            "IndexName": INDEX,
            "KeySchema": [{"AttributeName": "sessionId", "KeyType": "HASH"},
                          {"AttributeName": "targetLanguage", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["expiresAt", "role", "lastHeartbeatAt"]},
        }],
    )
    dynamodb.create_table(
        TableName=BASE_ENV["RATE_LIMITS_TABLE"], BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "limitKey", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "limitKey", "AttributeType": "S"}],
    )


def gone_error(operation: str = "PostToConnection") -> AwsClientError:
    """The error API Gateway returns for a closed connection."""
    return AwsClientError({"Error": {"Code": "GoneException", "Message": "gone"},
                           "ResponseMetadata": {"HTTPStatusCode": 410}}, operation)


@dataclass
class FakeManagementApi:
    """Records posts like @connections; connections in ``gone`` answer 410."""

    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)
    endpoints: list[str] = field(default_factory=list)

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict[str, Any]:  # noqa: N803 - boto3's names
        if ConnectionId in self.gone:
            raise gone_error()
        self.posts.append((ConnectionId, json.loads(Data)))
        return {}

    def delete_connection(self, ConnectionId: str) -> dict[str, Any]:  # noqa: N803
        if ConnectionId in self.gone:
            raise gone_error("DeleteConnection")
        self.deleted.append(ConnectionId)
        return {}

    def to(self, connection_id: str) -> list[dict[str, Any]]:
        """Every envelope posted to one connection, oldest first."""
        return [envelope for cid, envelope in self.posts if cid == connection_id]

    def last(self, connection_id: str) -> dict[str, Any]:
        """The latest envelope posted to one connection."""
        posted = self.to(connection_id)
        assert posted, f"nothing was posted to {connection_id}"
        return posted[-1]

    def types(self, connection_id: str) -> list[str]:
        """Envelope types posted to one connection."""
        return [envelope["type"] for envelope in self.to(connection_id)]


class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name = "session-management-test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:session-management-test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def __init__(self, remaining_ms: int = 50_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def request_context(connection_id: str, route_key: str, event_type: str, source_ip: str,
                    authorizer: dict[str, Any] | None = None, connected_at_ms: int | None = None) -> dict[str, Any]:
    """An API Gateway WebSocket requestContext."""
    ctx: dict[str, Any] = {
        "routeKey": route_key, "eventType": event_type, "connectionId": connection_id,
        "domainName": "abc123.execute-api.us-east-1.amazonaws.com", "stage": "live", "apiId": "abc123",
        "requestId": "req-" + connection_id, "messageId": "msg-" + connection_id, "extendedRequestId": "ext",
        "messageDirection": "IN", "requestTime": "14/Nov/2023:22:13:20 +0000", "requestTimeEpoch": START * 1000,
        "connectedAt": connected_at_ms if connected_at_ms is not None else START * 1000,
        "identity": {"sourceIp": source_ip, "userAgent": "test-client"},
    }
    if authorizer is not None:
        ctx["authorizer"] = authorizer
    return ctx


def connect_event(connection_id: str, role: str | None, user_id: str = "", source_ip: str = "198.51.100.1",
                  connected_at_ms: int | None = None) -> dict[str, Any]:
    """A $connect event as API Gateway sends it after the authorizer allowed it."""
    authorizer = None if role is None else {"role": role, "userId": user_id, "principalId": user_id or "anonymous",
                                            "integrationLatency": 12}
    query = {"role": role or "listener"}
    if user_id:
        query["token"] = "header.payload.signature"
    return {
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "Sec-WebSocket-Version": "13"},
        "multiValueHeaders": {"Host": ["abc123.execute-api.us-east-1.amazonaws.com"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "requestContext": request_context(connection_id, "$connect", "CONNECT", source_ip, authorizer, connected_at_ms),
        "isBase64Encoded": False,
    }


def message_event(connection_id: str, route_key: str, body: Any, source_ip: str = "198.51.100.1",
                  is_base64: bool = False) -> dict[str, Any]:
    """A MESSAGE event; ``body`` is sent as-is when it is a string, else JSON-encoded."""
    return {
        "requestContext": request_context(connection_id, route_key, "MESSAGE", source_ip),
        "body": body if isinstance(body, str) or body is None else json.dumps(body),
        "isBase64Encoded": is_base64,
    }


def disconnect_event(connection_id: str, source_ip: str = "198.51.100.1") -> dict[str, Any]:
    """A $disconnect event."""
    ctx = request_context(connection_id, "$disconnect", "DISCONNECT", source_ip)
    ctx.update({"disconnectStatusCode": 1001, "disconnectReason": "Going away"})
    return {"headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com"}, "requestContext": ctx, "isBase64Encoded": False}


# Message bodies name this session; each test replaces it with the real id.
SESSION = "placeholder-session-0000"
# route key -> a valid message body for that route
VALID_MESSAGES = {
    "createSession": {"action": "createSession", "sourceLanguage": "en-US"},
    "joinSession": {"action": "joinSession", "sessionId": SESSION, "targetLanguage": "es"},
    "leaveSession": {"action": "leaveSession", "sessionId": SESSION},
    "heartbeat": {"action": "heartbeat"},
    "refreshConnection": {"action": "refreshConnection", "sessionId": SESSION, "previousConnectionId": "lst-1",
                          "targetLanguage": "es"},
    "getSessionStatus": {"action": "getSessionStatus", "sessionId": SESSION},
    "speakerControl": {"action": "speakerControl", "sessionId": SESSION, "command": "pause"},
    "listenerControl": {"action": "listenerControl", "command": "switchLanguage", "targetLanguage": "fr"},
}
# route key -> who sends it in the fuzz tests (the speaker "spk-1"); every other route: the listener in the session.
CALLER = {"createSession": "spk-1", "speakerControl": "spk-1"}


ROUTES = {
    "createSession": "session_management.create_session.handler",
    "joinSession": "session_management.join_session.handler",
    "leaveSession": "session_management.listener_control.handler",
    "heartbeat": "session_management.heartbeat.handler",
    "refreshConnection": "session_management.refresh.handler",
    "getSessionStatus": "session_management.session_status.handler",
    "speakerControl": "session_management.speaker_control.handler",
    "listenerControl": "session_management.listener_control.handler",
    "$default": "session_management.default_route.handler",
}


class World:
    """A running backend: moto tables, the fake @connections client, a clock, and helpers."""

    def __init__(self, dynamodb: Any, api: FakeManagementApi) -> None:
        self.dynamodb = dynamodb
        self.api = api
        self.now = START
        self.sessions = dynamodb.Table(BASE_ENV["SESSIONS_TABLE"])
        self.connections = dynamodb.Table(BASE_ENV["CONNECTIONS_TABLE"])
        self.rate_limits = dynamodb.Table(BASE_ENV["RATE_LIMITS_TABLE"])

    def handler(self, route_key: str) -> Any:
        import importlib
        return importlib.import_module(ROUTES[route_key]).lambda_handler

    def connect(self, connection_id: str, role: str | None, user_id: str = "", source_ip: str = "198.51.100.1") -> dict[str, Any]:
        from session_management.connect.handler import lambda_handler
        return lambda_handler(connect_event(connection_id, role, user_id, source_ip, self.now * 1000), LambdaContext())

    def speaker(self, connection_id: str = "spk-1", user_id: str = "user-speaker-1") -> str:
        assert self.connect(connection_id, "speaker", user_id)["statusCode"] == 200
        return connection_id

    def listener(self, connection_id: str, user_id: str = "", source_ip: str = "198.51.100.1") -> str:
        assert self.connect(connection_id, "listener", user_id, source_ip)["statusCode"] == 200
        return connection_id

    def send(self, connection_id: str, body: Any, route_key: str | None = None, source_ip: str = "198.51.100.1") -> dict[str, Any]:
        """Send a message; the route is the body's action (or $default), as API Gateway selects it."""
        if route_key is None:
            action = body.get("action") if isinstance(body, dict) else None
            route_key = action if action in ROUTES else "$default"
        return self.handler(route_key)(message_event(connection_id, route_key, body, source_ip), LambdaContext())

    def disconnect(self, connection_id: str) -> dict[str, Any]:
        from session_management.disconnect.handler import lambda_handler
        return lambda_handler(disconnect_event(connection_id), LambdaContext())

    def sweep(self) -> dict[str, Any]:
        from session_management.scheduled.handler import lambda_handler
        event = {"version": "0", "id": "evt-1", "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": "123456789012", "time": "2023-11-14T22:13:20Z", "region": REGION,
                 "resources": ["arn:aws:events:us-east-1:123456789012:rule/session-status"], "detail": {}}
        return lambda_handler(event, LambdaContext())

    def create_session(self, speaker: str = "spk-1", language: str = "en-US") -> str:
        self.send(speaker, {"action": "createSession", "sourceLanguage": language})
        reply = self.api.last(speaker)
        assert reply["type"] == "sessionCreated", reply
        return reply["sessionId"]

    def join(self, listener: str, session_id: str, language: str = "es", source_ip: str = "198.51.100.1") -> dict[str, Any]:
        self.send(listener, {"action": "joinSession", "sessionId": session_id, "targetLanguage": language}, source_ip=source_ip)
        return self.api.last(listener)

    def session_row(self, session_id: str) -> dict[str, Any]:
        return self.sessions.get_item(Key={"sessionId": session_id}, ConsistentRead=True).get("Item", {})

    def connection_row(self, connection_id: str) -> dict[str, Any] | None:
        return self.connections.get_item(Key={"connectionId": connection_id}, ConsistentRead=True).get("Item")

    def snapshot(self, rate_limits: bool = False) -> dict[str, Any]:
        """Every row of Sessions and Connections (and RateLimits if asked), for before/after comparisons."""
        def rows(table: Any, key: str) -> list[dict[str, Any]]:
            return sorted(table.scan(ConsistentRead=True)["Items"], key=lambda item: item[key])
        state = {"sessions": rows(self.sessions, "sessionId"), "connections": rows(self.connections, "connectionId")}
        if rate_limits:
            state["rateLimits"] = rows(self.rate_limits, "limitKey")
        return state



"""$connect, rate limits failing closed, reply delivery (Gone via botocore Stubber, 429 retries),
capacity at the production size, and the metrics the alarms read."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError as AwsClientError
from botocore.stub import Stubber

from session_management import clients
from session_management.replies import FAILED, GONE, SENT, Replier
from session_management.settings import get_settings
from session_management.tests.support import ENDPOINT, START, LambdaContext, World, connect_event, message_event


def test_connect_stores_the_connection_row(world: World) -> None:
    assert world.connect("spk-1", "speaker", "user-1", "203.0.113.5")["statusCode"] == 200
    row = world.connection_row("spk-1")
    assert row == {"connectionId": "spk-1", "role": "speaker", "userId": "user-1", "sourceIp": "203.0.113.5",
                   "connectedAt": START, "lastHeartbeatAt": START, "expiresAt": START + 7200 + 60}
    assert world.connect("lst-1", "listener")["statusCode"] == 200
    assert "userId" not in world.connection_row("lst-1") and world.connection_row("lst-1")["role"] == "listener"


def test_connect_without_authorizer_identity_is_refused(world: World) -> None:
    assert world.connect("x-1", None)["statusCode"] == 403
    assert world.connect("x-2", "admin", "user-1")["statusCode"] == 403
    assert world.connect("x-3", "speaker", "")["statusCode"] == 403
    assert world.snapshot()["connections"] == []


def test_connection_attempts_are_rate_limited_per_ip(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_CONNECTION_ATTEMPTS_PER_MINUTE", "3")
    get_settings.cache_clear()
    codes = [world.connect(f"c-{n}", "listener", source_ip="203.0.113.7")["statusCode"] for n in range(4)]
    assert codes == [200, 200, 200, 429]
    assert world.connection_row("c-3") is None
    assert world.connect("c-9", "listener", source_ip="203.0.113.8")["statusCode"] == 200


def test_rate_limiter_outage_limits_but_never_evicts(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """RateLimits down for longer than the stale cut-off: connections, joins and heartbeats go
    through (liveness is recorded), the sweep closes nobody; only createSession is refused."""
    world.speaker()
    session_id = world.create_session()
    listener = world.listener("lst-1")
    world.join(listener, session_id)
    monkeypatch.setenv("RATE_LIMITS_TABLE", "no-such-table")
    get_settings.cache_clear()
    assert world.connect("lst-2", "listener")["statusCode"] == 200
    assert world.join("lst-2", session_id)["type"] == "sessionJoined"
    assert world.session_row(session_id)["listenerCount"] == 2
    for _ in range(7):  # seven minutes of outage, heartbeating every minute
        world.now += 60
        for connection in ("spk-1", listener, "lst-2"):
            world.send(connection, {"action": "heartbeat"})
            assert world.api.last(connection)["type"] == "heartbeatAck"
        world.sweep()
    assert world.api.deleted == []
    assert {c["connectionId"] for c in world.snapshot()["connections"]} == {"spk-1", listener, "lst-2"}
    assert world.session_row(session_id)["listenerCount"] == 2
    world.connect("spk-2", "speaker", "user-2")
    world.send("spk-2", {"action": "createSession", "sourceLanguage": "en-US"})
    reply = world.api.last("spk-2")
    assert reply["code"] == "RATE_LIMIT_UNAVAILABLE" and reply["retryAfterSeconds"] > 0
    print("\nFAULT|RateLimits outage for 7 minutes (nobody evicted, counts exact)|survived")


def test_heartbeat_over_its_limit_still_records_liveness(world: World) -> None:
    listener = world.listener("lst-1")
    for _ in range(3):  # the test limit is 2 a minute
        world.send(listener, {"action": "heartbeat"})
    assert world.api.last(listener)["code"] == "RATE_LIMITED"
    world.now += 30
    world.send(listener, {"action": "heartbeat"})
    assert world.api.last(listener)["code"] == "RATE_LIMITED"
    assert world.connection_row(listener)["lastHeartbeatAt"] == world.now


def test_capacity_at_500_listeners(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The production cap: 499 listeners seeded in bulk (moto costs ~7 ms per call, so 500 full
    joins would take 15 s; test_join_up_to_capacity_and_one_past drives every join at cap 5)."""
    monkeypatch.setenv("MAX_LISTENERS", "500")
    get_settings.cache_clear()
    world.speaker()
    session_id = world.create_session()
    languages = ("es", "fr", "de", "it", "ja")
    with world.connections.batch_writer() as batch:
        for n in range(499):
            batch.put_item(Item={"connectionId": f"lst-{n}", "role": "listener", "sourceIp": "198.51.100.1",
                                 "connectedAt": START, "lastHeartbeatAt": START, "expiresAt": START + 7260,
                                 "sessionId": session_id, "targetLanguage": languages[n % 5]})
    world.sessions.update_item(Key={"sessionId": session_id}, UpdateExpression="SET listenerCount = :n",
                               ExpressionAttributeValues={":n": 499})
    five_hundredth = world.listener("lst-499")
    assert world.join(five_hundredth, session_id, "ja")["listenerCount"] == 500
    last = world.listener("lst-500")
    reply = world.join(last, session_id)
    assert reply["code"] == "SESSION_FULL" and reply["maxListeners"] == 500 and "500" in reply["message"]
    assert world.session_row(session_id)["listenerCount"] == 500
    world.send("spk-1", {"action": "getSessionStatus"})
    status = world.api.last("spk-1")
    assert status["listenerCount"] == 500 and status["languages"] == {code: 100 for code in sorted(languages)}
    world.disconnect("lst-0")
    assert world.join(last, session_id)["type"] == "sessionJoined"


def test_gone_reply_deletes_the_connection_and_is_not_retried(world: World) -> None:
    world.speaker()
    session_id = world.create_session()
    listener = world.listener("lst-1")
    world.join(listener, session_id)
    real = boto3.client("apigatewaymanagementapi", endpoint_url=ENDPOINT, region_name="us-east-1")
    stubber = Stubber(real)
    stubber.add_client_error("post_to_connection", service_error_code="GoneException", http_status_code=410,
                             expected_params={"ConnectionId": listener, "Data": stubber_any()})
    clients.reset()
    clients.override(dynamodb_resource=world.dynamodb, management_factory=lambda endpoint: real)
    with stubber:
        response = world.handler("heartbeat")(message_event(listener, "heartbeat", {"action": "heartbeat"}), LambdaContext())
        stubber.assert_no_pending_responses()  # exactly one post: a Gone connection is never retried
    assert response["statusCode"] == 200
    assert world.connection_row(listener) is None
    assert world.session_row(session_id)["listenerCount"] == 0


def stubber_any() -> Any:
    from botocore.stub import ANY
    return ANY


class FlakyApi:
    """Answers 429 ``throttles`` times, then accepts."""

    def __init__(self, throttles: int, code: str = "LimitExceededException", status: int = 429) -> None:
        self.throttles = throttles
        self.code = code
        self.status = status
        self.calls = 0

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        if self.calls <= self.throttles:
            raise AwsClientError({"Error": {"Code": self.code, "Message": "x"},
                                  "ResponseMetadata": {"HTTPStatusCode": self.status}}, "PostToConnection")
        return {}


def test_replier_backs_off_on_429_and_gives_up_on_other_errors() -> None:
    sleeps: list[float] = []
    api = FlakyApi(2)
    assert Replier(api, sleep=sleeps.append).send("c1", {"type": "x"}) == SENT
    assert api.calls == 3 and len(sleeps) == 2
    api = FlakyApi(5)
    assert Replier(api, sleep=sleeps.append).send("c1", {"type": "x"}) == FAILED and api.calls == 3
    api = FlakyApi(1, code="PayloadTooLargeException", status=413)
    assert Replier(api, sleep=sleeps.append).send("c1", {"type": "x"}) == FAILED and api.calls == 1
    gone: list[str] = []
    api = FlakyApi(1, code="GoneException", status=410)
    assert Replier(api, on_gone=gone.append).send("c1", {"type": "x"}) == GONE and api.calls == 1 and gone == ["c1"]


def test_broadcast_reports_and_cleans_up_gone_connections(world: World) -> None:
    world.api.gone.add("b")
    cleaned: list[str] = []
    result = Replier(world.api, on_gone=cleaned.append).broadcast(["a", "b", "c", "a"], {"type": "sessionUpdate"})
    assert result.sent == 2 and result.gone == ["b"] and cleaned == ["b"]


def test_endpoint_comes_from_the_event_when_unset(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBSOCKET_ENDPOINT", "")
    get_settings.cache_clear()
    world.listener("lst-1")
    world.send("lst-1", {"action": "heartbeat"})
    assert world.api.endpoints[-1] == "https://abc123.execute-api.us-east-1.amazonaws.com/live"


def test_metrics_are_emitted_in_embedded_metric_format(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.speaker()
    capsys.readouterr()
    world.create_session()
    names = set()
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("{") and "_aws" in line:
            document = json.loads(line)
            for directive in document["_aws"]["CloudWatchMetrics"]:
                names.update(metric["Name"] for metric in directive["Metrics"])
                assert directive["Namespace"] == "SpeechTranslationTest"
                assert ["service"] in directive["Dimensions"]
    assert {"SessionCreationLatency", "SessionsCreated"} <= names
    handler = world.handler("createSession")
    world.connect("lst-9", "listener")
    capsys.readouterr()
    handler(message_event("lst-9", "createSession", {"action": "createSession", "sourceLanguage": "en-US"}), LambdaContext())
    assert "ClientErrors" in capsys.readouterr().out


def test_connect_event_shape_is_parsed(world: World) -> None:
    from session_management.connect.handler import lambda_handler
    event = connect_event("spk-z", "speaker", "user-z", "2001:db8::1", connected_at_ms=(START - 5) * 1000 + 999)
    assert lambda_handler(event, LambdaContext())["statusCode"] == 200
    row = world.connection_row("spk-z")
    assert row["connectedAt"] == START - 5 and row["sourceIp"] == "2001:db8::1"

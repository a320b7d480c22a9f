"""Broadcast: bounded concurrency, 410 Gone cleanup, 429 backoff, ordered parts per connection."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from translation_pipeline.broadcast import Broadcaster, ConnectionCleaner
from translation_pipeline.tests.fakes import CONNECTIONS, SESSIONS, FakeManagementApi, put_connection, put_session

SID = "golden-eagle-4821"


def _broadcaster(client, ddb=None, concurrency=8, retries=3, sleeps=None, clock=None):
    cleaner = ConnectionCleaner(ddb, CONNECTIONS, SESSIONS) if ddb is not None else None
    return Broadcaster(client, cleaner, concurrency, retries, 0.05, 1.0,
                       sleep=(sleeps.append if sleeps is not None else lambda _: None), rng=lambda: 1.0,
                       **({"clock": clock} if clock else {}))


def test_translation_broadcast_every_connection_in_order():
    api = FakeManagementApi()
    b = _broadcaster(api)
    conns = [f"c{i}" for i in range(40)]
    messages = [b'{"part":1}', b'{"part":2}', b'{"part":3}']
    result = b.broadcast(SID, conns, messages)
    b.shutdown()
    assert sorted(result.delivered) == sorted(conns) and not result.failed and not result.gone
    for cid in conns:
        assert [m["part"] for m in api.messages_for(cid)] == [1, 2, 3]
    assert result.posts == 120 and result.last_posted_at is not None


def test_translation_broadcast_concurrency_is_bounded():
    api = FakeManagementApi(delay=0.005)
    b = _broadcaster(api, concurrency=5)
    b.broadcast(SID, [f"c{i}" for i in range(50)], [b"{}"])
    b.shutdown()
    assert 1 < api.max_in_flight <= 5


def test_translation_gone_connection_deleted_and_others_receive(ddb, now):
    put_session(ddb, SID, now, listeners=3)
    for cid in ("a", "b", "c"):
        put_connection(ddb, cid, SID, now, language="es")
    api = FakeManagementApi(gone={"b"})
    b = _broadcaster(api, ddb)
    result = b.broadcast(SID, ["a", "b", "c"], [b'{"part":1}', b'{"part":2}'])
    b.shutdown()
    assert result.gone == ["b"] and sorted(result.delivered) == ["a", "c"]
    assert api.attempts["b"] == 1  # Gone is never retried, and later parts are not tried
    assert len(api.messages_for("a")) == len(api.messages_for("c")) == 2
    assert "Item" not in ddb.get_item(TableName=CONNECTIONS, Key={"connectionId": {"S": "b"}})
    session = ddb.get_item(TableName=SESSIONS, Key={"sessionId": {"S": SID}})["Item"]
    assert session["listenerCount"]["N"] == "2"


def test_translation_gone_twice_decrements_once(ddb, now):
    put_session(ddb, SID, now, listeners=1)
    put_connection(ddb, "x", SID, now, language="es")
    cleaner = ConnectionCleaner(ddb, CONNECTIONS, SESSIONS)
    assert cleaner.remove("x", SID) is True
    assert cleaner.remove("x", SID) is False  # already deleted (e.g. by $disconnect): no second decrement
    session = ddb.get_item(TableName=SESSIONS, Key={"sessionId": {"S": SID}})["Item"]
    assert session["listenerCount"]["N"] == "0"


def test_translation_gone_row_in_another_session_is_left_alone(ddb, now):
    """The row is deleted only while it is still in the session it was found in (``sessionId = :s``)."""
    other = "silver-otter-1234"
    put_session(ddb, SID, now, listeners=1)
    put_session(ddb, other, now, listeners=1)
    put_connection(ddb, "x", other, now, language="es")  # moved on (left, joined another) since it was listed
    cleaner = ConnectionCleaner(ddb, CONNECTIONS, SESSIONS)
    assert cleaner.remove("x", SID) is False
    assert ddb.get_item(TableName=CONNECTIONS, Key={"connectionId": {"S": "x"}})["Item"]["sessionId"]["S"] == other
    for session_id in (SID, other):
        assert ddb.get_item(TableName=SESSIONS, Key={"sessionId": {"S": session_id}})["Item"]["listenerCount"]["N"] == "1"
    # A row that left without joining another (no sessionId) is not this session's either.
    ddb.update_item(TableName=CONNECTIONS, Key={"connectionId": {"S": "x"}}, UpdateExpression="REMOVE sessionId, targetLanguage")
    assert cleaner.remove("x", SID) is False
    assert "Item" in ddb.get_item(TableName=CONNECTIONS, Key={"connectionId": {"S": "x"}})
    # Through the broadcaster: the 410 is counted as gone, the other session's member is kept.
    put_connection(ddb, "x", other, now, language="es")
    b = _broadcaster(FakeManagementApi(gone={"x"}), ddb)
    result = b.broadcast(SID, ["x"], [b"{}"])
    b.shutdown()
    assert result.gone == ["x"]
    assert ddb.get_item(TableName=CONNECTIONS, Key={"connectionId": {"S": "x"}})["Item"]["sessionId"]["S"] == other
    assert ddb.get_item(TableName=SESSIONS, Key={"sessionId": {"S": other}})["Item"]["listenerCount"]["N"] == "1"


def test_translation_listener_count_never_negative(ddb, now):
    put_session(ddb, SID, now, listeners=0)
    put_connection(ddb, "x", SID, now, language="es")
    assert ConnectionCleaner(ddb, CONNECTIONS, SESSIONS).remove("x", SID) is True
    session = ddb.get_item(TableName=SESSIONS, Key={"sessionId": {"S": SID}})["Item"]
    assert session["listenerCount"]["N"] == "0"


def test_translation_429_backs_off_with_jitter_then_delivers():
    api = FakeManagementApi(throttle={"a": 2})
    sleeps: list[float] = []
    b = _broadcaster(api, sleeps=sleeps)
    result = b.broadcast(SID, ["a", "b"], [b"{}"])
    b.shutdown()
    assert sorted(result.delivered) == ["a", "b"] and result.retries == 2
    assert sleeps == pytest.approx([0.05, 0.1])  # rng 1.0: the full exponential ceiling
    assert api.attempts["a"] == 3


def test_translation_429_exhausted_counts_failure_others_fine():
    api = FakeManagementApi(throttle={"a": 100})
    b = _broadcaster(api, retries=2)
    result = b.broadcast(SID, ["a", "b"], [b'{"part":1}', b'{"part":2}'])
    b.shutdown()
    assert result.failed == ["a"] and result.delivered == ["b"]
    assert result.failure_codes["LimitExceededException"] == 1
    assert api.attempts["a"] == 3  # stops at the first part it could not deliver
    assert len(api.messages_for("b")) == 2


def test_translation_413_is_counted_never_retried():
    api = FakeManagementApi()
    b = _broadcaster(api)
    result = b.broadcast(SID, ["a"], [b"x" * (40 * 1024)])
    b.shutdown()
    assert result.failed == ["a"] and result.failure_codes["PayloadTooLargeException"] == 1
    assert api.attempts["a"] == 1


def test_translation_real_client_error_codes(boto_session):
    """The real management API client raises the codes this module matches on."""
    client = boto_session.client("apigatewaymanagementapi",
                                 endpoint_url="https://abc123.execute-api.us-east-1.amazonaws.com/dev")
    with Stubber(client) as stubber:
        stubber.add_client_error("post_to_connection", service_error_code="LimitExceededException", http_status_code=429,
                                 expected_params={"ConnectionId": "a", "Data": b"{}"})
        stubber.add_response("post_to_connection", {}, {"ConnectionId": "a", "Data": b"{}"})
        stubber.add_client_error("post_to_connection", service_error_code="GoneException", http_status_code=410,
                                 expected_params={"ConnectionId": "b", "Data": b"{}"})
        b = _broadcaster(client, concurrency=1)
        result = b.broadcast(SID, ["a", "b"], [b"{}"])
        b.shutdown()
        stubber.assert_no_pending_responses()
    assert result.delivered == ["a"] and result.gone == ["b"] and result.retries == 1

"""Posting to connections: Gone is quiet, throttling is retried, nothing raises."""

from __future__ import annotations

import json

import boto3
from audio_transcription.replies import Replier
from botocore.stub import Stubber


def client():
    return boto3.client("apigatewaymanagementapi", region_name="us-east-1",
                        endpoint_url="https://abc123.execute-api.us-east-1.amazonaws.com/live",
                        aws_access_key_id="x", aws_secret_access_key="x")


def test_post_gone_and_throttled():
    c = client()
    sleeps = []
    replier = Replier(c, sleep=sleeps.append)
    with Stubber(c) as stub:
        stub.add_response("post_to_connection", {}, {"ConnectionId": "a=", "Data": b'{"type":"x"}'})
        assert replier.send("a=", {"type": "x"}) is True
        stub.add_client_error("post_to_connection", "GoneException", http_status_code=410)
        assert replier.send("a=", {"type": "x"}) is False
        stub.add_client_error("post_to_connection", "LimitExceededException", http_status_code=429)
        stub.add_response("post_to_connection", {})
        assert replier.send("a=", {"type": "x"}) is True
        assert len(sleeps) == 1
        stub.add_client_error("post_to_connection", "ForbiddenException", http_status_code=403)
        assert replier.send("a=", {"type": "x"}) is False


def test_unexpected_exception_is_swallowed():
    class Broken:
        def post_to_connection(self, **kw):
            raise OSError("network")

    assert Replier(Broken()).send("a=", {"type": "x"}) is False


def test_payload_is_the_compact_envelope():
    sent = []

    class Capture:
        def post_to_connection(self, **kw):
            sent.append(kw)

    Replier(Capture()).send("a=", {"type": "error", "code": "X", "message": "é"})
    assert json.loads(sent[0]["Data"]) == {"type": "error", "code": "X", "message": "é"}
    assert sent[0]["ConnectionId"] == "a="

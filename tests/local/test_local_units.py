"""Pure pieces of the local run: policy evaluation, schedule rates, function references,
TranscriptEvent encoding, the token issuer against the stack's own validator."""

from __future__ import annotations

import pytest
from amazon_transcribe.model import Alternative, Item, Result, Transcript, TranscriptEvent

from local.gateway import new_connection_id, policy_allows
from local.identity import LocalIssuer
from local.lambda_runtime.transcribe_events import decode_event, encode_event
from local.stack import function_name_of, rate_seconds

ARN = "arn:aws:execute-api:us-east-1:123456789012:api/live/$connect"


def _policy(effect: str, resource: str | list[str]) -> dict:
    return {"principalId": "u", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]}}


@pytest.mark.parametrize("decision,allowed", [
    (_policy("Allow", ARN), True),
    (_policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:api/*"), True),
    (_policy("Allow", [ARN]), True),
    (_policy("Deny", ARN), False),
    (_policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:other/live/$connect"), False),
    ({"principalId": "u"}, False),
    (None, False),
])
def test_policy_evaluation(decision, allowed: bool) -> None:
    assert policy_allows(decision, ARN) is allowed


def test_an_explicit_deny_wins_over_an_allow() -> None:
    decision = _policy("Allow", "*")
    decision["policyDocument"]["Statement"].append({"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": ARN})
    assert policy_allows(decision, ARN) is False


@pytest.mark.parametrize("expression,seconds", [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(2 hours)", 7200)])
def test_rates(expression: str, seconds: int) -> None:
    assert rate_seconds(expression) == seconds


def test_cron_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="rate"):
        rate_seconds("cron(0 12 * * ? *)")


@pytest.mark.parametrize("reference", ["fn", "fn:live", "arn:aws:lambda:us-east-1:1:function:fn",
                                       "arn:aws:lambda:us-east-1:1:function:fn:live",
                                       "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                                       "arn:aws:lambda:us-east-1:1:function:fn:live/invocations"])
def test_function_references(reference: str) -> None:
    assert function_name_of(reference) == "fn"


def test_connection_ids_are_url_safe_and_distinct() -> None:
    ids = {new_connection_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 16 and all(c.isalnum() or c in "-_" for c in i) for i in ids)


def test_transcript_events_survive_the_wire() -> None:
    event = TranscriptEvent(Transcript([Result(
        result_id="r1", start_time=0.5, end_time=1.2, is_partial=True, channel_id="ch_0",
        alternatives=[Alternative("hello world", [
            Item(start_time=0.5, end_time=0.8, item_type="pronunciation", content="hello", confidence=0.9, stable=True),
            Item(start_time=0.85, end_time=1.2, item_type="pronunciation", content="world", confidence=0.7, stable=False),
        ], [])])]))
    decoded = decode_event(encode_event(event))
    [result] = decoded.transcript.results
    assert (result.result_id, result.start_time, result.end_time, result.is_partial) == ("r1", 0.5, 1.2, True)
    [alternative] = result.alternatives
    assert alternative.transcript == "hello world"
    assert [(i.content, i.stable, i.start_time, i.confidence) for i in alternative.items] == [
        ("hello", True, 0.5, 0.9), ("world", False, 0.85, 0.7)]


def test_issued_tokens_pass_the_stacks_own_validator() -> None:
    from session_management.authorizer.jwt_validation import CognitoTokenValidator, JwksCache

    issuer = LocalIssuer("http://127.0.0.1:8787/local", "client-1")
    validator = CognitoTokenValidator(issuer.issuer, "client-1", JwksCache(issuer.jwks))
    tokens = issuer.tokens("alice")
    verified = validator.validate(tokens["accessToken"])
    assert verified.token_use == "access" and verified.subject == issuer.subject("alice")
    with pytest.raises(Exception, match="wrong token_use"):
        validator.validate(tokens["idToken"])  # the stack's API takes access tokens only
    other_client = CognitoTokenValidator(issuer.issuer, "client-2", JwksCache(issuer.jwks))
    with pytest.raises(Exception, match="wrong client_id"):
        other_client.validate(tokens["accessToken"])

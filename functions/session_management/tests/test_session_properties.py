"""Property-based tests: malformed bodies, wrong types, oversized fields and unknown actions,
thrown at every message handler. Each answers one structured error to the sender, none raises,
and no stored session or connection changes (rate-limit counters are checked once per route:
validation happens before any counter is touched)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_management.messages import VALID_ACTIONS
from session_management.tests.support import CALLER, SESSION, VALID_MESSAGES, LambdaContext, World, message_event

# Every code a validation failure may produce (docs/protocol.md lists them all).
VALIDATION_CODES = {"INVALID_JSON", "INVALID_MESSAGE", "MESSAGE_TOO_LARGE", "UNKNOWN_ACTION", "MISSING_FIELD",
                    "INVALID_FIELD", "UNKNOWN_FIELD", "UNSUPPORTED_LANGUAGE", "ACTION_UNAVAILABLE"}

ROUTES = [*VALID_MESSAGES, "$default"]

wrong_types = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.lists(st.integers(), max_size=3),
                        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=12)


def bodies(route: str) -> st.SearchStrategy[Any]:
    """Bodies that must be refused by ``route``'s handler."""
    base = VALID_MESSAGES.get(route, {"action": "dance"})
    fields = [name for name in base if name != "action"]
    strategies = [
        st.text(max_size=300).filter(lambda s: not _is_json_object(s)),  # not JSON, or JSON but not an object
        json_values.filter(lambda v: not isinstance(v, dict)).map(json.dumps),
        st.builds(lambda extra: json.dumps({**base, **extra}),
                  st.dictionaries(st.text(min_size=1, max_size=12).filter(lambda k: k not in (*base, "requestId")),
                                  json_values, min_size=1, max_size=3)),  # unknown fields
        st.builds(lambda a: json.dumps({**base, "action": a}), st.text(max_size=40).filter(lambda a: a not in VALID_ACTIONS)),
        st.builds(lambda a: json.dumps({**base, "action": a}), wrong_types),
        st.builds(lambda r: json.dumps({**base, "requestId": r}),
                  st.one_of(wrong_types, st.text(min_size=65, max_size=80), st.just(""), st.just("bad id!"))),
        st.builds(lambda: json.dumps({k: v for k, v in base.items() if k != "action"})),  # no action
        st.builds(lambda n: json.dumps({**base, "padding": "x" * n}), st.integers(8200, 20000)),  # oversized message
        # (every field's own limit is at most 128 characters: longer strings are invalid whatever the field)
    ]
    if route != "$default":
        others = [a for a in VALID_ACTIONS if a not in _accepted(route)]
        strategies.append(st.sampled_from(others).map(lambda a: json.dumps({**VALID_MESSAGES.get(a, {}), "action": a})))
    if fields:
        strategies += [
            st.tuples(st.sampled_from(fields), wrong_types).map(lambda fv: json.dumps({**base, fv[0]: fv[1]})),
            st.tuples(st.sampled_from(fields), st.integers(129, 4000)).map(lambda fn: json.dumps({**base, fn[0]: "q" * fn[1]})),
            st.tuples(st.sampled_from(fields), st.sampled_from(["", "   ", "bad value!", "é", "golden eagle 0000"])).map(
                lambda fv: json.dumps({**base, fv[0]: fv[1]})),
        ]
        required = [name for name in fields if name in ("sourceLanguage", "command") or
                    (name == "sessionId" and route in ("joinSession", "refreshConnection", "speakerControl")) or
                    (name == "targetLanguage" and route in ("joinSession", "listenerControl"))]
        if required:
            strategies.append(st.sampled_from(required).map(lambda name: json.dumps({k: v for k, v in base.items() if k != name})))
    return st.one_of(*strategies)


def _accepted(route: str) -> tuple[str, ...]:
    return ("listenerControl", "leaveSession") if route in ("listenerControl", "leaveSession") else (route,)


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError):
        return False


@pytest.mark.parametrize("route", ROUTES)
def test_malformed_messages_get_a_structured_error_and_change_nothing(world: World, route: str) -> None:
    speaker = world.speaker()
    session_id = world.create_session(speaker)
    listener = world.listener("lst-1")
    world.join(listener, session_id)
    caller = CALLER.get(route, listener)
    before = world.snapshot()
    counters = world.snapshot(rate_limits=True)["rateLimits"]
    handler = world.handler(route)

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                     HealthCheck.too_slow])
    @given(body=bodies(route))
    def check(body: str) -> None:
        body = body.replace(SESSION, session_id)
        posted = len(world.api.posts)
        response = handler(message_event(caller, route, body), LambdaContext())
        assert 400 <= response["statusCode"] < 600
        new = world.api.posts[posted:]
        assert len(new) == 1, new
        target, envelope = new[0]
        assert target == caller
        assert envelope["type"] == "error" and envelope["code"] in VALIDATION_CODES, envelope
        assert isinstance(envelope["message"], str) and envelope["message"]
        assert world.snapshot() == before

    check()
    assert world.snapshot(rate_limits=True)["rateLimits"] == counters


def test_binary_frames_and_empty_bodies_are_refused(world: World) -> None:
    listener = world.listener("lst-1")
    before = world.snapshot()
    for route in ROUTES:
        handler = world.handler(route)
        for event in (message_event(listener, route, "AAEC", is_base64=True), message_event(listener, route, None),
                      message_event(listener, route, "")):
            assert handler(event, LambdaContext())["statusCode"] == 400
            assert world.api.last(listener)["code"] == "INVALID_MESSAGE"
    assert world.snapshot() == before


def test_events_that_are_not_websocket_events_do_not_raise(world: World) -> None:
    for route in ROUTES:
        assert world.handler(route)({"foo": "bar"}, LambdaContext())["statusCode"] == 400
        assert world.handler(route)({"requestContext": {}}, LambdaContext())["statusCode"] == 400
    assert world.api.posts == []

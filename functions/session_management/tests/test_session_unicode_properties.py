"""Arbitrary unicode, lone surrogates included, in field names *and* values, thrown at every
message handler (>= 1,000 examples each). Every example must get exactly one reply and no
handler may raise or fall into its INTERNAL_ERROR path; an example that is refused must leave
every stored session and connection as it was.

Each test prints one row ``FUZZ|<handler>|<examples>|<unhandled>|<state changed>``;
``python3 bench/unicode_fuzz_table.py`` runs them and prints the table.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from common.tests.unicode_strategies import any_text, any_value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_management.tests.support import CALLER, SESSION, VALID_MESSAGES, LambdaContext, World, message_event

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000"))
VALID = {**VALID_MESSAGES, "$default": {"action": "dance"}}


def unicode_bodies(route: str) -> st.SearchStrategy[str]:
    """A valid message of ``route`` with arbitrary keys added and/or its values replaced by arbitrary
    unicode, as JSON text with \\u escapes (what a client sends) or as a raw str holding the surrogates."""
    base = VALID[route]
    fields = [name for name in base if name != "action"] + ["requestId", "action"]
    extra_keys = st.dictionaries(any_text.filter(lambda k: k not in base), any_value, max_size=3)
    replaced = st.dictionaries(st.sampled_from(fields), any_text, max_size=len(fields))
    doc = st.builds(lambda extra, values: {**base, **values, **extra}, extra_keys, replaced).filter(
        lambda d: d != base)
    return st.tuples(doc, st.booleans()).map(lambda pair: json.dumps(pair[0], ensure_ascii=pair[1]))


@pytest.mark.parametrize("route", list(VALID))
def test_arbitrary_unicode_never_crashes_a_handler(world: World, route: str) -> None:
    speaker = world.speaker()
    session_id = world.create_session(speaker)
    listener = world.listener("lst-1")
    world.join(listener, session_id)
    caller = CALLER.get(route, listener)
    state = {"before": world.snapshot()}
    handler = world.handler(route)
    tally = {"examples": 0, "unhandled": 0, "state_changed": 0, "refused": 0}
    failures: list[str] = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.filter_too_much])
    @given(body=unicode_bodies(route))
    def check(body: str) -> None:
        body = body.replace(SESSION, session_id)
        tally["examples"] += 1
        posted = len(world.api.posts)
        try:
            response = handler(message_event(caller, route, body), LambdaContext())
        except Exception as error:  # noqa: BLE001 - counted: this is what the test looks for
            tally["unhandled"] += 1
            failures.append(f"{type(error).__name__}: {body!r}"[:300])
            return
        # Replies to the caller (an accepted command may also notify the session's other members).
        new = [post for post in world.api.posts[posted:] if post[0] == caller]
        if len(new) != 1 or response.get("statusCode") == 500 or new[0][1].get("code") == "INTERNAL_ERROR":
            tally["unhandled"] += 1
            failures.append(f"{response} {new!r}: {body!r}"[:300])
            return
        if new[0][1]["type"] == "error":
            tally["refused"] += 1
            after = world.snapshot()
            if after != state["before"]:
                tally["state_changed"] += 1
                failures.append(f"state changed: {body!r}"[:300])
                # Put the world back so one failure does not count against every later example.
                world_restore(world, state["before"])
        else:
            # Accepted after all (arbitrary text happened to be valid): its change is legitimate.
            state["before"] = world.snapshot()

    check()
    print(f"\nFUZZ|{route}|{tally['examples']}|{tally['unhandled']}|{tally['state_changed']}")
    assert tally["examples"] >= EXAMPLES
    assert tally["unhandled"] == 0 and tally["state_changed"] == 0, failures[:5]


def world_restore(world: World, snapshot: dict[str, Any]) -> None:
    """Rewrite every Sessions and Connections row as in ``snapshot``."""
    for table, rows in ((world.sessions, snapshot["sessions"]), (world.connections, snapshot["connections"])):
        for row in rows:
            table.put_item(Item=row)


def test_lone_surrogate_field_name_is_refused_with_a_readable_error(world: World) -> None:
    """The review's case: plain-ASCII JSON naming a lone surrogate field crashed every route."""
    listener = world.listener("lst-1")
    bodies = {"heartbeat": '{"action":"heartbeat","\\ud800":1}',
              "getSessionStatus": '{"action":"getSessionStatus","\\ud800":1}',
              "listenerControl": '{"action":"listenerControl","command":"leave","\\ud800":1}',
              "$default": '{"action":"heartbeat","\\ud800":1}'}
    for route, body in bodies.items():
        response = world.handler(route)(message_event(listener, route, body), LambdaContext())
        assert response["statusCode"] in (400, 503)
        reply = world.api.last(listener)
        assert reply["type"] == "error"
        if route != "$default":
            assert reply["code"] == "UNKNOWN_FIELD" and reply["field"] == "\ufffd"


def test_duplicate_keys_at_default_are_a_client_error(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """API Gateway routed on one 'action', json.loads reads the other: a malformed frame, the client's fault."""
    from common.observability import logger, metrics

    listener = world.listener("lst-1")
    counted: list[str] = []
    errors: list[str] = []
    monkeypatch.setattr(metrics, "add_metric", lambda name, **kw: counted.append(name))
    monkeypatch.setattr(logger, "error", lambda *a, **kw: errors.append(str(a)))
    monkeypatch.setattr(logger, "exception", lambda *a, **kw: errors.append(str(a)))
    body = '{"action":"dance","action":"heartbeat"}'
    response = world.handler("$default")(message_event(listener, "$default", body), LambdaContext())
    assert response["statusCode"] == 400
    reply = world.api.last(listener)
    assert reply["code"] == "DUPLICATE_FIELD" and reply["field"] == "action"
    assert "ErrorCount" not in counted and "ClientErrors" in counted
    assert errors == []
    # The message routes refuse it the same way.
    world.handler("heartbeat")(message_event(listener, "heartbeat", '{"action":"heartbeat","action":"heartbeat"}'),
                               LambdaContext())
    assert world.api.last(listener)["code"] == "DUPLICATE_FIELD"

"""Faults injected between the two writes of join, leave and $disconnect, and a RateLimits
outage: afterwards no listener slot has leaked and every count is exact. Each test prints
``FAULT|<name>|survived`` when it gets to its end (bench/hardening_report.py totals them)."""

from __future__ import annotations

from typing import Any

import pytest

from session_management import clients
from session_management.scheduled.sweep import RECOUNT_QUIET_SECONDS
from session_management.tests.faults import FaultyDynamoDB, decrements, joins_row
from session_management.tests.support import BASE_ENV, World

SESSIONS = BASE_ENV["SESSIONS_TABLE"]
CONNECTIONS = BASE_ENV["CONNECTIONS_TABLE"]


@pytest.fixture
def faulty(world: World, aws_backend: Any) -> FaultyDynamoDB:
    """The handlers' DynamoDB, with faults to inject (the test's own reads stay direct)."""
    resource = FaultyDynamoDB(aws_backend)
    clients.override(dynamodb_resource=resource)
    return resource


def members(world: World, session_id: str) -> int:
    return sum(1 for row in world.snapshot()["connections"] if row.get("sessionId") == session_id and row["role"] == "listener")


def assert_exact(world: World, session_id: str) -> None:
    assert world.session_row(session_id)["listenerCount"] == members(world, session_id)


def survived(name: str) -> None:
    print(f"\nFAULT|{name}|survived")


def session_with_listener(world: World, join: bool = True) -> tuple[str, str]:
    """A speaker's session and listener ``lst-1``, joined to it unless ``join`` is false."""
    world.speaker()
    session_id = world.create_session()
    listener = world.listener("lst-1")
    if join:
        world.join(listener, session_id)
    return session_id, listener


def sweep_after(world: World, seconds: float) -> None:
    """``seconds`` later, with the speaker still heartbeating, the scheduled sweep runs."""
    world.now += seconds
    world.send("spk-1", {"action": "heartbeat"})
    world.sweep()


def test_fault_on_attach_after_the_count_went_up_gives_the_slot_back(world: World, faulty: FaultyDynamoDB) -> None:
    session_id, listener = session_with_listener(world, join=False)
    faulty.fail(CONNECTIONS, "update_item", joins_row)
    assert world.join(listener, session_id)["code"] == "INTERNAL_ERROR"
    assert world.session_row(session_id)["listenerCount"] == 0
    assert world.join(listener, session_id)["type"] == "sessionJoined"  # the retry works
    assert_exact(world, session_id)
    survived("join: attach fails after the count went up")


def test_fault_on_the_leave_decrement_rolls_the_leave_back(world: World, faulty: FaultyDynamoDB) -> None:
    session_id, listener = session_with_listener(world)
    faulty.fail(SESSIONS, "update_item", decrements)
    world.send(listener, {"action": "leaveSession", "sessionId": session_id})
    assert world.api.last(listener)["code"] == "INTERNAL_ERROR"
    assert world.connection_row(listener)["sessionId"] == session_id
    assert_exact(world, session_id)
    world.send(listener, {"action": "leaveSession", "sessionId": session_id})
    assert world.api.last(listener)["type"] == "sessionLeft"
    assert world.session_row(session_id)["listenerCount"] == 0
    assert_exact(world, session_id)
    survived("leave: decrement fails after the row left")


def test_fault_on_the_disconnect_decrement_restores_the_row_for_the_sweep(world: World, faulty: FaultyDynamoDB) -> None:
    session_id, listener = session_with_listener(world)
    faulty.fail(SESSIONS, "update_item", decrements)
    assert world.disconnect(listener)["statusCode"] == 500
    assert world.connection_row(listener)["sessionId"] == session_id  # rolled back
    assert_exact(world, session_id)
    sweep_after(world, 301)  # the closed connection no longer heartbeats: the sweep removes it
    assert world.connection_row(listener) is None
    assert world.session_row(session_id)["listenerCount"] == 0
    survived("$disconnect: decrement fails after the row was deleted")


def test_double_faults_are_repaired_by_the_sweep_recount(world: World, faulty: FaultyDynamoDB) -> None:
    """Five disconnects whose decrement and rollback both fail would leave a 5-slot session with no
    members answering SESSION_FULL; the sweep recounts it from the listeners index."""
    world.speaker()
    session_id = world.create_session()
    listeners = [world.listener(f"lst-{n}") for n in range(5)]
    for listener in listeners:
        world.join(listener, session_id)
    faulty.fail(SESSIONS, "update_item", decrements, times=5)
    faulty.fail(CONNECTIONS, "put_item", times=5)  # the rollbacks
    for listener in listeners:
        assert world.disconnect(listener)["statusCode"] == 500
    assert members(world, session_id) == 0 and world.session_row(session_id)["listenerCount"] == 5  # leaked
    late = world.listener("lst-late")
    assert world.join(late, session_id)["code"] == "SESSION_FULL"
    sweep_after(world, 0)  # too soon after the last membership change: not recounted yet
    assert world.session_row(session_id)["listenerCount"] == 5
    sweep_after(world, RECOUNT_QUIET_SECONDS + 1)
    assert world.session_row(session_id)["listenerCount"] == 0
    for n in range(5):
        assert world.join(world.listener(f"new-{n}"), session_id)["type"] == "sessionJoined"
    assert_exact(world, session_id)
    survived("$disconnect x5: decrement and rollback both fail (sweep recount)")


def test_join_fault_with_a_failed_give_back_is_repaired_by_the_sweep(world: World, faulty: FaultyDynamoDB) -> None:
    session_id, listener = session_with_listener(world, join=False)
    faulty.fail(CONNECTIONS, "update_item", joins_row)
    faulty.fail(SESSIONS, "update_item", decrements)
    assert world.join(listener, session_id)["code"] == "INTERNAL_ERROR"
    assert world.session_row(session_id)["listenerCount"] == 1 and members(world, session_id) == 0
    sweep_after(world, RECOUNT_QUIET_SECONDS + 1)
    assert_exact(world, session_id)
    survived("join: attach and give-back both fail (sweep recount)")


def test_recount_never_overwrites_a_membership_change_it_raced(world: World) -> None:
    """The conditional recount: a join between the sweep's read and its write wins."""
    from session_management.deps import build_deps

    world.speaker()
    session_id = world.create_session()
    world.join(world.listener("lst-1"), session_id)
    deps = build_deps()
    observed = deps.sessions.get(session_id, world.now)
    world.join(world.listener("lst-2"), session_id)  # a change after the observation
    assert not deps.sessions.recount(session_id, 1, observed, world.now)
    assert world.session_row(session_id)["listenerCount"] == 2


def test_one_dynamodb_call_cannot_outlive_the_handler_timeout() -> None:
    """Connect and read timeouts times SDK attempts, plus backoff, inside the 10 s handler timeout."""
    for config in (clients._DYNAMODB_CONFIG, clients._MANAGEMENT_CONFIG):
        attempts = config.retries.get("total_max_attempts") or (config.retries.get("max_attempts", 0) + 1)
        worst = attempts * (config.connect_timeout + config.read_timeout) + (attempts - 1)
        assert worst <= clients.MAX_CALL_SECONDS < 10

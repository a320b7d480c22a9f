"""Integration tests: the handlers driven with API Gateway WebSocket events against moto."""

from __future__ import annotations

import re

import pytest

from session_management.records import Session
from session_management.tests.support import START, World


def test_speaker_creates_session(world: World) -> None:
    speaker = world.speaker()
    session_id = world.create_session(speaker, "en-us")
    assert re.fullmatch(r"[a-z]{3,9}-[a-z]{3,9}-\d{4}", session_id)
    reply = world.api.last(speaker)
    assert reply["sourceLanguage"] == "en-US" and reply["connectionId"] == speaker and reply["maxListeners"] == 5
    row = world.session_row(session_id)
    assert row["speakerConnectionId"] == speaker and row["speakerUserId"] == "user-speaker-1"
    assert row["status"] == "active" and row["paused"] is False and row["muted"] is False and row["listenerCount"] == 0
    assert row["expiresAt"] == START + 2 * 3600 + 12 * 3600
    assert world.connection_row(speaker)["sessionId"] == session_id
    assert "targetLanguage" not in world.connection_row(speaker)


def test_join_up_to_capacity_and_one_past(world: World) -> None:
    world.speaker()
    session_id = world.create_session()
    for n in range(5):
        listener = world.listener(f"lst-{n}")
        reply = world.join(listener, session_id, "es" if n % 2 else "fr")
        assert reply["type"] == "sessionJoined" and reply["listenerCount"] == n + 1
    sixth = world.listener("lst-5")
    reply = world.join(sixth, session_id)
    assert reply["type"] == "error" and reply["code"] == "SESSION_FULL" and reply["maxListeners"] == 5
    assert world.session_row(session_id)["listenerCount"] == 5
    assert "sessionId" not in world.connection_row(sixth)


def test_listener_cannot_create_and_speaker_cannot_join(world: World) -> None:
    speaker = world.speaker()
    listener = world.listener("lst-1")
    world.send(listener, {"action": "createSession", "sourceLanguage": "en-US"})
    assert world.api.last(listener)["code"] == "FORBIDDEN_ROLE"
    session_id = world.create_session(speaker)
    reply = world.join(speaker, session_id)
    assert reply["code"] == "FORBIDDEN_ROLE"


def test_create_twice_is_refused_until_the_session_ends(world: World) -> None:
    speaker = world.speaker()
    first = world.create_session(speaker)
    world.send(speaker, {"action": "createSession", "sourceLanguage": "de-DE", "requestId": "r-2"})
    reply = world.api.last(speaker)
    assert reply["code"] == "ALREADY_IN_SESSION" and reply["sessionId"] == first and reply["requestId"] == "r-2"
    world.send(speaker, {"action": "speakerControl", "sessionId": first, "command": "end"})
    second = world.create_session(speaker, "de-DE")
    assert second != first and world.connection_row(speaker)["sessionId"] == second


def test_unsupported_source_language(world: World) -> None:
    speaker = world.speaker()
    world.send(speaker, {"action": "createSession", "sourceLanguage": "xx-YY"})
    reply = world.api.last(speaker)
    assert reply["code"] == "UNSUPPORTED_LANGUAGE" and "en-US" in reply["supported"]
    assert world.snapshot()["sessions"] == []


def test_session_creation_is_rate_limited_per_user(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_SESSIONS_PER_HOUR", "2")
    from session_management.settings import get_settings
    get_settings.cache_clear()
    speaker = world.speaker()
    for _ in range(2):
        session_id = world.create_session(speaker)
        world.send(speaker, {"action": "speakerControl", "sessionId": session_id, "command": "end"})
    other = world.speaker("spk-2")  # same user on another connection: same budget
    world.send(other, {"action": "createSession", "sourceLanguage": "en-US"})
    reply = world.api.last(other)
    assert reply["code"] == "RATE_LIMITED" and reply["limit"] == "createSession" and reply["retryAfterSeconds"] > 0
    world.speaker("spk-3", user_id="user-speaker-2")
    assert world.create_session("spk-3")


def test_join_errors(world: World) -> None:
    listener = world.listener("lst-1")
    reply = world.join(listener, "golden-eagle-0000")
    assert reply["type"] == "error" and reply["code"] in ("SESSION_NOT_FOUND", "INVALID_FIELD")
    world.speaker()
    session_id = world.create_session()
    assert world.join(listener, session_id, "klingon")["code"] == "UNSUPPORTED_LANGUAGE"
    assert world.join(listener, "not a session")["code"] == "INVALID_FIELD"
    assert world.join(listener, session_id, "ES")["type"] == "sessionJoined"
    assert world.join(listener, session_id, "fr")["code"] == "ALREADY_IN_SESSION"
    world.send("spk-1", {"action": "speakerControl", "sessionId": session_id, "command": "end"})
    other = world.listener("lst-2")
    assert world.join(other, session_id)["code"] == "SESSION_ENDED"


def test_unknown_session_id_is_not_found(world: World) -> None:
    listener = world.listener("lst-1")
    assert world.join(listener, "abacus-abdomen-1234")["code"] == "SESSION_NOT_FOUND"


def test_joins_are_rate_limited_per_source_ip(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LISTENER_JOINS_PER_MINUTE", "2")
    from session_management.settings import get_settings
    get_settings.cache_clear()
    world.speaker()
    session_id = world.create_session()
    for n in range(2):
        assert world.join(world.listener(f"lst-{n}"), session_id, source_ip="203.0.113.9")["type"] == "sessionJoined"
    third = world.listener("lst-x")
    reply = world.join(third, session_id, source_ip="203.0.113.9")
    assert reply["code"] == "RATE_LIMITED" and reply["limit"] == "listenerJoin"
    assert world.join(third, session_id, source_ip="203.0.113.10")["type"] == "sessionJoined"
    world.now += 60
    assert world.join(world.listener("lst-y"), session_id, source_ip="203.0.113.9")["type"] == "sessionJoined"


def test_leave_and_listener_control(world: World) -> None:
    world.speaker()
    session_id = world.create_session()
    a, b = world.listener("lst-a"), world.listener("lst-b")
    world.join(a, session_id, "es")
    world.join(b, session_id, "fr")
    world.send(a, {"action": "listenerControl", "command": "switchLanguage", "targetLanguage": "de"})
    reply = world.api.last(a)
    assert reply == {"type": "languageSwitched", "sessionId": session_id, "targetLanguage": "de", "previousLanguage": "es"}
    assert world.connection_row(a)["targetLanguage"] == "de"
    world.send(a, {"action": "listenerControl", "command": "switchLanguage"})
    assert world.api.last(a)["code"] == "MISSING_FIELD"
    world.send(a, {"action": "leaveSession", "sessionId": session_id})
    assert world.api.last(a) == {"type": "sessionLeft", "sessionId": session_id}
    assert world.session_row(session_id)["listenerCount"] == 1
    assert "sessionId" not in world.connection_row(a) and "targetLanguage" not in world.connection_row(a)
    world.send(a, {"action": "leaveSession"})
    assert world.api.last(a)["code"] == "NOT_IN_SESSION"
    world.send(b, {"action": "listenerControl", "command": "leave"})
    assert world.api.last(b)["type"] == "sessionLeft"
    assert world.session_row(session_id)["listenerCount"] == 0
    assert world.join(a, session_id, "it")["listenerCount"] == 1


def test_speaker_controls_are_persisted_and_announced(world: World) -> None:
    speaker = world.speaker()
    session_id = world.create_session(speaker)
    listeners = [world.listener(f"lst-{n}") for n in range(3)]
    for listener in listeners:
        world.join(listener, session_id)
    for command, attribute, value, event in (("pause", "paused", True, "paused"), ("mute", "muted", True, "muted"),
                                             ("resume", "paused", False, "resumed"), ("unmute", "muted", False, "unmuted")):
        world.send(speaker, {"action": "speakerControl", "sessionId": session_id, "command": command})
        reply = world.api.last(speaker)
        assert reply["type"] == "controlApplied" and reply["command"] == command and reply[attribute] is value and reply["changed"]
        assert world.session_row(session_id)[attribute] is value
        for listener in listeners:
            update = world.api.last(listener)
            assert update["type"] == "sessionUpdate" and update["event"] == event and update[attribute] is value
    posts = len(world.api.posts)
    world.send(speaker, {"action": "speakerControl", "sessionId": session_id, "command": "resume"})
    assert world.api.last(speaker)["changed"] is False and len(world.api.posts) == posts + 1  # no-op: nobody else told
    world.send(speaker, {"action": "speakerControl", "sessionId": session_id, "command": "pause"})
    paused = Session.from_item(world.session_row(session_id))
    assert not paused.broadcast_allowed() and not paused.accepts_audio_from(speaker)
    world.send(speaker, {"action": "speakerControl", "sessionId": session_id, "command": "end"})
    assert world.api.last(speaker)["status"] == "ended"
    row = world.session_row(session_id)
    assert row["status"] == "ended" and row["endReason"] == "speakerEnded" and row["endedAt"] == world.now
    for listener in listeners:
        assert world.api.last(listener) == {"type": "sessionEnded", "sessionId": session_id, "reason": "speakerEnded",
                                            "endedAt": world.now}
    world.send(speaker, {"action": "speakerControl", "sessionId": session_id, "command": "resume"})
    assert world.api.last(speaker)["code"] == "SESSION_ENDED"


def test_pause_and_mute_record_where_the_audio_stopped(world: World) -> None:
    """pause/mute store the audio position (``audioSamples``) they began at; resume/unmute remove it."""
    speaker = world.speaker()
    session_id = world.create_session(speaker)

    def control(command: str) -> dict:
        world.send(speaker, {"action": "speakerControl", "sessionId": session_id, "command": command})
        return world.session_row(session_id)

    def accepted(samples: int) -> None:  # what sendAudio's admission keeps on the row
        world.sessions.update_item(Key={"sessionId": session_id}, UpdateExpression="SET audioSamples = :n",
                                   ExpressionAttributeValues={":n": samples})

    row = control("pause")  # no audio accepted yet: the position is 0
    assert row["paused"] is True and row["pausedAtSample"] == 0
    assert "pausedAtSample" not in control("resume")
    accepted(48_000)
    assert control("pause")["pausedAtSample"] == 48_000
    row = control("mute")
    assert row["mutedAtSample"] == 48_000 and row["pausedAtSample"] == 48_000
    row = control("resume")  # still muted: the mute's position stays
    assert row["paused"] is False and "pausedAtSample" not in row and row["mutedAtSample"] == 48_000
    row = control("unmute")
    assert row["muted"] is False and "mutedAtSample" not in row and "pausedAtSample" not in row
    accepted(64_000)
    assert control("mute")["mutedAtSample"] == 64_000
    assert world.api.last(speaker)["changed"] is True
    row = control("mute")  # repeated: nothing admitted meanwhile, the same position
    assert world.api.last(speaker)["changed"] is False and row["mutedAtSample"] == 64_000
    assert "pausedAtSample" not in row


def test_only_the_sessions_own_speaker_connection_controls_it(world: World) -> None:
    owner = world.speaker("spk-1", "user-1")
    session_id = world.create_session(owner)
    intruder = world.speaker("spk-2", "user-2")
    same_user_elsewhere = world.speaker("spk-3", "user-1")
    listener = world.listener("lst-1", user_id="user-1")
    world.join(listener, session_id)
    for connection in (intruder, same_user_elsewhere):
        world.send(connection, {"action": "speakerControl", "sessionId": session_id, "command": "end"})
        assert world.api.last(connection)["code"] == "NOT_SESSION_SPEAKER"
    world.send(listener, {"action": "speakerControl", "sessionId": session_id, "command": "pause"})
    assert world.api.last(listener)["code"] == "FORBIDDEN_ROLE"
    session = Session.from_item(world.session_row(session_id))
    assert session.active and not session.paused
    assert session.accepts_audio_from(owner) and not session.accepts_audio_from(intruder)
    assert not session.accepts_audio_from(same_user_elsewhere)


def test_session_status(world: World) -> None:
    speaker = world.speaker()
    session_id = world.create_session(speaker)
    for n, language in enumerate(("es", "es", "fr")):
        world.join(world.listener(f"lst-{n}"), session_id, language)
    world.send(speaker, {"action": "getSessionStatus", "requestId": "s1"})
    status = world.api.last(speaker)
    assert status["type"] == "sessionStatus" and status["requestId"] == "s1"
    assert status["listenerCount"] == 3 and status["languages"] == {"es": 2, "fr": 1}
    assert status["status"] == "active" and status["speakerConnected"] is True and status["endsAt"] == START + 7200
    world.send("lst-0", {"action": "getSessionStatus", "sessionId": session_id})
    assert world.api.last("lst-0")["languages"] == {"es": 2, "fr": 1}
    outsider = world.listener("lst-out")
    world.send(outsider, {"action": "getSessionStatus", "sessionId": session_id})
    assert world.api.last(outsider)["code"] == "NOT_IN_SESSION"


def test_heartbeat_ack_refresh_notice_warning_and_rate_limit(world: World) -> None:
    listener = world.listener("lst-1")
    world.now += 30
    world.send(listener, {"action": "heartbeat", "requestId": "hb-1"})
    ack = world.api.last(listener)
    assert ack["type"] == "heartbeatAck" and ack["requestId"] == "hb-1" and ack["connectionId"] == listener
    assert ack["refreshAt"] == START + 100 * 60 and ack["disconnectAt"] == START + 7200
    assert world.connection_row(listener)["lastHeartbeatAt"] == world.now
    world.send(listener, {"action": "heartbeat"})
    world.send(listener, {"action": "heartbeat"})
    limited = world.api.last(listener)
    assert limited["code"] == "RATE_LIMITED" and limited["limit"] == "heartbeat"
    world.now = START + 100 * 60
    world.send(listener, {"action": "heartbeat"})
    assert world.api.types(listener)[-2:] == ["heartbeatAck", "refreshRequired"]
    world.now = START + 106 * 60
    world.send(listener, {"action": "heartbeat"})
    assert world.api.types(listener)[-3:] == ["heartbeatAck", "refreshRequired", "connectionExpiring"]
    assert world.api.last(listener)["secondsLeft"] == 7200 - 106 * 60


def test_speaker_refresh_takes_over_the_session(world: World) -> None:
    old = world.speaker("spk-old", "user-1")
    session_id = world.create_session(old)
    token = world.api.last(old)["refreshToken"]
    listener = world.listener("lst-1")
    world.join(listener, session_id)
    world.now += 100 * 60
    new = world.speaker("spk-new", "user-1")
    world.send(new, {"action": "refreshConnection", "sessionId": session_id})
    assert world.api.last(new)["code"] == "MISSING_FIELD"  # the token is the proof
    world.send(new, {"action": "refreshConnection", "sessionId": session_id, "refreshToken": "x" * 43})
    assert world.api.last(new)["code"] == "INVALID_REFRESH_TOKEN"
    assert world.session_row(session_id)["speakerConnectionId"] == old
    world.send(new, {"action": "refreshConnection", "sessionId": session_id, "refreshToken": token})
    reply = world.api.last(new)
    assert reply["type"] == "connectionRefreshed" and reply["role"] == "speaker" and reply["connectionId"] == new
    assert reply["refreshToken"] != token
    assert world.session_row(session_id)["speakerConnectionId"] == new
    assert world.connection_row(new)["sessionId"] == session_id and "sessionId" not in world.connection_row(old)
    assert world.api.last(old)["type"] == "connectionReplaced"
    world.send(old, {"action": "speakerControl", "sessionId": session_id, "command": "pause"})
    assert world.api.last(old)["code"] == "NOT_SESSION_SPEAKER"
    world.disconnect(old)
    row = world.session_row(session_id)
    assert "speakerDisconnectedAt" not in row and row["status"] == "active"
    thief = world.speaker("spk-thief", "user-2")
    world.send(thief, {"action": "refreshConnection", "sessionId": session_id, "refreshToken": reply["refreshToken"]})
    assert world.api.last(thief)["code"] == "NOT_SESSION_SPEAKER"
    assert world.session_row(session_id)["speakerConnectionId"] == new
    again = world.speaker("spk-again", "user-1")
    world.send(again, {"action": "refreshConnection", "sessionId": session_id, "refreshToken": token})  # used up
    assert world.api.last(again)["code"] == "INVALID_REFRESH_TOKEN"


def test_listener_refresh_moves_membership_without_counting_twice(world: World) -> None:
    world.speaker()
    session_id = world.create_session()
    old = world.listener("lst-old")
    token = world.join(old, session_id, "fr")["refreshToken"]
    new = world.listener("lst-new")
    world.send(new, {"action": "refreshConnection", "sessionId": session_id, "previousConnectionId": old,
                     "refreshToken": token})
    reply = world.api.last(new)
    assert reply["type"] == "connectionRefreshed" and reply["targetLanguage"] == "fr" and reply["listenerCount"] == 1
    assert world.session_row(session_id)["listenerCount"] == 1
    assert world.connection_row(old) is None and world.connection_row(new)["targetLanguage"] == "fr"
    assert world.api.last(old)["type"] == "connectionReplaced"
    world.disconnect(old)  # its row is gone: nothing to undo
    assert world.session_row(session_id)["listenerCount"] == 1
    world.send(new, {"action": "refreshConnection", "sessionId": session_id})  # retried refresh: idempotent
    assert world.session_row(session_id)["listenerCount"] == 1


def test_listener_refresh_after_the_old_connection_dropped(world: World) -> None:
    world.speaker()
    session_id = world.create_session()
    old = world.listener("lst-old")
    world.join(old, session_id, "fr")
    token = world.api.last(old)["refreshToken"]
    world.disconnect(old)
    assert world.session_row(session_id)["listenerCount"] == 0
    new = world.listener("lst-new")
    world.send(new, {"action": "refreshConnection", "sessionId": session_id, "previousConnectionId": old,
                     "refreshToken": token})
    assert world.api.last(new)["code"] == "MISSING_FIELD"
    world.send(new, {"action": "refreshConnection", "sessionId": session_id, "previousConnectionId": old,
                     "refreshToken": token, "targetLanguage": "fr"})
    assert world.api.last(new)["type"] == "connectionRefreshed"
    assert world.session_row(session_id)["listenerCount"] == 1


def test_listener_refresh_cannot_steal_another_users_membership(world: World) -> None:
    world.speaker()
    session_id = world.create_session()
    victim = world.listener("lst-victim", user_id="user-v")
    world.join(victim, session_id)
    attacker = world.listener("lst-attacker", user_id="user-a")
    world.send(attacker, {"action": "refreshConnection", "sessionId": session_id, "previousConnectionId": victim,
                          "refreshToken": "A" * 43})
    assert world.api.last(attacker)["code"] == "FORBIDDEN"
    assert world.connection_row(victim)["sessionId"] == session_id


def test_anonymous_listener_cannot_be_taken_over_by_its_connection_id(world: World) -> None:
    """The review's attack: the victim's connection id (from an access log) is not proof."""
    world.speaker()
    session_id = world.create_session()
    victim = world.listener("lst-victim")
    token = world.join(victim, session_id, "fr")["refreshToken"]
    assert world.connection_row(victim)["refreshTokenDigest"] != token  # stored hashed only
    attacker = world.listener("lst-attacker")
    for extra in ({}, {"refreshToken": "A" * 43}, {"refreshToken": token[:-1] + ("A" if token[-1] != "A" else "B")}):
        world.send(attacker, {"action": "refreshConnection", "sessionId": session_id, "previousConnectionId": victim,
                              "targetLanguage": "es", **extra})
        assert world.api.last(attacker)["code"] in ("MISSING_FIELD", "INVALID_REFRESH_TOKEN")
    assert world.connection_row(victim)["sessionId"] == session_id
    assert "connectionReplaced" not in world.api.types(victim)
    assert world.session_row(session_id)["listenerCount"] == 1
    # The victim's own new connection, holding the token, moves over (and the token rotates).
    mine = world.listener("lst-victim-2")
    world.send(mine, {"action": "refreshConnection", "sessionId": session_id, "previousConnectionId": victim,
                      "refreshToken": token})
    reply = world.api.last(mine)
    assert reply["type"] == "connectionRefreshed" and reply["refreshToken"] != token
    assert world.api.last(victim)["type"] == "connectionReplaced"
    assert world.session_row(session_id)["listenerCount"] == 1


def test_disconnect_cleans_up_and_never_goes_below_zero(world: World) -> None:
    world.speaker()
    session_id = world.create_session()
    listener = world.listener("lst-1")
    world.join(listener, session_id)
    assert world.disconnect(listener)["statusCode"] == 200
    assert world.connection_row(listener) is None and world.session_row(session_id)["listenerCount"] == 0
    assert world.disconnect(listener)["statusCode"] == 200
    assert world.session_row(session_id)["listenerCount"] == 0
    world.sessions.update_item(Key={"sessionId": session_id}, UpdateExpression="SET listenerCount = :z",
                               ExpressionAttributeValues={":z": 0})
    ghost = world.listener("lst-ghost")
    world.connections.update_item(Key={"connectionId": ghost}, UpdateExpression="SET sessionId = :s, targetLanguage = :l",
                                  ExpressionAttributeValues={":s": session_id, ":l": "es"})
    world.disconnect(ghost)
    assert world.session_row(session_id)["listenerCount"] == 0


def test_speaker_disconnect_grace_period_then_sweep_ends_session(world: World) -> None:
    speaker = world.speaker()
    session_id = world.create_session(speaker)
    listener = world.listener("lst-1")
    world.join(listener, session_id)
    world.disconnect(speaker)
    row = world.session_row(session_id)
    assert row["status"] == "active" and row["speakerDisconnectedAt"] == world.now
    assert world.api.last(listener)["event"] == "speakerDisconnected"
    world.now += 9 * 60
    world.send(listener, {"action": "heartbeat"})
    world.sweep()
    assert world.session_row(session_id)["status"] == "active"
    world.now += 60
    world.sweep()
    row = world.session_row(session_id)
    assert row["status"] == "ended" and row["endReason"] == "speakerGone"
    assert world.api.last(listener) == {"type": "sessionEnded", "sessionId": session_id, "reason": "speakerGone",
                                        "endedAt": world.now}


def test_speaker_reconnects_within_grace(world: World) -> None:
    speaker = world.speaker("spk-1", "user-1")
    session_id = world.create_session(speaker)
    token = world.api.last(speaker)["refreshToken"]
    listener = world.listener("lst-1")
    world.join(listener, session_id)
    world.disconnect(speaker)
    world.now += 5 * 60
    back = world.speaker("spk-2", "user-1")
    world.send(back, {"action": "refreshConnection", "sessionId": session_id, "refreshToken": token})
    assert world.api.last(back)["type"] == "connectionRefreshed"
    assert world.api.last(listener)["event"] == "speakerReconnected"
    assert "spk-1" not in [cid for cid, _ in world.api.posts[-2:]]
    world.now += 10 * 60
    world.send(back, {"action": "heartbeat"})
    world.send(listener, {"action": "heartbeat"})
    world.sweep()
    row = world.session_row(session_id)
    assert row["status"] == "active" and "speakerDisconnectedAt" not in row


def test_sweep_removes_stale_connections_and_pushes_status(world: World) -> None:
    speaker = world.speaker()
    session_id = world.create_session(speaker)
    fresh, stale = world.listener("lst-fresh"), world.listener("lst-stale")
    world.join(fresh, session_id, "es")
    world.join(stale, session_id, "fr")
    world.now += 301
    world.send(fresh, {"action": "heartbeat"})
    world.send(speaker, {"action": "heartbeat"})
    response = world.sweep()
    assert response["statusCode"] == 200 and response["stale_connections"] == 1
    assert world.connection_row(stale) is None and stale in world.api.deleted
    assert world.session_row(session_id)["listenerCount"] == 1
    status = world.api.last(speaker)
    assert status["type"] == "sessionStatus" and status["listenerCount"] == 1 and status["languages"] == {"es": 1}
    assert response["active_sessions"] == 1 and response["listeners"] == 1


def test_sweep_treats_a_silent_speaker_as_gone(world: World) -> None:
    speaker = world.speaker()
    session_id = world.create_session(speaker)
    world.now += 301
    world.sweep()
    row = world.session_row(session_id)
    assert row["speakerDisconnectedAt"] == world.now and world.connection_row(speaker) is None
    assert speaker in world.api.deleted


def test_sweep_starts_grace_when_the_speaker_disconnect_was_lost(world: World) -> None:
    speaker = world.speaker()
    session_id = world.create_session(speaker)
    world.connections.delete_item(Key={"connectionId": speaker})
    world.sweep()
    assert world.session_row(session_id)["speakerDisconnectedAt"] == world.now
    world.now += 10 * 60
    world.sweep()
    assert world.session_row(session_id)["endReason"] == "speakerGone"


def test_sweep_ends_sessions_at_max_duration(world: World) -> None:
    speaker = world.speaker()
    session_id = world.create_session(speaker)
    listener = world.listener("lst-1")
    world.join(listener, session_id)
    world.now = START + 7200
    world.sweep()
    assert world.session_row(session_id)["endReason"] == "maxDuration"
    assert world.api.last(listener)["type"] == "sessionEnded"
    assert world.api.last(speaker)["type"] == "sessionEnded"


def test_expired_rows_are_ignored(world: World) -> None:
    world.speaker()
    session_id = world.create_session()
    world.sessions.update_item(Key={"sessionId": session_id}, UpdateExpression="SET expiresAt = :e",
                               ExpressionAttributeValues={":e": world.now - 1})
    listener = world.listener("lst-1")
    assert world.join(listener, session_id)["code"] == "SESSION_NOT_FOUND"
    world.connections.update_item(Key={"connectionId": listener}, UpdateExpression="SET expiresAt = :e",
                                  ExpressionAttributeValues={":e": world.now - 1})
    world.send(listener, {"action": "heartbeat"})
    assert world.api.last(listener)["code"] == "NOT_CONNECTED"


def test_default_route_answers_clearly(world: World) -> None:
    listener = world.listener("lst-1")
    world.send(listener, "this is not json", route_key="$default")
    reply = world.api.last(listener)
    assert reply["code"] == "INVALID_JSON" and "joinSession" in reply["validActions"] and "sendAudio" in reply["validActions"]
    world.send(listener, {"action": "dance", "requestId": "d1"}, route_key="$default")
    reply = world.api.last(listener)
    assert reply["code"] == "UNKNOWN_ACTION" and reply["requestId"] == "d1"
    world.send(listener, {"no": "action"}, route_key="$default")
    assert world.api.last(listener)["code"] == "INVALID_MESSAGE"
    world.send(listener, {"action": "joinSession"}, route_key="$default")
    assert world.api.last(listener)["code"] == "ACTION_UNAVAILABLE"


def test_unregistered_connection_gets_not_connected(world: World) -> None:
    world.send("never-connected", {"action": "heartbeat"})
    assert world.api.last("never-connected")["code"] == "NOT_CONNECTED"

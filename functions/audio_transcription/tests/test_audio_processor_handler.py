"""The sendAudio route handler with API Gateway WebSocket events and moto DynamoDB."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
from audio_transcription.audio_processor import handler as audio_handler
from audio_transcription.audio_processor.handler import handle
from audio_transcription.tests.conftest import SESSION, SPEAKER, WORKER_FN
from audio_transcription.tests.fakes import audio_message, speech_chunk, ws_event
from botocore.exceptions import ClientError as AwsClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CHUNK = speech_chunk(1)  # 100 ms


def send(world, body, connection_id=SPEAKER, deps=None, **event_kw):
    return handle(ws_event(body, connection_id, **event_kw), deps or world.audio_deps())


def errors(world):
    return [e for _, e in world.replier.sent if e["type"] == "error"]


def stored(world):
    return sorted(int(i["sequence"]) for i in world.chunks.scan()["Items"])


def test_accepted_chunk_is_stored_with_its_place_and_quality_and_starts_a_worker(world):
    world.put_session()
    assert send(world, audio_message(SESSION, 1, CHUNK)) == {"statusCode": 200}
    assert send(world, audio_message(SESSION, 2, speech_chunk(2, samples=3200))) == {"statusCode": 200}
    items = sorted(world.chunks.scan()["Items"], key=lambda i: int(i["sequence"]))
    assert [int(i["sampleOffset"]) for i in items] == [0, 1600]
    assert bytes(items[0]["audio"].value) == CHUNK
    assert float(items[0]["rmsDbfs"]) < 0 and float(items[0]["peak"]) > 0
    assert 0 <= float(items[0]["clippingRatio"]) <= 1
    row = world.session()
    assert int(row["lastAudioSequence"]) == 2 and int(row["audioSamples"]) == 4800
    # one worker, started by the first chunk, with the lease it holds
    starts = world.lambdas.payloads(WORKER_FN)
    assert len(starts) == 1
    assert world.lambdas.calls[0]["InvocationType"] == "Event"
    assert starts[0] == {"sessionId": SESSION, "leaseId": row["workerLeaseId"], "reason": "start"}
    assert world.replier.sent == []  # no per-chunk acknowledgements
    assert world.metrics.total("AudioChunksReceived") == 2
    assert len(world.metrics.values["AudioProcessingLatency"]) == 2


def test_session_id_is_matched_case_insensitively(world):
    world.put_session()
    assert send(world, audio_message("  Golden-Eagle-4821 ", 1, CHUNK))["statusCode"] == 200
    assert stored(world) == [1]


@pytest.mark.parametrize(("last", "fed", "sequence", "code"), [
    (5, None, 5, "AUDIO_DUPLICATE"),       # a repeat of the newest chunk
    (20, None, 5, "AUDIO_OUT_OF_ORDER"),   # older than the reorder window
    (5, 3, 2, "AUDIO_OUT_OF_ORDER"),       # older than what the worker already fed
    (5, 3, 3, "AUDIO_OUT_OF_ORDER"),
])
def test_repeated_or_too_old_sequence_is_refused_and_not_stored(world, last, fed, sequence, code):
    world.put_session(**({"lastFedSequence": fed} if fed is not None else {}))
    send(world, audio_message(SESSION, last, CHUNK))
    world.clock.advance(1)
    samples_before = world.session()["audioSamples"]
    result = send(world, audio_message(SESSION, sequence, CHUNK, requestId="r-7"))
    assert result == {"statusCode": 409}
    (error,) = errors(world)
    assert error["code"] == code and error["requestId"] == "r-7" and error["sequence"] == sequence
    assert stored(world) == [last]
    assert world.session()["audioSamples"] == samples_before


def test_adjacent_chunks_arriving_out_of_order_are_both_accepted(world):
    """API Gateway may run two messages of one connection at once: chunk 4 can reach the gate after 5."""
    world.put_session()
    for sequence in (1, 2, 3, 5, 4):
        assert send(world, audio_message(SESSION, sequence, CHUNK)) == {"statusCode": 200}, sequence
    assert errors(world) == []
    assert stored(world) == [1, 2, 3, 4, 5]
    row = world.session()
    assert row["lastAudioSequence"] == 5 and row["audioSamples"] == 5 * (len(CHUNK) // 2)
    # A repeat of the late chunk is refused and does not count its samples twice.
    assert send(world, audio_message(SESSION, 4, CHUNK)) == {"statusCode": 409}
    assert errors(world)[-1]["code"] == "AUDIO_DUPLICATE"
    assert world.session()["audioSamples"] == 5 * (len(CHUNK) // 2)


def test_first_chunk_arriving_after_the_second_is_accepted(world):
    world.put_session()
    assert send(world, audio_message(SESSION, 2, CHUNK)) == {"statusCode": 200}
    assert send(world, audio_message(SESSION, 1, CHUNK)) == {"statusCode": 200}
    assert stored(world) == [1, 2]


@pytest.mark.parametrize(("overrides", "connection", "code", "status"), [
    ({}, "someone-else=", "NOT_SESSION_SPEAKER", 403),
    ({"status": "ended"}, SPEAKER, "SESSION_ENDED", 410),
    ({"paused": True}, SPEAKER, "SESSION_PAUSED", 409),
    ({"muted": True}, SPEAKER, "SESSION_MUTED", 409),
    ({"expiresAt": 1}, SPEAKER, "SESSION_NOT_FOUND", 404),
])
def test_session_rules(world, overrides, connection, code, status):
    world.put_session(**overrides)
    assert send(world, audio_message(SESSION, 1, CHUNK), connection_id=connection) == {"statusCode": status}
    assert [e["code"] for _, e in world.replier.sent] == [code]
    assert world.replier.sent[0][0] == connection  # the error goes to the sender
    assert stored(world) == []
    assert world.lambdas.calls == []


def test_unknown_session(world):
    assert send(world, audio_message("no-such-9999", 1, CHUNK))["statusCode"] == 404
    assert errors(world)[0]["code"] == "SESSION_NOT_FOUND"


def test_rate_limit_per_connection_per_second(world):
    world.put_session()
    deps = world.audio_deps(settings=replace(world.audio_settings, max_chunks_per_second=3),
                            limiter=audio_handler.ChunkRateLimiter(world.db.Table(world.names.rate_limits), 3))
    codes = [send(world, audio_message(SESSION, i, CHUNK), deps=deps)["statusCode"] for i in range(1, 6)]
    assert codes == [200, 200, 200, 429, 429]
    assert errors(world)[0]["code"] == "RATE_LIMITED" and errors(world)[0]["retryAfterSeconds"] == 1
    world.clock.advance(1.0)
    assert send(world, audio_message(SESSION, 6, CHUNK), deps=deps)["statusCode"] == 200
    assert stored(world) == [1, 2, 3, 6]


def test_rate_limiter_outage_lets_chunks_through(world):
    """A RateLimits outage must not drop the speaker's speech: the chunk limiter fails open."""
    world.put_session()

    class Broken:
        def update_item(self, **kwargs):
            raise AwsClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem")

    deps = world.audio_deps(limiter=audio_handler.ChunkRateLimiter(Broken(), 25, metrics=world.metrics))
    assert send(world, audio_message(SESSION, 1, CHUNK), deps=deps) == {"statusCode": 200}
    assert errors(world) == []
    assert stored(world) == [1]
    assert world.metrics.total("RateLimitUnavailable") == 1
    print("\nFAULT|audio: RateLimits outage while sending chunks (none lost)|survived")


def test_store_failure_rolls_back_so_the_client_can_resend(world):
    world.put_session()
    send(world, audio_message(SESSION, 1, CHUNK))

    class Failing:
        def put(self, *args, **kwargs):
            raise AwsClientError({"Error": {"Code": "InternalServerError"}}, "PutItem")

    assert send(world, audio_message(SESSION, 2, CHUNK), deps=world.audio_deps(store=Failing())) == {"statusCode": 503}
    error = errors(world)[0]
    assert error["code"] == "AUDIO_NOT_ACCEPTED" and error["retry"] is True and error["sequence"] == 2
    row = world.session()
    assert int(row["lastAudioSequence"]) == 1 and int(row["audioSamples"]) == 1600
    # resending the same sequence now works, at the same place on the timeline
    assert send(world, audio_message(SESSION, 2, CHUNK))["statusCode"] == 200
    items = {int(i["sequence"]): int(i["sampleOffset"]) for i in world.chunks.scan()["Items"]}
    assert items == {1: 0, 2: 1600}


def test_first_chunk_store_failure_rolls_back_to_no_sequence(world):
    world.put_session()

    class Failing:
        def put(self, *args, **kwargs):
            raise RuntimeError("boom")

    send(world, audio_message(SESSION, 7, CHUNK), deps=world.audio_deps(store=Failing()))
    assert "lastAudioSequence" not in world.session() and int(world.session()["audioSamples"]) == 0
    assert send(world, audio_message(SESSION, 7, CHUNK))["statusCode"] == 200


def test_live_worker_is_not_started_again_and_an_expired_one_is(world):
    world.put_session()
    send(world, audio_message(SESSION, 1, CHUNK))
    send(world, audio_message(SESSION, 2, CHUNK))
    assert len(world.lambdas.payloads(WORKER_FN)) == 1
    world.clock.advance(world.audio_settings.worker_start_grace_seconds + 1)  # the worker never came
    send(world, audio_message(SESSION, 3, CHUNK))
    starts = world.lambdas.payloads(WORKER_FN)
    assert len(starts) == 2 and starts[0]["leaseId"] != starts[1]["leaseId"]


def test_failed_worker_invoke_is_retried_by_the_next_chunk(world):
    world.put_session()
    world.lambdas.fail_for = {WORKER_FN}
    assert send(world, audio_message(SESSION, 1, CHUNK))["statusCode"] == 200  # the chunk is stored anyway
    assert "workerLeaseId" not in world.session()
    world.lambdas.fail_for = set()
    send(world, audio_message(SESSION, 2, CHUNK))
    assert len(world.lambdas.payloads(WORKER_FN)) == 1
    assert stored(world) == [1, 2]


def test_unexpected_failure_is_an_internal_error(world):
    world.put_session()

    class Exploding:
        def admit(self, *args, **kwargs):
            raise RuntimeError("boom")

    result = send(world, audio_message(SESSION, 3, CHUNK, requestId="x1"), deps=world.audio_deps(gate=Exploding()))
    assert result == {"statusCode": 500}
    assert errors(world) == [{"type": "error", "code": "INTERNAL_ERROR", "message": "the chunk could not be processed; retry",
                              "sequence": 3, "requestId": "x1"}]
    assert world.metrics.total("ErrorCount") == 1


def b64(n_bytes: int) -> str:
    return base64.b64encode(b"\x01\x00" * (n_bytes // 2) + b"\x01" * (n_bytes % 2)).decode()


@pytest.mark.parametrize(("body", "code", "field"), [
    (None, "INVALID_MESSAGE", None),
    ("", "INVALID_MESSAGE", None),
    ("{not json", "INVALID_JSON", None),
    ("[1, 2]", "INVALID_MESSAGE", None),
    ({"action": "sendAudio", "sessionId": SESSION, "sequence": 1}, "MISSING_FIELD", "audio"),
    ({"action": "sendAudio", "sequence": 1, "audio": b64(3200)}, "MISSING_FIELD", "sessionId"),
    ({"action": "sendAudio", "sessionId": SESSION, "audio": b64(3200)}, "MISSING_FIELD", "sequence"),
    ({"action": "sendAudio", "sessionId": SESSION, "sequence": "1", "audio": b64(3200)}, "INVALID_FIELD", "sequence"),
    ({"action": "sendAudio", "sessionId": SESSION, "sequence": 1.5, "audio": b64(3200)}, "INVALID_FIELD", "sequence"),
    ({"action": "sendAudio", "sessionId": SESSION, "sequence": True, "audio": b64(3200)}, "INVALID_FIELD", "sequence"),
    ({"action": "sendAudio", "sessionId": SESSION, "sequence": -1, "audio": b64(3200)}, "INVALID_FIELD", "sequence"),
    ({"action": "sendAudio", "sessionId": 42, "sequence": 1, "audio": b64(3200)}, "INVALID_FIELD", "sessionId"),
    ({"action": "sendAudio", "sessionId": "a b", "sequence": 1, "audio": b64(3200)}, "INVALID_FIELD", "sessionId"),
    ({"action": "sendAudio", "sessionId": SESSION, "sequence": 1, "audio": "***"}, "INVALID_AUDIO", "audio"),
    ({"action": "sendAudio", "sessionId": SESSION, "sequence": 1, "audio": b64(3201)}, "INVALID_AUDIO", "audio"),
    ({"action": "sendAudio", "sessionId": SESSION, "sequence": 1, "audio": b64(1598)}, "INVALID_AUDIO", "audio"),
    ({"action": "sendAudio", "sessionId": SESSION, "sequence": 1, "audio": b64(6402)}, "INVALID_AUDIO", "audio"),
    ({"action": "sendAudio", "sessionId": SESSION, "sequence": 1, "audio": 5}, "INVALID_FIELD", "audio"),
    ({"action": "sendAudio", "sessionId": SESSION, "sequence": 1, "audio": b64(3200), "extra": 1}, "UNKNOWN_FIELD", "extra"),
    ({"action": "sendAudio", "sessionId": SESSION, "sequence": 1, "audio": b64(3200), "requestId": "bad id"},
     "INVALID_FIELD", "requestId"),
    ({"action": "other", "sessionId": SESSION, "sequence": 1, "audio": b64(3200)}, "INVALID_FIELD", "action"),
    ({"action": "sendAudio", "sessionId": SESSION, "sequence": 1, "audio": "A" * 40000}, "MESSAGE_TOO_LARGE", None),
])
def test_malformed_messages(world, body, code, field):
    world.put_session()
    result = send(world, body)
    assert result["statusCode"] in (400, 413)
    (error,) = errors(world)
    assert error["code"] == code
    if field:
        assert error["field"] == field
    assert stored(world) == [] and world.lambdas.calls == []


def test_boundary_sizes_are_accepted(world):
    world.put_session()
    assert send(world, audio_message(SESSION, 1, b"\x00\x01" * 800))["statusCode"] == 200  # 50 ms
    assert send(world, audio_message(SESSION, 2, b"\x00\x01" * 3200))["statusCode"] == 200  # 200 ms
    assert stored(world) == [1, 2]


def test_binary_frame_is_refused(world):
    world.put_session()
    send(world, base64.b64encode(CHUNK).decode(), is_base64=True)
    assert errors(world)[0]["code"] == "INVALID_MESSAGE"


def test_errors_echo_a_valid_request_id(world):
    world.put_session()
    send(world, {"action": "sendAudio", "sessionId": SESSION, "sequence": 1, "audio": "!!", "requestId": "c-9"})
    assert errors(world)[0]["requestId"] == "c-9"


def test_lambda_handler_entry_point(world, monkeypatch):
    world.put_session()
    monkeypatch.setattr(audio_handler, "_deps", world.audio_deps())
    monkeypatch.setattr(audio_handler.metrics, "namespace", "Test")

    class Context:
        function_name = "sendAudio"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:sendAudio"
        aws_request_id = "req-1"

    assert audio_handler.lambda_handler(ws_event(audio_message(SESSION, 1, CHUNK)), Context()) == {"statusCode": 200}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
bodies = st.one_of(
    st.none(),
    st.text(max_size=200),
    st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {"action": st.sampled_from(["sendAudio", "x"])},
        optional={"sessionId": st.one_of(st.text(max_size=70), st.integers(), st.just(SESSION)),
                  "sequence": st.one_of(st.integers(), st.floats(), st.text(max_size=5), st.booleans()),
                  "audio": st.one_of(st.text(max_size=50), st.binary(max_size=400).map(lambda b: base64.b64encode(b).decode())),
                  "requestId": st.text(max_size=70),
                  "junk": json_values},
    ).map(json.dumps),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, is_base64=st.booleans())
def test_malformed_bodies_always_get_a_structured_error_and_nothing_is_stored(world, body, is_base64):
    # no session row exists, so even a well-formed chunk is refused: nothing may ever be stored
    world.replier.sent.clear()
    result = handle(ws_event(body, SPEAKER, is_base64=is_base64), world.audio_deps())
    assert result["statusCode"] >= 400
    (error,) = [e for _, e in world.replier.sent]
    assert error["type"] == "error" and isinstance(error["code"], str) and isinstance(error["message"], str)
    assert error["code"] != "INTERNAL_ERROR"
    assert world.chunks.scan(Limit=1)["Items"] == []
    assert world.lambdas.calls == []

"""The local run end to end, over real sockets: the stack's own functions behind the local gateway.

Started as the README says (``bash scripts/local.sh``, see conftest), with the scripted engines:
a speaker with a token creates a session and streams audio in real time; three listeners in two
languages receive every caption in order and audio that decodes; a pause stops delivery; bad
input gets its documented error; a 33 KB frame closes the connection with 1009; a bad token is
refused at the handshake; ``@connections`` answers boto3 as API Gateway does.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import math
import struct
import time
from typing import Any

import aiohttp
import boto3
import pytest
import soundfile
from botocore.config import Config

from tests.local.conftest import PROJECT_ROOT, LocalRun

CHUNK_SECONDS = 0.1
SAMPLE_RATE = 16000


def tone_chunk(index: int) -> bytes:
    """100 ms of a voiced-sounding tone (PCM16LE, 16 kHz mono)."""
    samples = int(SAMPLE_RATE * CHUNK_SECONDS)
    start = index * samples
    return b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * 180 * (start + i) / SAMPLE_RATE)
                                          * (0.6 + 0.4 * math.sin(2 * math.pi * 3 * (start + i) / SAMPLE_RATE))))
                    for i in range(samples))


async def token(http: aiohttp.ClientSession, run: LocalRun, username: str = "alice") -> str:
    async with http.post(f"{run.http}/local/token", json={"username": username}) as response:
        assert response.status == 200
        return (await response.json())["accessToken"]


class Client:
    """One WebSocket client that keeps every message it receives."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.messages.append({**json.loads(message.data), "_at": time.monotonic()})

    async def send(self, body: dict[str, Any] | str) -> None:
        await self.ws.send_str(body if isinstance(body, str) else json.dumps(body))

    async def wait_for(self, predicate, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for message in self.messages[seen:]:
                if predicate(message):
                    return message
            seen = len(self.messages)
            await asyncio.sleep(0.05)
        raise AssertionError(f"no such message in {timeout} s; got {[m.get('type') for m in self.messages]}")

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


async def connect(http: aiohttp.ClientSession, run: LocalRun, role: str, token_value: str | None = None) -> Client:
    query = f"?role={role}" + (f"&token={token_value}" if token_value else "")
    return Client(await http.ws_connect(run.ws + query))


async def stream(speaker: Client, session_id: str, first: int, chunks: int) -> None:
    """Real-time audio, 100 ms chunks."""
    started = time.monotonic()
    for offset in range(chunks):
        await speaker.send({"action": "sendAudio", "sessionId": session_id, "sequence": first + offset,
                            "audio": base64.b64encode(tone_chunk(first + offset)).decode()})
        await asyncio.sleep(max(0.0, started + (offset + 1) * CHUNK_SECONDS - time.monotonic()))


async def quiet_for(clients: list[Client], seconds: float, timeout: float = 60.0) -> None:
    """Wait until no client has received anything for ``seconds``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = max((m["_at"] for c in clients for m in c.messages), default=0.0)
        if time.monotonic() - last >= seconds:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("deliveries never settled")


def words_of(text: str) -> list[str]:
    """Lower-case words without punctuation."""
    return [w.strip(".,!?;:").lower() for w in text.split() if w.strip(".,!?;:")]


TRANSCRIPT_WORDS = words_of((PROJECT_ROOT / "local" / "data" / "speech-en-us.txt").read_text())


def has_audio(message: dict[str, Any]) -> bool:
    """An ``audio`` message, or a caption carrying its segment's audio (``translation:combineCaptionAudio``)."""
    return message.get("type") == "audio" or (message.get("type") == "caption" and "audio" in message)


def segment_audio(messages: list[dict[str, Any]], sequence: int) -> bytes:
    """One segment's audio: inside its caption, or its ``audio`` parts joined in order."""
    for caption in (m for m in messages if m.get("type") == "caption" and m["sequence"] == sequence):
        if "audio" in caption:
            assert caption["audio"]["mimeType"] in ("audio/mpeg", "audio/ogg")
            return base64.b64decode(caption["audio"]["data"])
    parts = sorted((m for m in messages if m.get("type") == "audio" and m["sequence"] == sequence),
                   key=lambda m: m["part"])
    assert parts, f"segment {sequence} has no audio"
    assert [m["part"] for m in parts] == list(range(1, parts[0]["parts"] + 1)), "every part, once"
    assert parts[0]["mimeType"] in ("audio/mpeg", "audio/ogg")
    return b"".join(base64.b64decode(m["data"]) for m in parts)


def decoded_seconds(messages: list[dict[str, Any]], sequence: int) -> float:
    """Seconds of sound in one segment's audio, decoded by libsndfile."""
    samples, rate = soundfile.read(io.BytesIO(segment_audio(messages, sequence)))
    return len(samples) / rate


def delivered(listener: Client) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return listener.of_type("caption"), listener.of_type("audio")


def test_speaker_streams_and_listeners_in_two_languages_get_captions_and_audio_then_pause_stops_it(
        local_run: LocalRun) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            speaker = await connect(http, local_run, "speaker", await token(http, local_run))
            await speaker.send({"action": "createSession", "sourceLanguage": "en-US", "requestId": "c-1"})
            created = await speaker.wait_for(lambda m: m.get("type") == "sessionCreated")
            session_id = created["sessionId"]
            assert created["requestId"] == "c-1"
            listeners = {name: await connect(http, local_run, "listener") for name in ("es-1", "es-2", "de-1")}
            for name, listener in listeners.items():
                await listener.send({"action": "joinSession", "sessionId": session_id, "targetLanguage": name[:2]})
                joined = await listener.wait_for(lambda m: m.get("type") == "sessionJoined")
                assert joined["targetLanguage"] == name[:2]

            await stream(speaker, session_id, 1, 60)  # 6 s of speech: 15 scripted words
            for listener in listeners.values():
                await listener.wait_for(has_audio, timeout=60)
            # The worker ends its stream when the audio stops; the last words come with that final.
            await quiet_for(list(listeners.values()), 12.0)

            for name, listener in listeners.items():
                captions, audio = delivered(listener)
                assert captions, f"{name} got no caption: {[m.get('type') for m in listener.messages]}"
                assert all(c["language"] == name[:2] and c["translated"] is True for c in captions)
                # The scripted engines replay the shipped transcript and tag translations "[es] ...": every
                # word spoken, once, in order, when the captions are read in sequence order.
                ordered = [c["text"] for c in sorted(captions, key=lambda c: c["sequence"])]
                assert all(text.startswith(f"[{name[:2]}] ") for text in ordered), ordered
                words = words_of(" ".join(text.split(" ", 1)[1] for text in ordered))
                assert len(words) >= 8 and words == TRANSCRIPT_WORDS[:len(words)], words
                by_segment = {c["sequence"]: c["_at"] for c in captions}
                for clip in audio:
                    assert clip["_at"] >= by_segment[clip["sequence"]], "caption before audio"
                for sequence in by_segment:
                    assert decoded_seconds(listener.messages, sequence) > 0, f"segment {sequence}'s audio"
            # Two listeners of one language get the same captions: by sequence, the same texts.
            def by_sequence(listener: Client) -> list[tuple[int, str]]:
                return sorted((c["sequence"], c["text"]) for c in listener.of_type("caption"))
            assert by_sequence(listeners["es-1"]) == by_sequence(listeners["es-2"])

            # Pause: listeners are told, audio is refused, and nothing more is delivered.
            await speaker.send({"action": "speakerControl", "sessionId": session_id, "command": "pause"})
            await speaker.wait_for(lambda m: m.get("type") == "controlApplied" and m.get("command") == "pause")
            for listener in listeners.values():
                await listener.wait_for(lambda m: m.get("type") == "sessionUpdate" and m.get("paused") is True)
            await stream(speaker, session_id, 100, 20)
            refused = await speaker.wait_for(lambda m: m.get("code") == "SESSION_PAUSED")
            assert refused["type"] == "error"
            await quiet_for(list(listeners.values()), 3.0)
            counts = {name: len(delivered(listener)[0]) for name, listener in listeners.items()}
            await asyncio.sleep(4.0)
            assert {name: len(delivered(listener)[0]) for name, listener in listeners.items()} == counts

            # Resume: delivery comes back.
            await speaker.send({"action": "speakerControl", "sessionId": session_id, "command": "resume"})
            await speaker.wait_for(lambda m: m.get("type") == "controlApplied" and m.get("command") == "resume")
            await stream(speaker, session_id, 200, 40)
            await listeners["de-1"].wait_for(lambda m: m.get("type") == "caption"
                                             and len(delivered(listeners["de-1"])[0]) > counts["de-1"])
            for client in [speaker, *listeners.values()]:
                await client.close()
    asyncio.run(scenario())


def test_malformed_messages_get_their_documented_errors(local_run: LocalRun) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            client = await connect(http, local_run, "listener")
            await client.send("this is not json")
            invalid = await client.wait_for(lambda m: m.get("type") == "error")
            assert invalid["code"] == "INVALID_JSON"
            await client.send({"action": "dance"})
            unknown = await client.wait_for(lambda m: m.get("code") == "UNKNOWN_ACTION")
            assert "joinSession" in unknown.get("validActions", [])
            await client.send({"action": "joinSession", "sessionId": "alkaline-silly-1919", "targetLanguage": "es"})
            missing = await client.wait_for(lambda m: m.get("type") == "error" and m.get("code") not in
                                            ("INVALID_JSON", "UNKNOWN_ACTION"))
            assert missing["code"] == "SESSION_NOT_FOUND", client.messages
            await client.close()
    asyncio.run(scenario())


def test_a_33_kb_frame_closes_the_connection_with_1009(local_run: LocalRun) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(local_run.ws + "?role=listener")
            await ws.send_str(json.dumps({"action": "heartbeat", "pad": "x" * (33 * 1024)}))
            message = await ws.receive(timeout=10)
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert ws.close_code == 1009
            # A frame under 32 KB is fine.
            ok = await http.ws_connect(local_run.ws + "?role=listener")
            await ok.send_str(json.dumps({"action": "heartbeat", "pad": "x" * (31 * 1024)}))
            reply = json.loads((await ok.receive(timeout=10)).data)
            assert reply["type"] in ("heartbeatAck", "error") and not ok.closed
            await ok.close()
    asyncio.run(scenario())


@pytest.mark.parametrize("role,token_value", [("speaker", "not-a-jwt"), ("speaker", None), ("listener", "a.b.c"),
                                               ("wizard", None)])
def test_handshake_refused_with_403(local_run: LocalRun, role: str, token_value: str | None) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await connect(http, local_run, role, token_value)
            assert refused.value.status == 403
    asyncio.run(scenario())


def test_a_token_from_another_issuer_is_refused(local_run: LocalRun) -> None:
    from local.identity import LocalIssuer

    forged = LocalIssuer(f"{local_run.http}/local", "session-client-id").tokens("mallory")["accessToken"]

    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await connect(http, local_run, "speaker", forged)
            assert refused.value.status == 403
    asyncio.run(scenario())


def _management(run: LocalRun) -> Any:
    return boto3.client("apigatewaymanagementapi", endpoint_url=f"{run.http}/live", region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}))


def test_connections_api_answers_boto3_as_api_gateway_does(local_run: LocalRun) -> None:
    management = _management(local_run)
    with pytest.raises(management.exceptions.GoneException):
        management.post_to_connection(ConnectionId="AAAAAAAAAAAAAAAA", Data=b"{}")
    with pytest.raises(management.exceptions.GoneException):
        management.get_connection(ConnectionId="AAAAAAAAAAAAAAAA")

    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            client = await connect(http, local_run, "listener")
            await client.send({"action": "heartbeat"})
            ack = await client.wait_for(lambda m: m.get("type") == "heartbeatAck")
            connection_id = ack["connectionId"]
            assert connection_id.replace("-", "").replace("_", "").isalnum() and len(connection_id) == 16
            await asyncio.to_thread(management.post_to_connection, ConnectionId=connection_id,
                                    Data=json.dumps({"type": "hello"}).encode())
            await client.wait_for(lambda m: m.get("type") == "hello")
            described = await asyncio.to_thread(management.get_connection, ConnectionId=connection_id)
            assert described["Identity"]["SourceIp"] == "127.0.0.1" and described["ConnectedAt"]
            with pytest.raises(management.exceptions.PayloadTooLargeException):
                await asyncio.to_thread(management.post_to_connection, ConnectionId=connection_id,
                                        Data=b"x" * (128 * 1024 + 1))
            await asyncio.to_thread(management.delete_connection, ConnectionId=connection_id)
            await asyncio.wait_for(client._reader, 10)
            assert client.ws.closed
            with pytest.raises(management.exceptions.GoneException):
                await asyncio.to_thread(management.post_to_connection, ConnectionId=connection_id, Data=b"{}")
    asyncio.run(scenario())


def test_lambda_invoke_api_queues_events_for_qualified_names(local_run: LocalRun) -> None:
    lambdas = boto3.client("lambda", endpoint_url=f"{local_run.http}/aws/lambda", region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing",
                           config=Config(retries={"max_attempts": 1}))
    name = "speech-translation-dev-audio-stream-worker"
    queued = lambdas.invoke(FunctionName=f"{name}:live", InvocationType="Event", Payload=b"{}")
    assert queued["StatusCode"] == 202
    # The worker refuses an event without sessionId and leaseId (and says so in its log).
    answered = lambdas.invoke(FunctionName=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
                              Payload=b'{"sessionId": ""}')
    assert answered["StatusCode"] == 200 and json.loads(answered["Payload"].read()) == {"outcome": "invalid_event"}
    with pytest.raises(lambdas.exceptions.ResourceNotFoundException):
        lambdas.invoke(FunctionName="no-such-function", Payload=b"{}")


def test_the_minute_schedule_runs_the_sweep(local_run: LocalRun) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "START RequestId" not in local_run.log("session-scheduled"):
        time.sleep(0.5)
    assert "START RequestId" in local_run.log("session-scheduled")


def test_config_and_token_endpoints(local_run: LocalRun) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{local_run.http}/config.json") as response:
                config = await response.json()
            assert config == {"websocketUrl": local_run.ws, "region": "us-east-1", "stack": "dev",
                              "auth": {"kind": "local", "tokenUrl": "/local/token"}}
            async with http.get(local_run.ws.replace("ws://", "http://")) as response:
                assert response.status == 426, "a plain GET of the WebSocket URL runs no authorizer or $connect"
            async with http.post(f"{local_run.http}/local/token", json={"username": ""}) as response:
                assert response.status == 400
            async with http.post(f"{local_run.http}/local/token", json={"username": "bob"}) as response:
                body = await response.json()
            assert set(body) >= {"accessToken", "idToken", "expiresIn"} and body["expiresIn"] == 3600
    asyncio.run(scenario())

"""The speaker and listener CLIs as they run (subprocesses) against a small stand-in of the WebSocket API.

The stand-in follows docs/protocol.md for the few actions the clients use and records what
it received: the test checks the clients, not the backend (the local run's smoke test does that).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile
from aiohttp import WSMsgType, web

from tests.local.engines.server import serving

ROOT = Path(__file__).resolve().parents[3]


class FakeApi:
    """createSession, joinSession, speakerControl, sendAudio; pushes a segment to listeners on the first audio."""

    def __init__(self) -> None:
        self.audio: list[tuple[float, int, int]] = []  # (received, sequence, bytes)
        self.controls: list[str] = []
        self.tokens: list[str | None] = []
        self.listeners: list[web.WebSocketResponse] = []
        self.pushed = False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/config.json", self.config)
        app.router.add_post("/local/token", self.token)
        app.router.add_get("/ws", self.ws)
        return app

    async def config(self, request: web.Request) -> web.Response:
        return web.json_response({"websocketUrl": f"ws://{request.host}/ws", "region": "us-east-1", "stack": "dev",
                                  "auth": {"kind": "local", "tokenUrl": "/local/token"}})

    async def token(self, request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"accessToken": f"token-{body['username']}", "idToken": "x", "expiresIn": 3600})

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        role = request.query.get("role", "listener")
        if role == "speaker" and not request.query.get("token"):
            raise web.HTTPForbidden()
        self.tokens.append(request.query.get("token"))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            rid = {"requestId": message["requestId"]} if "requestId" in message else {}
            action = message.get("action")
            if action == "createSession":
                await ws.send_json({"type": "sessionCreated", "sessionId": "golden-eagle-4821", "connectionId": "c1",
                                    "sourceLanguage": message["sourceLanguage"], "status": "active", **rid})
            elif action == "joinSession":
                self.listeners.append(ws)
                await ws.send_json({"type": "sessionJoined", "sessionId": message["sessionId"],
                                    "targetLanguage": message["targetLanguage"], **rid})
            elif action == "speakerControl":
                self.controls.append(message["command"])
                paused = message["command"] == "pause"
                await ws.send_json({"type": "controlApplied", "sessionId": message["sessionId"],
                                    "command": message["command"], "changed": True, "status": "active",
                                    "paused": paused, "muted": False, **rid})
                if message["command"] == "end":
                    for listener in self.listeners:
                        await listener.send_json({"type": "sessionEnded", "sessionId": "golden-eagle-4821",
                                                  "reason": "speakerEnded", "endedAt": int(time.time())})
            elif action == "sendAudio":
                pcm = base64.b64decode(message["audio"])
                self.audio.append((time.monotonic(), message["sequence"], len(pcm)))
                if not self.pushed and self.listeners:
                    self.pushed = True
                    await self.push_segment()
        return ws

    async def push_segment(self) -> None:
        segment = {"sessionId": "golden-eagle-4821", "sequence": 1, "segmentId": "golden-eagle-4821#1", "language": "es"}
        audio = b"ID3fake-mp3-bytes" * 10
        for listener in self.listeners:
            await listener.send_json({"type": "caption", **segment, "sourceLanguage": "en-US", "translated": True,
                                      "isFinal": True, "part": 1, "parts": 1, "text": "Buenos días."})
            for part, piece in ((2, audio[80:]), (1, audio[:80]), (2, audio[80:])):  # out of order, one repeat
                await listener.send_json({"type": "audio", **segment, "format": "mp3", "mimeType": "audio/mpeg",
                                          "voiceId": "Lucia", "part": part, "parts": 2,
                                          "data": base64.b64encode(piece).decode()})
        self.expected_audio = audio


def _run(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def test_speaker_streams_paced_numbered_chunks_and_listener_saves_audio(tmp_path):
    rate = 44100  # resampled by the speaker
    tone = 0.2 * np.sin(2 * np.pi * 220 * np.arange(int(rate * 1.55)) / rate)
    soundfile.write(tmp_path / "speech.wav", tone, rate)
    api = FakeApi()
    with serving(api.app()) as base:
        url = base.replace("http://", "ws://") + "/ws"
        listener = _run("clients.listener", "golden-eagle-4821", "--language", "es", "--url", url, "--json",
                        "--save", str(tmp_path / "audio"), "--duration", "20")
        deadline = time.monotonic() + 20
        while not api.listeners and time.monotonic() < deadline:
            time.sleep(0.05)
        speaker = _run("clients.speaker", str(tmp_path / "speech.wav"), "--url", url, "--linger", "0.2",
                       "--control", "0.5:pause", "--control", "0.8:resume")
        out, err = speaker.communicate(timeout=60)
        assert speaker.returncode == 0, err
        l_out, l_err = listener.communicate(timeout=30)
        assert listener.returncode == 0, l_err
    assert out.splitlines()[0] == "SESSION golden-eagle-4821"
    assert api.tokens[-1] == "token-speaker" and api.tokens[0] is None  # listeners are anonymous by default
    sequences = [s for _, s, _ in api.audio]
    assert sequences == list(range(1, len(sequences) + 1))
    # 1.55 s = 16 chunks of 100 ms (the last padded); 3 fall in the pause
    assert len(sequences) == 13 and [n for _, _, n in api.audio] == [3200] * 13
    assert api.controls == ["pause", "resume", "end"]
    elapsed = api.audio[-1][0] - api.audio[0][0]
    assert elapsed >= 1.4, "chunks are paced in real time, not sent as fast as possible"
    records = [json.loads(line) for line in l_out.splitlines()]
    kinds = [r["type"] for r in records]
    assert kinds == ["caption", "audio", "sessionEnded"]
    assert records[0]["text"] == "Buenos días." and records[0]["latency"] >= 0
    assert Path(records[1]["path"]).read_bytes() == api.expected_audio

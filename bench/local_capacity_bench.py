"""How many concurrent sessions x listeners the local run holds with the scripted engines.

    python bench/local_capacity_bench.py [--levels 1x10,2x25,4x25] [--seconds 8]

Starts the local run (``python -m local --engine scripted``, a subprocess on a free port), then
per level: that many speakers each create a session and stream --seconds of audio in real time
(100 ms chunks), and that many listeners per session (half "es", half "de") join. A level holds
when every listener receives every caption its session's first listener of the same language
received, with audio for each. Prints, per level: captions per listener, listeners complete,
the p50/p95 delay from a segment's first listener to its last, and the drain time (last chunk
sent to last caption received). Prints figures only; nothing asserts on timings.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import statistics
import struct
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.local.conftest import start_local_run  # noqa: E402

CHUNK = b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * 180 * i / 16000))) for i in range(1600))


async def listener(http: aiohttp.ClientSession, url: str, session_id: str, language: str, inbox: list) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(f"{url}?role=listener")
    await ws.send_str(json.dumps({"action": "joinSession", "sessionId": session_id, "targetLanguage": language}))
    joined = json.loads((await ws.receive(timeout=120)).data)
    if joined.get("type") != "sessionJoined":
        raise RuntimeError(f"join refused: {joined}")

    async def read() -> None:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                inbox.append((time.monotonic(), json.loads(message.data)))
    asyncio.get_running_loop().create_task(read())
    return ws


async def session(http: aiohttp.ClientSession, base: str, url: str, listeners: int, seconds: float, index: int) -> dict:
    async with http.post(f"{base}/local/token", json={"username": f"speaker-{index}"}) as response:
        token = (await response.json())["accessToken"]
    speaker = await http.ws_connect(f"{url}?role=speaker&token={token}")
    await speaker.send_str(json.dumps({"action": "createSession", "sourceLanguage": "en-US"}))
    created = json.loads((await speaker.receive(timeout=60)).data)
    session_id = created["sessionId"]
    said: list = []

    async def read_speaker() -> None:
        async for message in speaker:
            said.append(message.data)
    asyncio.get_running_loop().create_task(read_speaker())
    inboxes = [(("es", "de")[n % 2], []) for n in range(listeners)]
    # Every listener has joined before the speaker starts (joins run one after another per connection).
    sockets = await asyncio.gather(*(listener(http, url, session_id, language, inbox) for language, inbox in inboxes))
    started = time.monotonic()
    for sequence in range(1, int(seconds * 10) + 1):
        await speaker.send_str(json.dumps({"action": "sendAudio", "sessionId": session_id, "sequence": sequence,
                                           "audio": base64.b64encode(CHUNK).decode()}))
        await asyncio.sleep(max(0.0, started + sequence * 0.1 - time.monotonic()))
    last_chunk = time.monotonic()
    # The worker ends its stream 8 s after the audio stops, and the final segment follows: wait until
    # nothing has arrived for 10 s (at most a minute).
    while time.monotonic() - last_chunk < 60:
        latest = max((at for _, inbox in inboxes for at, _ in inbox), default=last_chunk)
        if time.monotonic() - last_chunk >= 12 and time.monotonic() - latest >= 10:
            break
        await asyncio.sleep(0.5)
    for ws in [speaker, *sockets]:
        await ws.close()
    return {"inboxes": inboxes, "last_chunk": last_chunk}


async def level(base: str, url: str, sessions: int, listeners: int, seconds: float) -> None:
    async with aiohttp.ClientSession() as http:
        results = await asyncio.gather(*(session(http, base, url, listeners, seconds, n) for n in range(sessions)))
    complete = total = 0
    spreads: list[float] = []
    drains: list[float] = []
    counts: list[int] = []
    for result in results:
        for language in ("es", "de"):
            boxes = [inbox for lang, inbox in result["inboxes"] if lang == language]
            if not boxes:
                continue
            reference = {m["sequence"] for _, m in boxes[0] if m.get("type") == "caption"}
            arrivals: dict[int, list[float]] = {}
            for inbox in boxes:
                total += 1
                captions = {m["sequence"]: at for at, m in inbox if m.get("type") == "caption"}
                # Audio comes inside the caption (translation:combineCaptionAudio) or as audio messages.
                audio = {m["sequence"] for _, m in inbox
                         if m.get("type") == "audio" or (m.get("type") == "caption" and "audio" in m)}
                counts.append(len(captions))
                if reference and set(captions) == reference and reference <= audio:
                    complete += 1
                for sequence, at in captions.items():
                    arrivals.setdefault(sequence, []).append(at)
            spreads += [max(times) - min(times) for times in arrivals.values() if len(times) > 1]
            if arrivals:
                drains.append(max(max(times) for times in arrivals.values()) - result["last_chunk"])

    def pct(values: list[float], q: float) -> str:
        return f"{statistics.quantiles(values, n=100)[q - 1]:.2f}" if len(values) >= 2 else "-"
    print(f"{sessions} sessions x {listeners} listeners: captions/listener median {statistics.median(counts) if counts else 0}, "
          f"complete {complete}/{total}, fan-out spread p50 {pct(spreads, 50)} s p95 {pct(spreads, 95)} s, "
          f"drain after last chunk max {max(drains) if drains else float('nan'):.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="1x10,2x25,4x25")
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as state:
        started = time.monotonic()
        # Every client connects from 127.0.0.1: lift the stack's per-IP and per-user limits for the load.
        run = start_local_run(Path(state),
                              "--config", "rateLimits:connectionAttemptsPerMinute=10000",
                              "--config", "rateLimits:listenerJoinsPerMinute=10000",
                              "--config", "rateLimits:sessionsPerHour=10000")
        print(f"bash scripts/local.sh --engine scripted: READY after {time.monotonic() - started:.1f} s", flush=True)
        try:
            for spec in args.levels.split(","):
                sessions, listeners = (int(x) for x in spec.split("x"))
                try:
                    asyncio.run(level(run.http, run.ws, sessions, listeners, args.seconds))
                except Exception as error:  # noqa: BLE001 - report the level as not held, with the server's words
                    print(f"{sessions} sessions x {listeners} listeners: failed ({error!r}); server said:\n  "
                          + "\n  ".join(run.output[-15:]), flush=True)
        finally:
            run.stop()


if __name__ == "__main__":
    main()

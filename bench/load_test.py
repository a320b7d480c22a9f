"""Load test of the local run: N sessions x L listeners, each speaker talking for a while, the scripted engines.

    python bench/load_test.py [--sessions 10] [--listeners 500] [--seconds 120] [--stack dev]
                              [--languages es,fr] [--port 0] [--drain 20] [--json FILE]

Starts the local run (``python -m local --engine scripted``) as a subprocess on loopback and
waits for its READY line, then opens every connection the way clients do: speakers with a
token from the local issuer (``createSession``), listeners anonymously (``joinSession``,
languages in turn). Listeners connect from many loopback addresses (127.x.y.z), as an
audience does from many addresses, so the per-IP join and connection limits apply per
address. Speakers stream 100 ms PCM chunks in real time for ``--seconds``; everyone sends
the protocol's heartbeat every minute. Afterwards (``--drain`` seconds for the last segments)
it reports, from what every listener received:

- lost: (listener, segment) pairs where the segment reached other listeners of the same
  session and language (or the TranslationProcessor logged it as delivered) but not this one,
  or arrived incomplete (caption without its audio);
- out of order: messages of one segment on one connection in the wrong order (caption,
  then audio parts 1..n);
- delivery latency: listener receive time minus the segment's ``emittedAt`` (read from the
  TranslationProcessor's ``segment processed`` log line; same machine clock), p50/p95/max;
- the machine's CPU (all cores, from /proc/stat) and the local run's own CPU (its process tree).

Exit status 0 when nothing was lost and nothing was out of order.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
CHUNK_SECONDS = 0.1
SAMPLE_RATE = 16_000
JOINS_PER_ADDRESS = 8  # under rateLimits:listenerJoinsPerMinute (10) and connectionAttemptsPerMinute (20)
JOIN_ATTEMPTS = 6
CONNECT_PARALLEL = 8  # handshakes at once: more only cold-starts more local containers at the same time


def _tone_chunk(index: int) -> str:
    """100 ms of a 220 Hz tone at -12 dBFS, base64 (speech-like level, so no 'silence' warnings)."""
    samples = int(SAMPLE_RATE * CHUNK_SECONDS)
    start = index * samples
    amplitude = int(32767 * 10 ** (-12 / 20))
    pcm = bytearray()
    for n in range(start, start + samples):
        pcm += int(amplitude * math.sin(2 * math.pi * 220 * n / SAMPLE_RATE)).to_bytes(2, "little", signed=True)
    return base64.b64encode(bytes(pcm)).decode("ascii")


@dataclass
class Received:
    """Everything one listener got."""

    session_id: str
    language: str
    connection: str = ""
    messages: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    closed_early: bool = False


class LocalRun:
    """The local run as a subprocess; READY line awaited; stopped with SIGINT then SIGKILL."""

    def __init__(self, stack: str, port: int, state: Path) -> None:
        self.command = [sys.executable, "-m", "local", "--stack", stack, "--port", str(port), "--engine", "scripted",
                        "--state", str(state)]
        self.state = state
        self.process: subprocess.Popen | None = None
        self.websocket_url = ""
        self.base_url = ""

    def start(self, timeout: float = 300.0) -> None:
        self.process = subprocess.Popen(self.command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, start_new_session=True)
        deadline = time.monotonic() + timeout
        lines = []
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("the local run exited before READY:\n" + "".join(lines[-40:]))
            lines.append(line)
            match = re.match(r"READY (ws://\S+)", line.strip())
            if match:
                self.websocket_url = match.group(1)
                self.base_url = self.websocket_url.rsplit("/", 1)[0].replace("ws://", "http://", 1)
                # Keep draining its output so it never blocks on a full pipe.
                threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()
                return
        raise RuntimeError("the local run did not print READY in time:\n" + "".join(lines[-40:]))

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the local run's process tree (it and every container)."""
        if self.process is None:
            return 0.0
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for pid in _descendants(self.process.pid) | {self.process.pid}:
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children[ppid].append(int(entry.name))
    out, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in out:
                out.add(child)
                stack.append(child)
    return out


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all cores."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _addresses():
    """Loopback source addresses, each used for at most JOINS_PER_ADDRESS listeners."""
    for b, c in itertools.product(range(1, 255), range(1, 255)):
        yield f"127.{b}.{c}.1"


class LoadTest:
    """Sessions, listeners, speech, and what every listener received."""

    def __init__(self, run: LocalRun, sessions: int, listeners: int, languages: list[str], seconds: float,
                 drain: float) -> None:
        self.run = run
        self.sessions = sessions
        self.listeners = listeners
        self.languages = languages
        self.seconds = seconds
        self.drain = drain
        self.received: list[Received] = []
        self.errors: list[str] = []
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self.join_retries = 0
        self._speaker_heartbeats: list[asyncio.Task] = []
        self._addresses = _addresses()

    def _http(self, address: str) -> aiohttp.ClientSession:
        if address not in self._sessions:
            connector = aiohttp.TCPConnector(local_addr=(address, 0), limit=0)
            self._sessions[address] = aiohttp.ClientSession(connector=connector)
        return self._sessions[address]

    async def close(self) -> None:
        for http in list(self._sessions.values()):
            await http.close()

    async def _token(self, username: str) -> str:
        async with self._http("127.0.0.1").post(f"{self.run.base_url}/local/token", json={"username": username}) as r:
            body = await r.json()
            return body["accessToken"]

    async def _request(self, ws: aiohttp.ClientWebSocketResponse, message: dict[str, Any], reply: str) -> dict[str, Any]:
        await ws.send_str(json.dumps(message))
        while True:
            incoming = await asyncio.wait_for(ws.receive(), 60)
            if incoming.type != aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"connection closed waiting for {reply}: {incoming.type}")
            body = json.loads(incoming.data)
            if body.get("type") == reply:
                return body
            if body.get("type") == "error":
                raise RuntimeError(f"{message['action']} refused: {body.get('code')} {body.get('message')}")

    async def _listener(self, session_id: str, language: str, address: str, joined: asyncio.Event,
                        stop: asyncio.Event, ready: list, limiter: asyncio.Semaphore) -> None:
        record = Received(session_id, language)
        async with limiter:  # a bounded number of handshakes and joins at once
            ws, reply = await self._join(session_id, language, address)
        record.connection = reply.get("connectionId", "")
        self.received.append(record)
        ready.append(1)
        if len(ready) == self.sessions * self.listeners:
            joined.set()
        heartbeat = asyncio.create_task(self._heartbeat(ws, stop))
        try:
            while not stop.is_set():
                incoming = await ws.receive()
                if incoming.type != aiohttp.WSMsgType.TEXT:
                    record.closed_early = not stop.is_set()
                    break
                now = time.time()
                body = json.loads(incoming.data)
                if body.get("type") in ("caption", "audio"):
                    record.messages.append((now, body))
        finally:
            heartbeat.cancel()
            await ws.close()

    async def _join(self, session_id: str, language: str, address: str) -> tuple[aiohttp.ClientWebSocketResponse, dict]:
        """Connect and join, retrying with backoff what docs/protocol.md says to retry (5xx on the handshake,
        a connection dropped before the reply), as a real client does; counted in ``join_retries``."""
        for attempt in range(JOIN_ATTEMPTS):
            ws = None
            try:
                ws = await self._http(address).ws_connect(f"{self.run.websocket_url}?role=listener", heartbeat=None,
                                                          max_msg_size=0)
                reply = await self._request(ws, {"action": "joinSession", "sessionId": session_id,
                                                 "targetLanguage": language}, "sessionJoined")
                return ws, reply
            except (aiohttp.WSServerHandshakeError, aiohttp.ClientConnectionError, RuntimeError, TimeoutError) as exc:
                if ws is not None:
                    await ws.close()
                status = getattr(exc, "status", 500)
                if attempt == JOIN_ATTEMPTS - 1 or (400 <= status < 500 and status != 429):
                    raise
                self.join_retries += 1
                await asyncio.sleep(min(10.0, 0.5 * 2 ** attempt))
        raise AssertionError("unreachable")

    async def _heartbeat(self, ws: aiohttp.ClientWebSocketResponse, stop: asyncio.Event) -> None:
        with contextlib.suppress(Exception):
            while not stop.is_set():
                await asyncio.sleep(60)
                await ws.send_str(json.dumps({"action": "heartbeat"}))

    async def _speaker(self, index: int, stop: asyncio.Event) -> tuple[aiohttp.ClientWebSocketResponse, str]:
        token = await self._token(f"load-speaker-{index}")
        ws = await self._http("127.0.0.1").ws_connect(f"{self.run.websocket_url}?role=speaker&token={token}", heartbeat=None)
        created = await self._request(ws, {"action": "createSession", "sourceLanguage": "en-US"}, "sessionCreated")
        # Speakers heartbeat too, from the start: joining a large audience takes minutes here, and a
        # connection silent for session:staleConnectionSeconds is swept.
        self._speaker_heartbeats.append(asyncio.create_task(self._heartbeat(ws, stop)))
        return ws, created["sessionId"]

    async def _speak(self, ws: aiohttp.ClientWebSocketResponse, session_id: str, stop: asyncio.Event) -> None:
        chunks = [_tone_chunk(i) for i in range(10)]
        started = time.monotonic()
        sequence = 0
        reader = asyncio.create_task(self._speaker_errors(ws, session_id))
        while time.monotonic() - started < self.seconds:
            sequence += 1
            if ws.closed:
                self.errors.append(f"{session_id}: speaker connection closed after {sequence - 1} chunks")
                break
            await ws.send_str(json.dumps({"action": "sendAudio", "sessionId": session_id, "sequence": sequence,
                                          "audio": chunks[sequence % len(chunks)]}))
            # Real time: the next chunk when its audio would have been spoken.
            await asyncio.sleep(max(0.0, started + sequence * CHUNK_SECONDS - time.monotonic()))
        await stop.wait()
        reader.cancel()
        await ws.close()

    async def _speaker_errors(self, ws: aiohttp.ClientWebSocketResponse, session_id: str) -> None:
        with contextlib.suppress(Exception):
            async for incoming in ws:
                body = json.loads(incoming.data)
                if body.get("type") == "error":
                    self.errors.append(f"{session_id}: {body.get('code')} {body.get('message')}")

    async def run_all(self) -> dict[str, Any]:
        stop, joined = asyncio.Event(), asyncio.Event()
        speakers = [await self._speaker(i, stop) for i in range(self.sessions)]
        ready: list = []
        limiter = asyncio.Semaphore(CONNECT_PARALLEL)
        listener_tasks = []
        connect_started = time.monotonic()
        address, used = next(self._addresses), 0
        for (_, session_id), n in itertools.product(speakers, range(self.listeners)):
            if used == JOINS_PER_ADDRESS:
                address, used = next(self._addresses), 0
            used += 1
            language = self.languages[n % len(self.languages)]
            listener_tasks.append(asyncio.create_task(
                self._listener(session_id, language, address, joined, stop, ready, limiter)))
        waiter = asyncio.create_task(joined.wait())
        await asyncio.wait([waiter, *listener_tasks], timeout=900, return_when=asyncio.FIRST_COMPLETED)
        deadline = time.monotonic() + 900
        while not joined.is_set():
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(ready)} listeners joined in 15 minutes")
            failed = [t for t in listener_tasks if t.done() and t.exception()]
            if failed:
                raise RuntimeError(f"{len(failed)} listener(s) could not join: {failed[0].exception()!r}")
            await asyncio.sleep(0.5)
        connect_seconds = time.monotonic() - connect_started
        busy0, total0 = _machine_cpu()
        run_cpu0 = self.run.cpu_seconds()
        speak_started = time.monotonic()
        speaking = [asyncio.create_task(self._speak(ws, sid, stop)) for ws, sid in speakers]
        await asyncio.sleep(self.seconds + self.drain)
        busy1, total1 = _machine_cpu()
        run_cpu = self.run.cpu_seconds() - run_cpu0
        elapsed = time.monotonic() - speak_started
        stop.set()
        for task in speaking:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)
        for task in [*listener_tasks, *self._speaker_heartbeats]:
            task.cancel()
        await asyncio.gather(*listener_tasks, return_exceptions=True)
        return {"connectSeconds": connect_seconds, "machineCpu": (busy1 - busy0) / max(1, total1 - total0),
                "localRunCpuCores": run_cpu / elapsed, "cores": os.cpu_count(),
                "sessionIds": [sid for _, sid in speakers]}


def emitted_times(state: Path) -> tuple[dict[str, float], dict[tuple[str, str], int], dict[str, list[float]]]:
    """segmentId -> emittedAt, (segmentId, language) -> listeners the TranslationProcessor reports delivered
    (shard invocations add theirs), and its phase timings (ms), from its log lines."""
    emitted: dict[str, float] = {}
    delivered: dict[tuple[str, str], int] = defaultdict(int)
    phases: dict[str, list[float]] = defaultdict(list)
    for log in (state / "logs").glob("*translation*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if '"segment processed"' not in line and '"shard posted"' not in line:
                continue
            with contextlib.suppress(ValueError):
                entry = json.loads(line[line.index("{"):])
                segment = entry.get("segmentId")
                if entry.get("message") == "segment processed":
                    if entry.get("emittedAt"):
                        emitted[segment] = float(entry["emittedAt"])
                    for phase, ms in (entry.get("timings") or {}).items():
                        phases[phase].append(float(ms))
                    for language, figures in (entry.get("languages") or {}).items():
                        delivered[(segment, language)] += int(figures.get("delivered", 0))
                        phases["broadcast"].append(float(figures.get("broadcastMs", 0)))
                elif entry.get("message") == "shard posted":
                    delivered[(segment, entry.get("targetLanguage"))] += int(entry.get("delivered", 0))
    return emitted, delivered, phases


def analyse(received: list[Received], emitted: dict[str, float], delivered: dict[tuple[str, str], int]) -> dict[str, Any]:
    """Lost, out-of-order and latency figures from what the listeners received."""
    expected: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in received:
        for _, body in r.messages:
            expected[(r.session_id, r.language)].add(body["segmentId"])
    for (segment, language), count in delivered.items():
        if count:
            expected[(segment.rsplit("#", 1)[0], language)].add(segment)
    lost, out_of_order, incomplete, duplicates = 0, 0, 0, 0
    latencies: list[float] = []
    for r in received:
        by_segment: dict[str, list[tuple[float, dict[str, Any]]]] = defaultdict(list)
        for when, body in r.messages:
            by_segment[body["segmentId"]].append((when, body))
        for segment in expected[(r.session_id, r.language)]:
            got = by_segment.get(segment)
            if not got:
                lost += 1
                continue
            kinds = [(b["type"], b["part"]) for _, b in got]
            if len(set(kinds)) != len(kinds):
                duplicates += 1
            captions = [b for _, b in got if b["type"] == "caption"]
            audio = [b for _, b in got if b["type"] == "audio"]
            wanted = [("caption", p) for p in range(1, captions[0]["parts"] + 1)] if captions else [("caption", 1)]
            if audio:
                wanted += [("audio", p) for p in range(1, audio[0]["parts"] + 1)]
            if [k for k in dict.fromkeys(kinds)] != wanted:
                if sorted(set(kinds)) == sorted(wanted):
                    out_of_order += 1
                else:
                    incomplete += 1
            if segment in emitted:
                latencies.append((max(when for when, _ in got) - emitted[segment]) * 1000)
    latencies.sort()

    def pct(q: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(q * (len(latencies) - 1)))], 1) if latencies else None

    return {"segments": len({s for segs in expected.values() for s in segs}),
            "deliveries": sum(len(expected[(r.session_id, r.language)]) for r in received),
            "lost": lost + incomplete, "incomplete": incomplete, "outOfOrder": out_of_order, "duplicates": duplicates,
            "latencyMs": {"p50": pct(0.5), "p95": pct(0.95), "max": latencies[-1] if latencies else None,
                          "samples": len(latencies)},
            "closedEarly": sum(r.closed_early for r in received)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _main(args: argparse.Namespace, run: LocalRun) -> dict[str, Any]:
    test = LoadTest(run, args.sessions, args.listeners, [x.strip() for x in args.languages.split(",") if x.strip()],
                    args.seconds, args.drain)
    try:
        figures = await test.run_all()
    finally:
        await test.close()
    emitted, delivered, phases = emitted_times(run.state)
    figures.update(analyse(test.received, emitted, delivered))
    figures["processorMs"] = {phase: {"p50": round(statistics.median(v), 1), "max": round(max(v), 1)}
                              for phase, v in phases.items() if v}
    figures["speakerErrors"] = test.errors[:20]
    figures["joinRetries"] = test.join_retries
    figures["listeners"] = len(test.received)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--listeners", type=int, default=500, help="per session")
    parser.add_argument("--seconds", type=float, default=120.0, help="each speaker talks this long")
    parser.add_argument("--drain", type=float, default=20.0, help="seconds to wait for the last segments")
    parser.add_argument("--languages", default="es,fr")
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state", type=Path, default=None, help="keep the local run's state and logs here")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    state = args.state or Path(tempfile.mkdtemp(prefix="load-test-"))
    run = LocalRun(args.stack, args.port or _free_port(), state)
    started = time.monotonic()
    run.start()
    print(f"local run ready in {time.monotonic() - started:.1f} s: {run.websocket_url}", flush=True)
    try:
        figures = asyncio.run(_main(args, run))
    finally:
        run.stop()
    latency = figures["latencyMs"]
    print(f"{args.sessions} sessions x {args.listeners} listeners ({figures['listeners']} joined in "
          f"{figures['connectSeconds']:.1f} s, {figures['joinRetries']} handshake/join retries), speaking {args.seconds:g} s each, languages {args.languages}:")
    print(f"  segments {figures['segments']}, deliveries expected {figures['deliveries']}: lost {figures['lost']} "
          f"(incomplete {figures['incomplete']}), out of order {figures['outOfOrder']}, duplicates {figures['duplicates']}, "
          f"connections closed early {figures['closedEarly']}")
    print(f"  delivery latency (segment emitted -> listener received) p50 {latency['p50']} ms, p95 {latency['p95']} ms, "
          f"max {latency['max'] and round(latency['max'], 1)} ms over {latency['samples']} deliveries")
    print(f"  CPU: machine {figures['machineCpu']:.0%} of {figures['cores']} cores; local run {figures['localRunCpuCores']:.2f} cores")
    print("  TranslationProcessor per segment (ms, p50/max): " + ", ".join(
        f"{phase} {v['p50']:g}/{v['max']:g}" for phase, v in figures["processorMs"].items()))
    if figures["speakerErrors"]:
        print(f"  speaker errors: {figures['speakerErrors']}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if figures["lost"] == 0 and figures["outOfOrder"] == 0 and figures["segments"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

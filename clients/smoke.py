"""Smoke test of a running stack: a speaker streams a recording, listeners hear it, the controls work.

    python -m clients.smoke --stack dev                 # a deployed stack (reads `pulumi stack output --json`)
    python -m clients.smoke --local http://127.0.0.1:8787   # local mode (reads its /config.json)

Steps: sign in a test user (Cognito USER_PASSWORD_AUTH, or the local issuer); the speaker
creates a session; one listener per target language joins; the speaker streams the recording in
real time as 100 ms `sendAudio` chunks; every listener must receive captions and audio; then
`pause` must stop delivery (chunks refused, nothing new arrives), `resume` must bring it back;
`end` ends the session for everyone. Prints latency figures and exits non-zero on any failure.
For a deployed stack the test user comes from --username/--password (or SMOKE_USERNAME,
SMOKE_PASSWORD); without them a temporary user is created with the Cognito admin API and
deleted afterwards (needs AWS credentials allowed to manage the pool's users).

Only docs/protocol.md is assumed: the wire code below is a small client of that protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import aiohttp

from clients.audio import load_pcm16

SAMPLE_RATE = 16000
CHUNK_SECONDS = 0.1
CHUNK_BYTES = int(SAMPLE_RATE * CHUNK_SECONDS) * 2
DEFAULT_RECORDING = Path(__file__).resolve().parent.parent / "local" / "data" / "speech-en-us.flac"


class SmokeFailure(Exception):
    """A check failed; the message says which and why."""


class ProtocolError(Exception):
    """An `error` reply (docs/protocol.md envelope)."""

    def __init__(self, reply: dict[str, Any]) -> None:
        super().__init__(f"{reply.get('code')}: {reply.get('message')}")
        self.code = reply.get("code")
        self.reply = reply


# ---------------------------------------------------------------- where the stack is, how to sign in

@dataclass
class Target:
    """A running stack as a client sees it."""

    description: str
    websocket_url: str
    region: str
    stack: str
    auth: dict[str, Any]
    base_url: Optional[str] = None  # local mode: where config.json and /local/token are
    web_url: Optional[str] = None  # where the web client is served, if it is


def target_from_local(base_url: str) -> Target:
    """Local mode: its /config.json says everything (docs: local run contract)."""
    base = base_url.rstrip("/") + "/"
    with urllib.request.urlopen(urllib.parse.urljoin(base, "config.json"), timeout=10) as response:
        config = json.load(response)
    return Target(f"local {base_url}", config["websocketUrl"], config.get("region", "us-east-1"),
                  config.get("stack", "?"), config["auth"], base, base)


def target_from_stack(stack: str, cwd: Optional[Path] = None) -> Target:
    """A deployed stack: its outputs, as `pulumi stack output --json` prints them."""
    if not shutil.which("pulumi"):
        raise SmokeFailure("the pulumi CLI is not installed (needed to read the stack outputs)")
    done = subprocess.run(["pulumi", "stack", "output", "--json", "--stack", stack], cwd=cwd,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SmokeFailure(f"pulumi stack output failed: {done.stderr.strip()}")
    return target_from_outputs(stack, json.loads(done.stdout))


def target_from_outputs(stack: str, outputs: dict[str, Any]) -> Target:
    """The Target of a stack's outputs (websocket_url, user_pool_id, user_pool_client_id)."""
    missing = [k for k in ("websocket_url", "user_pool_id", "user_pool_client_id") if not outputs.get(k)]
    if missing:
        raise SmokeFailure(f"stack {stack} has no output {', '.join(missing)}: is it deployed?")
    region = outputs["user_pool_id"].split("_", 1)[0]
    return Target(f"stack {stack}", outputs["websocket_url"], region, stack,
                  {"kind": "cognito", "userPoolId": outputs["user_pool_id"], "clientId": outputs["user_pool_client_id"]},
                  web_url=outputs.get("web_url"))


def check_web_client(target: Target) -> str:
    """The pages are served and their config.json points at this stack; a line for the report."""
    base = (target.web_url or "").rstrip("/") + "/"
    for page in ("speaker.html", "listener.html"):
        try:
            with urllib.request.urlopen(urllib.parse.urljoin(base, page), timeout=15) as response:
                if b"<html" not in response.read(4096).lower():
                    raise SmokeFailure(f"{base}{page} is not an HTML page")
        except urllib.error.URLError as error:
            raise SmokeFailure(f"web client: {base}{page}: {error}") from None
    with urllib.request.urlopen(urllib.parse.urljoin(base, "config.json"), timeout=15) as response:
        config = json.load(response)
    if config.get("websocketUrl") != target.websocket_url:
        raise SmokeFailure(f"web client's config.json points at {config.get('websocketUrl')}, the stack at {target.websocket_url}")
    return f"web client served at {base} with this stack's config.json"


def _post_json(url: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:300]
        raise SmokeFailure(f"POST {url} answered {error.code}: {detail}") from None


def cognito_endpoint(region: str) -> str:
    """Cognito's user-pool API; AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER overrides it as it does for boto3."""
    return os.environ.get("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER") or f"https://cognito-idp.{region}.amazonaws.com/"


class TestUser:
    """Signs a test user in; for Cognito, creates a temporary one unless credentials are given."""

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, target: Target, username: Optional[str], password: Optional[str]) -> None:
        self.target = target
        self.username = username
        self.password = password
        self.created = False

    def sign_in(self) -> str:
        """An access token for the speaker (the authorizer accepts access tokens only)."""
        auth = self.target.auth
        if auth["kind"] == "local":
            self.username = self.username or f"smoke-{secrets.token_hex(3)}"
            url = urllib.parse.urljoin(self.target.base_url or "", auth["tokenUrl"])
            body = _post_json(url, {"username": self.username}, {"Content-Type": "application/json"})
            return body["accessToken"]
        if not (self.username and self.password):
            self._create_temporary_user()
        body = _post_json(
            cognito_endpoint(self.target.region),
            {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": auth["clientId"],
             "AuthParameters": {"USERNAME": self.username, "PASSWORD": self.password}},
            {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"})
        if "AuthenticationResult" not in body:
            raise SmokeFailure(f"sign-in needs a challenge the smoke test cannot answer: {body.get('ChallengeName')}")
        return body["AuthenticationResult"]["AccessToken"]

    def _create_temporary_user(self) -> None:
        import boto3  # only needed for a deployed stack without given credentials

        cognito = boto3.client("cognito-idp", region_name=self.target.region)
        self.username = f"smoke-{secrets.token_hex(4)}"
        # Meets the pool's policy: length >= 12, upper, lower, digits.
        self.password = f"Smoke-{secrets.token_urlsafe(12)}-a1B"
        pool = self.target.auth["userPoolId"]
        cognito.admin_create_user(UserPoolId=pool, Username=self.username, MessageAction="SUPPRESS")
        self.created = True
        cognito.admin_set_user_password(UserPoolId=pool, Username=self.username, Password=self.password, Permanent=True)

    def clean_up(self) -> None:
        """Delete the temporary user, if one was made."""
        if self.created:
            import boto3

            boto3.client("cognito-idp", region_name=self.target.region).admin_delete_user(
                UserPoolId=self.target.auth["userPoolId"], Username=self.username)
            self.created = False


# ---------------------------------------------------------------- the wire: one WebSocket, docs/protocol.md

@dataclass
class Received:
    """A message with the monotonic time it arrived."""

    at: float
    message: dict[str, Any]


class Wire:
    """One connection: requests with replies, and every message kept with its arrival time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ws: Optional[aiohttp.ClientWebSocketResponse] = None
        self.received: list[Received] = []
        self._new = asyncio.Event()
        self._waiters: dict[str, asyncio.Future] = {}
        self._counter = 0
        self._reader: Optional[asyncio.Task] = None

    async def connect(self, session: aiohttp.ClientSession, url: str, role: str, token: Optional[str]) -> None:
        query = {"role": role, **({"token": token} if token else {})}
        full = f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(query)}"
        try:
            self.ws = await session.ws_connect(full, heartbeat=None, max_msg_size=0)
        except aiohttp.WSServerHandshakeError as error:
            raise SmokeFailure(f"{self.name}: handshake refused with HTTP {error.status}") from None
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for frame in self.ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            self.received.append(Received(time.monotonic(), message))
            waiter = self._waiters.pop(message.get("requestId", ""), None)
            if waiter and not waiter.done():
                waiter.set_result(message)
            self._new.set()

    async def request(self, action: str, timeout: float = 20, **fields: Any) -> dict[str, Any]:
        """Send an action; its reply, or ProtocolError for an `error` reply."""
        self._counter += 1
        request_id = f"smoke-{self.name}-{self._counter}"
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[request_id] = waiter
        await self.send({"action": action, **fields, "requestId": request_id})
        try:
            reply = await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            raise SmokeFailure(f"{self.name}: no reply to {action} within {timeout:g} s") from None
        if reply.get("type") == "error":
            raise ProtocolError(reply)
        return reply

    async def send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps(message))

    def messages(self, predicate: Callable[[dict[str, Any]], bool], since: float = 0.0) -> list[Received]:
        """Messages received at or after `since` that match."""
        return [r for r in self.received if r.at >= since and predicate(r.message)]

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float, since: float = 0.0,
                       what: str = "a message") -> Received:
        """The first matching message at or after `since`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages(predicate, since)
            if found:
                return found[0]
            left = deadline - time.monotonic()
            if left <= 0:
                raise SmokeFailure(f"{self.name}: no {what} within {timeout:g} s")
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), left)
            except TimeoutError:
                pass

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        if self._reader:
            await asyncio.gather(self._reader, return_exceptions=True)


def carries_audio(language: str) -> Callable[[dict[str, Any]], bool]:
    """A predicate: an `audio` part, or a caption with the segment's audio inside (docs/protocol.md)."""
    return lambda m: m.get("language") == language and (
        m.get("type") == "audio" or (m.get("type") == "caption" and isinstance(m.get("audio"), dict)))


def is_type(kind: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    """A predicate: message of this type with these field values."""
    return lambda m: m.get("type") == kind and all(m.get(k) == v for k, v in fields.items())


# ---------------------------------------------------------------- audio

def load_recording(path: Optional[Path]) -> bytes:
    """16 kHz mono PCM16 of a WAV/FLAC/OGG file (default: the shipped English recording)."""
    path = path or DEFAULT_RECORDING
    if not path.is_file():
        raise SmokeFailure(f"{path}: no such recording")
    try:
        pcm = load_pcm16(path)
    except (ValueError, RuntimeError) as error:
        raise SmokeFailure(f"{path}: {error}") from None
    if len(pcm) < CHUNK_BYTES * 10:
        raise SmokeFailure(f"{path}: the recording is shorter than one second")
    return pcm


def chunks(pcm: bytes) -> list[bytes]:
    """100 ms chunks; a short tail is padded with silence (the protocol needs 50-200 ms)."""
    out = [pcm[i:i + CHUNK_BYTES] for i in range(0, len(pcm), CHUNK_BYTES)]
    if out and len(out[-1]) < CHUNK_BYTES:
        out[-1] = out[-1] + bytes(CHUNK_BYTES - len(out[-1]))
    return out


# ---------------------------------------------------------------- the smoke test

@dataclass
class Options:
    """What to test with."""

    source_language: str = "en-US"
    target_languages: tuple[str, ...] = ("es", "en")
    audio: Optional[Path] = None
    username: Optional[str] = None
    password: Optional[str] = None
    delivery_timeout: float = 45.0
    # Longer than the stack's transcription:maxBufferTimeout (5-7 s), after which held words are emitted.
    quiet_seconds: float = 8.0


@dataclass
class Report:
    """What the run found: passed checks, figures, the failure if any."""

    target: str
    session_id: Optional[str] = None
    checks: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    failure: Optional[str] = None

    @property
    def passed(self) -> bool:
        return self.failure is None

    def ok(self, text: str) -> None:
        self.checks.append(text)
        print(f"ok    {text}", flush=True)


class Smoke:
    """One run against one target."""

    def __init__(self, target: Target, options: Options) -> None:
        self.target = target
        self.options = options
        self.report = Report(target.description)
        self.speaker = Wire("speaker")
        self.listeners = {language: Wire(f"listener-{language}") for language in options.target_languages}
        self.sequence = 0
        self.session_id: Optional[str] = None
        self.ended = False

    async def run(self) -> Report:
        user = TestUser(self.target, self.options.username or os.environ.get("SMOKE_USERNAME"),
                        self.options.password or os.environ.get("SMOKE_PASSWORD"))
        pcm = load_recording(self.options.audio)
        try:
            async with aiohttp.ClientSession() as http:
                try:
                    await self._steps(http, user, pcm)
                finally:
                    await self._clean_up()
        except (SmokeFailure, ProtocolError) as failure:
            self.report.failure = str(failure)
        finally:
            user.clean_up()
        return self.report

    async def _steps(self, http: aiohttp.ClientSession, user: TestUser, pcm: bytes) -> None:
        report, options = self.report, self.options
        if self.target.web_url:
            report.ok(check_web_client(self.target))
        started = time.monotonic()
        token = user.sign_in()
        report.ok(f"signed in as {user.username} ({self.target.auth['kind']}) in {time.monotonic() - started:.2f} s")

        await self.speaker.connect(http, self.target.websocket_url, "speaker", token)
        created = await self.speaker.request("createSession", sourceLanguage=options.source_language)
        self.session_id = report.session_id = created["sessionId"]
        report.ok(f"session {self.session_id} created ({created['sourceLanguage']})")

        for language, wire in self.listeners.items():
            try:
                await wire.connect(http, self.target.websocket_url, "listener", None)
            except SmokeFailure:  # the stack may not allow anonymous listeners
                await wire.connect(http, self.target.websocket_url, "listener", token)
            joined = await wire.request("joinSession", sessionId=self.session_id, targetLanguage=language)
            if joined["targetLanguage"] != language:
                raise SmokeFailure(f"joined in {joined['targetLanguage']}, asked for {language}")
        report.ok(f"{len(self.listeners)} listeners joined ({', '.join(self.listeners)})")

        for wire in [self.speaker, *self.listeners.values()]:
            ack = await wire.request("heartbeat")
            if ack["type"] != "heartbeatAck" or ack.get("sessionId") != self.session_id:
                raise SmokeFailure(f"{wire.name}: unexpected heartbeat reply {ack}")
        status = await self.speaker.request("getSessionStatus", sessionId=self.session_id)
        if status["listenerCount"] != len(self.listeners) or set(status["languages"]) != set(self.listeners):
            raise SmokeFailure(f"session status counts {status['listenerCount']} listeners in {status['languages']}")
        report.ok(f"heartbeats acknowledged; status shows {status['listenerCount']} listeners in {sorted(status['languages'])}")

        # 1. Speech reaches every listener as captions and audio.
        first_chunk, last_chunk = await self._stream(pcm)
        report.ok(f"streamed {len(pcm) / 2 / SAMPLE_RATE:.1f} s of audio as {len(chunks(pcm))} chunks")
        for language, wire in self.listeners.items():
            await wire.wait_for(is_type("caption", language=language), options.delivery_timeout, first_chunk, f"caption in {language}")
            await wire.wait_for(carries_audio(language), options.delivery_timeout, first_chunk, f"audio in {language}")
        # The last words of a phrase may wait for the end of speech (or MAX_BUFFER_TIMEOUT): let them come.
        await self._drain(first_chunk)
        for language, wire in self.listeners.items():
            captions = wire.messages(is_type("caption", language=language), first_chunk)
            audios = wire.messages(carries_audio(language), first_chunk)
            report.figures[f"{language}.first_caption_s"] = round(captions[0].at - first_chunk, 3)
            report.figures[f"{language}.first_audio_s"] = round(audios[0].at - first_chunk, 3)
            report.figures[f"{language}.last_delivery_after_speech_s"] = round(max(r.at for r in captions + audios) - last_chunk, 3)
            self._check_audio(language, audios)
            texts = " | ".join(r.message["text"] for r in captions)
            report.ok(f"{language}: {len(captions)} captions, {len({r.message['segmentId'] for r in audios})} voiced segments: {texts[:120]}")

        # 2. Pause stops delivery: audio is refused, nothing new arrives.
        before_pause = self._max_sequence()
        paused_at = time.monotonic()
        paused = await self.speaker.request("speakerControl", sessionId=self.session_id, command="pause")
        if not paused.get("paused"):
            raise SmokeFailure(f"pause was not applied: {paused}")
        for wire in self.listeners.values():
            await wire.wait_for(is_type("sessionUpdate", event="paused"), 10, paused_at, "sessionUpdate paused")
        # Speech said before the pause is still delivered: the worker flushes its last words when
        # the pause ends its stream (docs/protocol.md). Wait for that to drain first.
        drained = await self._drain(paused_at)
        report.figures["pause_flush_s"] = round(drained - paused_at, 3)
        quiet_from = time.monotonic()
        sent_while_paused = self.sequence + 1
        await self._stream(pcm[:CHUNK_BYTES * 20])
        refusal = await self.speaker.wait_for(
            lambda m: m.get("type") == "error" and m.get("code") == "SESSION_PAUSED" and m.get("sequence", 0) >= sent_while_paused,
            10, quiet_from, "SESSION_PAUSED refusal")
        await asyncio.sleep(options.quiet_seconds)
        for language, wire in self.listeners.items():
            leaked = wire.messages(lambda m: m.get("type") in ("caption", "audio"), quiet_from)
            if leaked:
                raise SmokeFailure(f"{language}: {len(leaked)} messages delivered while paused "
                                   f"(sequences {sorted({r.message['sequence'] for r in leaked})})")
        report.ok(f"pause: listeners told, audio refused ({refusal.message['code']}), nothing delivered for "
                  f"{time.monotonic() - quiet_from:.1f} s")

        # 3. Resume brings delivery back.
        resumed = await self.speaker.request("speakerControl", sessionId=self.session_id, command="resume")
        if resumed.get("paused"):
            raise SmokeFailure(f"resume was not applied: {resumed}")
        for wire in self.listeners.values():
            await wire.wait_for(is_type("sessionUpdate", event="resumed"), 10, what="sessionUpdate resumed")
        paused_at = self._max_sequence()
        resume_chunk, _ = await self._stream(pcm)
        for language, wire in self.listeners.items():
            await wire.wait_for(lambda m, lang=language: m.get("type") == "caption" and m.get("language") == lang
                                and m.get("sequence", 0) > max(paused_at, before_pause),
                                options.delivery_timeout, resume_chunk, f"caption in {language} after resume")
        report.ok("resume: captions flow again in every language")

        # 4. End: everyone is told.
        ended = await self.speaker.request("speakerControl", sessionId=self.session_id, command="end")
        self.ended = True
        for wire in self.listeners.values():
            await wire.wait_for(is_type("sessionEnded", reason="speakerEnded"), 15, what="sessionEnded")
        report.ok(f"end: session {ended.get('status', 'ended')}, every listener got sessionEnded")

    async def _stream(self, pcm: bytes) -> tuple[float, float]:
        """Send the audio in real time; returns when the first and the last chunk went out."""
        first = last = time.monotonic()
        for index, chunk in enumerate(chunks(pcm)):
            self.sequence += 1
            last = time.monotonic()
            if index == 0:
                first = last
            await self.speaker.send({"action": "sendAudio", "sessionId": self.session_id, "sequence": self.sequence,
                                     "audio": base64.b64encode(chunk).decode()})
            await asyncio.sleep(max(0.0, first + (index + 1) * CHUNK_SECONDS - time.monotonic()))
        refused = self.speaker.messages(lambda m: m.get("type") == "error" and m.get("code") not in ("SESSION_PAUSED", "SESSION_MUTED"), first)
        if refused:
            raise SmokeFailure(f"audio refused: {refused[0].message}")
        return first, last

    async def _drain(self, since: float) -> float:
        """Wait until no listener has had a caption or audio for `quiet_seconds` (at most the
        delivery timeout); returns when the last one arrived."""
        deadline = time.monotonic() + self.options.delivery_timeout
        while True:
            latest = max((r.at for wire in self.listeners.values()
                          for r in wire.messages(lambda m: m.get("type") in ("caption", "audio"), since)), default=since)
            if time.monotonic() - latest >= self.options.quiet_seconds:
                return latest
            if time.monotonic() > deadline:
                raise SmokeFailure(f"delivery did not stop within {self.options.delivery_timeout:g} s of the pause")
            await asyncio.sleep(0.25)

    def _check_audio(self, language: str, audios: list[Received]) -> None:
        """Every voiced segment arrived whole: parts 1..n, each once, decodable base64."""
        by_segment: dict[str, list[dict[str, Any]]] = {}
        for r in audios:
            if r.message["type"] == "caption":  # the segment's whole audio inside its caption
                if not base64.b64decode(r.message["audio"].get("data", "")):
                    raise SmokeFailure(f"{language}: segment {r.message['segmentId']} has empty audio in its caption")
                continue
            by_segment.setdefault(r.message["segmentId"], []).append(r.message)
        for segment, parts in by_segment.items():
            numbers = sorted(p["part"] for p in parts)
            if numbers != list(range(1, parts[0]["parts"] + 1)):
                raise SmokeFailure(f"{language}: segment {segment} audio parts {numbers} of {parts[0]['parts']}")
            if not all(base64.b64decode(p["data"]) for p in parts):
                raise SmokeFailure(f"{language}: segment {segment} has an empty audio part")

    def _max_sequence(self) -> int:
        return max((r.message.get("sequence", 0) for wire in self.listeners.values()
                    for r in wire.messages(lambda m: m.get("type") in ("caption", "audio"))), default=0)

    async def _clean_up(self) -> None:
        if self.session_id and not self.ended and self.speaker.ws is not None and not self.speaker.ws.closed:
            try:
                await self.speaker.request("speakerControl", sessionId=self.session_id, command="end", timeout=10)
                self.ended = True
            except (SmokeFailure, ProtocolError):
                pass
        for wire in [*self.listeners.values(), self.speaker]:
            await wire.close()


def main(argv: Optional[list[str]] = None) -> int:
    """Run the smoke test; exit 0 when every check passed."""
    parser = argparse.ArgumentParser(prog="python -m clients.smoke", description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="a deployed stack: read `pulumi stack output --json --stack STACK`")
    where.add_argument("--local", metavar="URL", help="local mode, e.g. http://127.0.0.1:8787")
    parser.add_argument("--source-language", default="en-US")
    parser.add_argument("--languages", default="es,en", help="listener languages, comma-separated (default es,en)")
    parser.add_argument("--audio", type=Path, help="a WAV/FLAC/OGG recording (default: local/data/speech-en-us.flac)")
    parser.add_argument("--username", help="Cognito test user (or SMOKE_USERNAME); default: a temporary user")
    parser.add_argument("--password", help="its password (or SMOKE_PASSWORD)")
    parser.add_argument("--timeout", type=float, default=45.0, help="seconds to wait for delivery")
    parser.add_argument("--quiet", type=float, default=8.0,
                        help="seconds without delivery that count as drained (above transcription:maxBufferTimeout)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON at the end")
    args = parser.parse_args(argv)
    options = Options(source_language=args.source_language,
                      target_languages=tuple(x.strip() for x in args.languages.split(",") if x.strip()),
                      audio=args.audio, username=args.username, password=args.password, delivery_timeout=args.timeout,
                      quiet_seconds=args.quiet)
    try:
        target = target_from_local(args.local) if args.local else target_from_stack(args.stack)
    except (SmokeFailure, OSError) as error:
        print(f"smoke: cannot reach the stack: {error}", file=sys.stderr)
        return 2
    print(f"smoke: {target.description} (stack {target.stack}, {target.websocket_url})", flush=True)
    report = asyncio.run(Smoke(target, options).run())
    for name, value in report.figures.items():
        print(f"latency {name} = {value:.3f}")
    if args.json:
        print(json.dumps({"passed": report.passed, "sessionId": report.session_id, "checks": report.checks,
                          "figures": report.figures, "failure": report.failure}))
    if report.passed:
        print(f"smoke: PASSED ({len(report.checks)} checks)")
        return 0
    print(f"smoke: FAILED: {report.failure}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())

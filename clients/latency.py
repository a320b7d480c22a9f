"""Per-word latency and delivery checks of a running backend: ``python -m clients.latency [--url ws://127.0.0.1:8787/ws]``.

(The stack smoke test with its controls and clean-up is ``python -m clients.smoke``.)

One speaker streams the shipped English recording (``local/data/speech-en-us.flac``) in real
time while ``--listeners`` listeners (round robin over ``--languages``) listen. Then it checks
what the protocol promises: every listener received captions, every listener of a language the
same segments as the others, no caption without its text, and every segment's audio decodes.

Latency per word: the recording comes with each word's end time (forced alignment,
``speech-en-us.words.json``). The captions of a listener in the speaker's own language are the
recognised words; aligned to the transcript they tell which words each segment (``sequence``)
carries, in every language. A word's latency is the arrival of its segment's caption (or the
last part of its audio) at a listener minus the moment the speaker's audio reached the end of
that word. Prints p50/p95 over every word at every listener; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import io
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from clients import protocol
from clients.audio import load_pcm16
from clients.command import run_command
from clients.common import Connection, add_target_arguments, log, open_connection, resolve
from clients.speaker import Speaker

DATA = Path(__file__).resolve().parent.parent / "local" / "data"


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m clients.latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", default=str(DATA / "speech-en-us.flac"), help="speech to stream")
    parser.add_argument("--words", default=str(DATA / "speech-en-us.words.json"), help="its word timings")
    parser.add_argument("--language", default="en-US", help="the speaker's language")
    parser.add_argument("--listeners", type=int, default=3)
    parser.add_argument("--languages", default="en,es,ca", help="listener languages, round robin")
    parser.add_argument("--linger", type=float, default=10.0, help="seconds to wait after the speech for the last segments")
    parser.add_argument("--login", action="store_true", help="listeners sign in too")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_target_arguments(parser)
    return parser.parse_args(argv)


@dataclass
class Inbox:
    """What one listener received."""

    language: str
    captions: dict[int, tuple[float, dict[str, Any]]] = field(default_factory=dict)  # sequence -> (arrival, caption)
    audio: dict[int, tuple[float, dict[str, Any], bytes]] = field(default_factory=dict)
    arrival_order: list[int] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    assembler: protocol.AudioAssembler = field(default_factory=protocol.AudioAssembler)

    async def on_push(self, message: dict[str, Any], received: float) -> None:
        """Record captions (first part), whole audio segments, errors and the end."""
        kind = message.get("type")
        if kind == "caption" and int(message.get("part", 1)) == 1:
            sequence = int(message["sequence"])
            if sequence not in self.captions:
                self.captions[sequence] = (received, message)
                self.arrival_order.append(sequence)
        if kind in ("caption", "audio"):  # a caption may carry its segment's audio
            done = self.assembler.add(message)
            if done is not None:
                info, data = done
                self.audio.setdefault(int(info["sequence"]), (received, info, data))
        elif kind == "error":
            self.errors.append(message)
        elif kind == "sessionEnded":
            self.ended.set()


def words_of(text: str) -> list[str]:
    """Lower-case words without punctuation."""
    return re.findall(r"[a-z0-9']+", text.lower())


def word_ends_by_sequence(inbox: Inbox, reference: list[dict[str, Any]]) -> dict[int, list[float]]:
    """Each segment's word end times in the audio, from the speaker-language captions aligned to the transcript."""
    heard: list[tuple[str, int]] = []
    for sequence in sorted(inbox.captions):
        heard.extend((word, sequence) for word in words_of(inbox.captions[sequence][1].get("text", "")))
    ref_words = [w["word"] for w in reference]
    matcher = difflib.SequenceMatcher(a=ref_words, b=[w for w, _ in heard], autojunk=False)
    ends: dict[int, list[float]] = {}
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            sequence = heard[block.b + offset][1]
            ends.setdefault(sequence, []).append(float(reference[block.a + offset]["end"]))
    return ends


def decodes(info: dict[str, Any], data: bytes) -> bool:
    """True when the audio is a playable file of its format (pcm: whole samples)."""
    if info.get("format") == "pcm":
        return len(data) > 0 and len(data) % 2 == 0
    import soundfile

    try:
        samples, _ = soundfile.read(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - any decoder failure is the answer
        return False
    return len(samples) > 0


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (nearest rank), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 3)


def summarise(inboxes: list[Inbox], speech_start: float, reference: list[dict[str, Any]], source: str,
              speaker_errors: list[dict[str, Any]]) -> dict[str, Any]:
    """Checks and figures."""
    primary = source.split("-")[0].lower()
    failures: list[str] = []
    by_language: dict[str, set[int]] = {}
    for inbox in inboxes:
        by_language.setdefault(inbox.language, set()).update(inbox.captions)
    audio_ok = audio_total = 0
    in_order = 0
    for index, inbox in enumerate(inboxes):
        name = f"listener {index + 1} ({inbox.language})"
        if not inbox.captions:
            failures.append(f"{name} received no caption")
        missing = by_language[inbox.language] - set(inbox.captions)
        if missing:
            failures.append(f"{name} missed segments {sorted(missing)}")
        if any(not c.get("text") for _, c in inbox.captions.values()):
            failures.append(f"{name} received an empty caption")
        if inbox.arrival_order == sorted(inbox.arrival_order):
            in_order += 1
        for _, info, data in inbox.audio.values():
            audio_total += 1
            audio_ok += decodes(info, data)
        if inbox.errors:
            failures.append(f"{name} received errors: {inbox.errors[:2]}")
    if audio_total != audio_ok:
        failures.append(f"{audio_total - audio_ok} of {audio_total} audio segments do not decode")
    if speaker_errors:
        failures.append(f"the speaker got errors: {speaker_errors[:2]}")
    own_inbox = next((i for i in inboxes if i.language.split("-")[0].lower() == primary), None)
    caption_lat: list[float] = []
    audio_lat: list[float] = []
    if own_inbox is not None:
        ends = word_ends_by_sequence(own_inbox, reference)
        for inbox in inboxes:
            for sequence, word_ends in ends.items():
                if sequence in inbox.captions:
                    caption_lat += [inbox.captions[sequence][0] - (speech_start + end) for end in word_ends]
                if sequence in inbox.audio:
                    audio_lat += [inbox.audio[sequence][0] - (speech_start + end) for end in word_ends]
    recognised = sum(len(words_of(c.get("text", ""))) for _, c in own_inbox.captions.values()) if own_inbox else None
    return {
        "ok": not failures, "failures": failures, "listeners": len(inboxes),
        "segmentsPerLanguage": {lang: len(seqs) for lang, seqs in sorted(by_language.items())},
        "listenersWithCaptionsInSequenceOrder": in_order, "audioSegments": audio_total, "audioDecoded": audio_ok,
        "wordsRecognised": recognised, "wordsSpoken": len(reference), "wordLatencyBasis": primary if own_inbox else None,
        "captionWordLatency": {"p50": percentile(caption_lat, 0.5), "p95": percentile(caption_lat, 0.95),
                               "n": len(caption_lat)},
        "audioWordLatency": {"p50": percentile(audio_lat, 0.5), "p95": percentile(audio_lat, 0.95), "n": len(audio_lat)},
    }


async def run(args: argparse.Namespace) -> int:
    """Speaker and listeners against the target; the summary on stdout."""
    pcm = load_pcm16(args.file)
    reference = json.loads(Path(args.words).read_text())["words"]
    languages = [code.strip() for code in args.languages.split(",") if code.strip()]
    if args.listeners < 1 or not languages:
        raise SystemExit("need at least one listener and one language")
    async with aiohttp.ClientSession() as http:
        url, token = await resolve(http, args, need_token=True)
        speaker_errors: list[dict[str, Any]] = []

        async def speaker_push(message: dict[str, Any], _received: float) -> None:
            if protocol.is_error(message):
                speaker_errors.append(message)

        sockets: list[aiohttp.ClientWebSocketResponse] = []
        tasks: list[asyncio.Task[None]] = []
        try:
            ws = await open_connection(http, url, "speaker", token)
            sockets.append(ws)
            speaker_connection = Connection(ws, speaker_push)
            tasks.append(asyncio.create_task(speaker_connection.read()))
            created = await speaker_connection.request(protocol.create_session, args.language)
            if created.get("type") != "sessionCreated":
                raise SystemExit(f"createSession failed: {created}")
            session_id = created["sessionId"]
            log(f"session {session_id}")
            inboxes: list[Inbox] = []
            for index in range(args.listeners):
                inbox = Inbox(languages[index % len(languages)])
                listener_token = None
                if args.login:
                    listener_args = argparse.Namespace(**{**vars(args), "username": f"listener{index + 1}", "token": None})
                    _, listener_token = await resolve(http, listener_args, need_token=True)
                lws = await open_connection(http, url, "listener", listener_token)
                sockets.append(lws)
                connection = Connection(lws, inbox.on_push)
                tasks.append(asyncio.create_task(connection.read()))
                joined = await connection.request(protocol.join_session, session_id, inbox.language)
                if joined.get("type") != "sessionJoined":
                    raise SystemExit(f"joinSession ({inbox.language}) failed: {joined}")
                inboxes.append(inbox)
            speaker = Speaker(speaker_connection, session_id, 100)
            speech_start = time.time()
            await speaker.stream(pcm, [])
            log(f"streamed {speaker.sent} chunks; waiting {args.linger:g} s for the last segments")
            await asyncio.sleep(args.linger)
            try:
                ended = await speaker.control("end")
            except (TimeoutError, ConnectionError) as error:
                ended = {"type": "error", "code": "NO_REPLY", "message": repr(error)}
            if ended.get("type") != "controlApplied":
                speaker_errors.append(ended)
            await asyncio.wait([asyncio.create_task(i.ended.wait()) for i in inboxes], timeout=10)
        finally:
            for ws in sockets:
                await ws.close()
            for task in tasks:
                try:
                    await asyncio.wait_for(task, 5)
                except (TimeoutError, ConnectionError):
                    pass
    summary = summarise(inboxes, speech_start, reference, args.language, speaker_errors)
    if args.json:
        print(json.dumps(summary))
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")
    return 0 if summary["ok"] else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    return run_command(arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())

"""Stream a speech file as a speaker: ``python -m clients.speaker FILE [--url ws://127.0.0.1:8787/ws]``.

The file (WAV, FLAC or OGG, any rate or channels) is resampled to 16 kHz mono PCM16 and sent
in real time as 100 ms ``sendAudio`` chunks with increasing sequence numbers. Session controls
run on a schedule (``--control 4:pause --control 6:resume``); audio that falls in a pause or mute
is not sent (the server would refuse it). Prints ``SESSION <id>`` on stdout once the session exists,
then every server message as a JSON line on stderr. At the end of the file it waits ``--linger``
seconds for the last segments and ends the session (unless ``--keep``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import aiohttp

from clients import protocol
from clients.audio import chunks, load_pcm16
from clients.command import connected, run_command
from clients.common import Connection, add_target_arguments, log


def parse_control(value: str) -> tuple[float, str]:
    """``SECONDS:COMMAND`` (seconds into the file)."""
    at, _, command = value.partition(":")
    if command not in protocol.SPEAKER_COMMANDS:
        raise argparse.ArgumentTypeError(f"command must be one of {', '.join(protocol.SPEAKER_COMMANDS)}")
    return float(at), command


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m clients.speaker", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="WAV/FLAC/OGG speech file")
    parser.add_argument("--language", default="en-US", help="source language (a Transcribe code; local mode: English)")
    parser.add_argument("--chunk-ms", type=int, default=100, help="chunk length, 100-200 ms")
    parser.add_argument("--control", type=parse_control, action="append", default=[], metavar="SECONDS:COMMAND",
                        help="pause/resume/mute/unmute/end at that point of the file")
    parser.add_argument("--linger", type=float, default=5.0, help="seconds to wait after the file for the last segments")
    parser.add_argument("--keep", action="store_true", help="do not end the session at the end")
    parser.add_argument("--session-file", help="also write the session id to this file")
    add_target_arguments(parser)
    return parser.parse_args(argv)


class Speaker:
    """One speaker connection streaming one file."""

    def __init__(self, connection: Connection, session_id: str, chunk_ms: int) -> None:
        self.connection = connection
        self.session_id = session_id
        self.chunk_ms = chunk_ms
        self.sequence = 0
        self.sent = 0
        self.skipped = 0
        self.errors: list[dict[str, Any]] = []
        self.paused = self.muted = False

    async def control(self, command: str) -> dict[str, Any]:
        """Apply a speaker command and wait for its reply."""
        reply = await self.connection.request(protocol.speaker_control, self.session_id, command)
        log(json.dumps(reply))
        if reply.get("type") == "controlApplied":
            self.paused, self.muted = bool(reply.get("paused")), bool(reply.get("muted"))
        return reply

    async def stream(self, pcm: bytes, controls: list[tuple[float, str]]) -> None:
        """Send ``pcm`` paced in real time, applying ``controls`` at their times."""
        pending = sorted(controls)
        started = time.monotonic()
        step = self.chunk_ms / 1000.0
        for index, chunk in enumerate(chunks(pcm, self.chunk_ms)):
            at = index * step
            while pending and pending[0][0] <= at:
                await self.control(pending.pop(0)[1])
            delay = started + at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.connection.ws.closed:
                raise ConnectionError(f"the connection closed ({self.connection.ws.close_code})")
            if self.paused or self.muted:
                self.skipped += 1
                continue
            self.sequence += 1
            await self.connection.send(protocol.send_audio(self.session_id, self.sequence, chunk))
            self.sent += 1
        for _, command in pending:
            await self.control(command)


async def run(args: argparse.Namespace) -> int:
    """Connect, create a session, stream, end."""
    pcm = load_pcm16(args.file)
    speaker: Speaker | None = None

    async def on_push(message: dict[str, Any], _received: float) -> None:
        if protocol.is_error(message) and speaker is not None:
            speaker.errors.append(message)
        log(json.dumps(message))

    async with aiohttp.ClientSession() as http, connected(http, args, "speaker", on_push, need_token=True) as connection:
        created = await connection.request(protocol.create_session, args.language)
        if created.get("type") != "sessionCreated":
            log(json.dumps(created))
            return 2
        session_id = created["sessionId"]
        print(f"SESSION {session_id}", flush=True)
        if args.session_file:
            with open(args.session_file, "w") as handle:
                handle.write(session_id)
        speaker = Speaker(connection, session_id, args.chunk_ms)
        print(f"STREAM_START {time.time():.3f}", flush=True)
        await speaker.stream(pcm, args.control)
        log(f"sent {speaker.sent} chunks ({speaker.skipped} skipped while paused or muted), "
            f"{len(speaker.errors)} refused")
        await asyncio.sleep(args.linger)
        if not args.keep and "end" not in {c for _, c in args.control}:
            await speaker.control("end")
        return 1 if speaker.errors else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    return run_command(arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())

"""Listen to a session: ``python -m clients.listener SESSION_ID --language es [--save DIR | --play]``.

Prints every caption as it arrives, in ``sequence`` order per the protocol, with its latency:
seconds since ``--since EPOCH`` (the speaker's ``STREAM_START`` line: how far behind the start of
the speech it arrives) or else since joining, and for audio how long after its caption it came.
``--json`` prints one JSON line per caption and audio segment instead (for programs). Audio parts
are reassembled per segment and saved as ``<sequence>-<language>.<ext>`` or played with sox's ``play``.
Stops at ``sessionEnded``, after ``--duration`` seconds, or on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from clients import protocol
from clients.command import connected, run_command
from clients.common import add_target_arguments, log

EXTENSIONS = {"audio/mpeg": "mp3", "audio/ogg": "ogg", "audio/pcm": "pcm"}


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m clients.listener", description=__doc__.split("\n\n")[0])
    parser.add_argument("session", help="the session id the speaker shares")
    parser.add_argument("--language", required=True, help="target language (es, ca, de, ...)")
    parser.add_argument("--save", help="folder to save each segment's audio in")
    parser.add_argument("--play", action="store_true", help="play audio with sox's play")
    parser.add_argument("--since", type=float, help="epoch seconds latencies are measured from (the speaker's STREAM_START)")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument("--json", action="store_true", help="JSON lines on stdout")
    parser.add_argument("--login", action="store_true", help="sign in (when the stack refuses anonymous listeners)")
    add_target_arguments(parser)
    parser.set_defaults(username="listener")
    return parser.parse_args(argv)


class Listener:
    """Shows captions and collects audio for one connection."""

    def __init__(self, args: argparse.Namespace, since: float) -> None:
        self.args = args
        self.since = since
        self.assembler = protocol.AudioAssembler()
        self.seen: set[tuple[str, str, int]] = set()
        self.caption_at: dict[str, float] = {}
        self.ended = asyncio.Event()
        self.player: asyncio.Task[None] | None = None
        self._play_queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        if args.save:
            Path(args.save).mkdir(parents=True, exist_ok=True)

    def out(self, record: dict[str, Any], line: str) -> None:
        """A JSON line or a human line on stdout."""
        print(json.dumps(record) if self.args.json else line, flush=True)

    async def on_push(self, message: dict[str, Any], received: float) -> None:
        """One pushed message."""
        kind = message.get("type")
        key = (message.get("segmentId", ""), kind or "", int(message.get("part", 0) or 0))
        if kind in ("caption", "audio"):
            if key in self.seen:  # a retried delivery
                return
            self.seen.add(key)
        latency = round(received - self.since, 3)
        if kind == "caption":
            self.caption_at.setdefault(message["segmentId"], received)
            self.out({"type": "caption", "sequence": message.get("sequence"), "language": message.get("language"),
                      "text": message.get("text"), "isFinal": message.get("isFinal"), "latency": latency,
                      "received": received},
                     f"[{message.get('sequence')}] ({message.get('language')}) {message.get('text')}   +{latency:.2f}s")
        if kind in ("caption", "audio"):  # a caption may carry its segment's audio
            done = self.assembler.add(message)
            if done is None:
                return
            info, audio = done
            after = received - self.caption_at.get(info["segmentId"], received)
            path = self._save(info, audio)
            self.out({"type": "audio", "sequence": info.get("sequence"), "language": info.get("language"),
                      "format": info.get("format"), "bytes": len(audio), "latency": latency,
                      "afterCaption": round(after, 3), "path": path, "received": received},
                     f"    audio #{info.get('sequence')}: {len(audio)} bytes {info.get('format')}, "
                     f"{after:.2f}s after its caption{f' -> {path}' if path else ''}")
            if self.args.play:
                self._play_queue.put_nowait((info.get("mimeType") or "", audio))
        elif kind == "sessionEnded":
            self.out(message, f"session ended ({message.get('reason')})")
            self.ended.set()
        else:
            self.out(message, json.dumps(message))

    def _save(self, info: dict[str, Any], audio: bytes) -> str | None:
        if not self.args.save:
            return None
        ext = EXTENSIONS.get(info.get("mimeType") or "", "bin")
        path = Path(self.args.save) / f"{int(info.get('sequence') or 0):05d}-{info.get('language')}.{ext}"
        path.write_bytes(audio)
        return str(path)

    async def play(self) -> None:
        """Play audio segments one after another (sox's ``play``)."""
        while True:
            mime, audio = await self._play_queue.get()
            kind = {"audio/mpeg": "mp3", "audio/ogg": "ogg"}.get(mime)
            if kind is None:
                continue
            process = await asyncio.create_subprocess_exec("play", "-q", "-t", kind, "-", stdin=asyncio.subprocess.PIPE,
                                                           stderr=asyncio.subprocess.DEVNULL)
            await process.communicate(audio)


async def run(args: argparse.Namespace) -> int:
    """Connect, join, print until the session ends."""
    if args.play and shutil.which("play") is None:
        raise SystemExit("--play needs sox's play (apt-get install sox libsox-fmt-mp3)")
    async with aiohttp.ClientSession() as http:
        # the listener is set up once connected; the reader starts only at the first await below
        async with connected(http, args, "listener", lambda message, received: listener.on_push(message, received),
                             need_token=args.login) as connection:
            listener = Listener(args, args.since if args.since is not None else time.time())
            player = asyncio.create_task(listener.play()) if args.play else None
            try:
                joined = await connection.request(protocol.join_session, args.session, args.language)
                log(json.dumps(joined))
                if joined.get("type") != "sessionJoined":
                    return 2
                if args.since is None:
                    listener.since = time.time()
                waits = [asyncio.create_task(listener.ended.wait()), asyncio.create_task(connection.closed.wait())]
                await asyncio.wait(waits, timeout=args.duration, return_when=asyncio.FIRST_COMPLETED)
                for task in waits:
                    task.cancel()
                return 0
            finally:
                if player:
                    player.cancel()


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    return run_command(arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())

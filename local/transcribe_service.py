"""The local Transcribe Streaming endpoint: stream worker containers connect here over TCP
(``lambda_runtime/transcribe_client.py``) and this side runs the chosen engine's stream factory."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from typing import Any

from local.lambda_runtime.transcribe_events import encode_event
from local.lambda_runtime.wire import HEADER, decode_length, encode

log = logging.getLogger("local.transcribe")


def _error_frame(error: BaseException) -> dict[str, Any]:
    # Transcribe's exception names travel as they are; anything else is an internal failure.
    kind = type(error).__name__
    if not kind.endswith("Exception") or kind == "Exception":
        kind = "BadRequestException" if isinstance(error, ValueError) else "InternalFailureException"
    return {"error": {"type": kind, "message": str(getattr(error, "message", None) or error)}}


class TranscribeService:
    """A TCP server on loopback bridging worker containers to ``factory.start(...)`` streams."""

    def __init__(self, factory: Any) -> None:
        self._factory = factory
        self._server: asyncio.AbstractServer | None = None
        self.address = ""
        self.streams_opened = 0

    async def start(self) -> TranscribeService:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        host, port = self._server.sockets[0].getsockname()[:2]
        self.address = f"{host}:{port}"
        return self

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> dict[str, Any]:
        length = decode_length(await reader.readexactly(HEADER.size))
        return json.loads(await reader.readexactly(length))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            start = (await self._read(reader)).get("start") or {}
            try:
                stream = await self._factory.start(str(start.get("language", "")), int(start.get("sampleRate", 16000)),
                                                   str(start.get("stability", "high")))
            except Exception as error:  # noqa: BLE001 - the engine refused: tell the worker as Transcribe would
                writer.write(encode(_error_frame(error)))
                await writer.drain()
                return
            self.streams_opened += 1
            writer.write(encode({"started": True}))
            await writer.drain()
            feeder = asyncio.create_task(self._feed(reader, stream))
            try:
                async for event in stream.events():
                    writer.write(encode({"event": encode_event(event)}))
                    await writer.drain()
                writer.write(encode({"done": True}))
            except Exception as error:  # noqa: BLE001 - a stream error reaches the worker's iterator
                log.warning("transcribe stream failed: %r", error)
                writer.write(encode(_error_frame(error)))
            finally:
                feeder.cancel()
                with contextlib.suppress(BaseException):
                    await feeder
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @staticmethod
    async def _feed(reader: asyncio.StreamReader, stream: Any) -> None:
        try:
            while True:
                frame = await TranscribeService._read(reader)
                if "audio" in frame:
                    await stream.send_audio(base64.b64decode(frame["audio"]))
                elif frame.get("end"):
                    await stream.end()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            # The worker went away: end the stream so the engine stops.
            with contextlib.suppress(Exception):
                await stream.end()

"""The local run with the real engines (pocketsphinx, apertium, espeak-ng): recorded English
speech streamed by a speaker in real time, three listeners in two languages (Spanish, Catalan:
apertium has both pairs) get captions in order and audio that decodes.

The recording is ``local/data/speech-en-us.flac`` (natural speech, 16 kHz mono, shipped with the
engines); skipped when the engines, the recording or pocketsphinx are not installed.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import soundfile

from tests.local.conftest import PROJECT_ROOT, LocalRun, start_local_run
from tests.local.test_local_run import Client, connect, decoded_seconds, delivered, has_audio, quiet_for, token

RECORDING = PROJECT_ROOT / "local" / "data" / "speech-en-us.flac"
TRANSCRIPT = PROJECT_ROOT / "local" / "data" / "speech-en-us.txt"

pytestmark = pytest.mark.skipif(
    not (PROJECT_ROOT / "local" / "engines" / "__init__.py").is_file() or not RECORDING.is_file()
    or importlib.util.find_spec("pocketsphinx") is None,
    reason="the real engines (local/engines, its recording, pocketsphinx) are not installed")


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    run = start_local_run(tmp_path_factory.mktemp("local-real"), engine="real")
    try:
        yield run
    finally:
        assert run.stop() == 0


def chunks(path: Path, seconds: float = 0.1) -> list[bytes]:
    """The recording as 16 kHz mono PCM16LE chunks (the protocol's format)."""
    samples, rate = soundfile.read(path, dtype="int16")
    assert rate == 16000 and samples.ndim == 1
    step = int(rate * seconds)
    out = [samples[i:i + step].tobytes() for i in range(0, len(samples), step)]
    out[-1] = out[-1].ljust(step * 2, b"\0")  # the protocol takes 50-200 ms chunks: pad the last one
    return out


def test_recorded_speech_reaches_listeners_in_spanish_and_catalan(real_run: LocalRun) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            speaker = await connect(http, real_run, "speaker", await token(http, real_run))
            await speaker.send({"action": "createSession", "sourceLanguage": "en-US"})
            session_id = (await speaker.wait_for(lambda m: m.get("type") == "sessionCreated"))["sessionId"]
            listeners: dict[str, Client] = {}
            for name in ("es-1", "es-2", "ca-1"):
                listeners[name] = await connect(http, real_run, "listener")
                await listeners[name].send({"action": "joinSession", "sessionId": session_id,
                                            "targetLanguage": name[:2]})
                await listeners[name].wait_for(lambda m: m.get("type") == "sessionJoined")
            loop = asyncio.get_running_loop()
            started = loop.time()
            for index, pcm in enumerate(chunks(RECORDING), start=1):
                await speaker.send({"action": "sendAudio", "sessionId": session_id, "sequence": index,
                                    "audio": base64.b64encode(pcm).decode()})
                await asyncio.sleep(max(0.0, started + index * 0.1 - loop.time()))
            for listener in listeners.values():
                await listener.wait_for(has_audio, timeout=90)
            await quiet_for(list(listeners.values()), 12.0, timeout=120)
            errors = [m for m in speaker.messages if m.get("type") == "error"]
            assert not errors, errors
            for name, listener in listeners.items():
                captions, audio = delivered(listener)
                assert len(captions) >= 2, name
                assert all(c["language"] == name[:2] and c["text"].strip() for c in captions)
                by_segment = {c["sequence"]: c["_at"] for c in captions}
                assert all(a["_at"] >= by_segment[a["sequence"]] for a in audio), "caption before audio"
                assert all(decoded_seconds(listener.messages, sequence) > 0.2 for sequence in by_segment)
            es_1 = sorted((c["sequence"], c["text"]) for c in listeners["es-1"].of_type("caption"))
            assert es_1 == sorted((c["sequence"], c["text"]) for c in listeners["es-2"].of_type("caption"))
            for client in [speaker, *listeners.values()]:
                await client.close()
    asyncio.run(scenario())

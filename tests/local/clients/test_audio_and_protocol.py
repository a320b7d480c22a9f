"""Reference clients: resampling, chunking and the message builders against docs/protocol.md."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from clients import protocol
from clients.audio import chunks, load_pcm16, to_pcm16


def _peak_hz(pcm: bytes, rate: int = 16000) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_any_rate_and_stereo_become_16k_mono(rate):
    t = np.arange(int(rate * 1.5)) / rate
    tone = 0.5 * np.sin(2 * np.pi * 440.0 * t)
    stereo = np.stack([tone, tone], axis=1)
    pcm = to_pcm16(stereo, rate)
    assert len(pcm) == pytest.approx(2 * 16000 * 1.5, abs=4)
    assert _peak_hz(pcm) == pytest.approx(440.0, abs=2.0)
    level = np.abs(np.frombuffer(pcm, dtype="<i2")[1000:-1000]).max() / 32768
    assert level == pytest.approx(0.5, abs=0.02)


def test_integer_input_and_clipping():
    pcm = to_pcm16(np.array([0, 16384, -32768, 32767], dtype=np.int16), 16000)
    assert list(np.frombuffer(pcm, dtype="<i2")) == [0, 16384, -32768, 32767]
    assert list(np.frombuffer(to_pcm16(np.array([2.0, -2.0]), 16000), dtype="<i2")) == [32767, -32768]


def test_files_load_resampled(tmp_path):
    import soundfile

    rate = 44100
    data = (0.3 * np.sin(2 * np.pi * 300 * np.arange(rate) / rate)).astype(np.float32)
    soundfile.write(tmp_path / "a.wav", np.stack([data, data], 1), rate)
    soundfile.write(tmp_path / "a.flac", data, rate)
    for name in ("a.wav", "a.flac"):
        pcm = load_pcm16(tmp_path / name)
        assert len(pcm) == pytest.approx(32000, abs=4) and _peak_hz(pcm) == pytest.approx(300, abs=2)


def test_chunks_are_100_ms_and_the_last_is_padded_to_100_ms():
    pcm = bytes(range(256)) * 29  # 7424 bytes = 3712 samples
    parts = list(chunks(pcm))
    assert [len(p) for p in parts] == [3200, 3200, 3200]
    assert b"".join(parts)[: len(pcm)] == pcm and parts[-1][1024:] == b"\x00" * 2176
    assert [len(p) for p in chunks(b"\x00" * 12800, 200)] == [6400, 6400]
    with pytest.raises(ValueError):
        list(chunks(pcm, 50))


def test_send_audio_follows_the_protocol():
    pcm = b"\x01\x00" * 1600
    message = json.loads(protocol.send_audio("golden-eagle-4821", 42, pcm, request_id="a-1"))
    assert message == {"action": "sendAudio", "sessionId": "golden-eagle-4821", "sequence": 42,
                       "audio": base64.b64encode(pcm).decode(), "requestId": "a-1"}
    for bad in (b"\x00" * 3, b"\x00" * 1600, b"\x00" * 3198, b"\x00" * 6402):
        with pytest.raises(ValueError):
            protocol.send_audio("s", 1, bad)
    with pytest.raises(ValueError):
        protocol.send_audio("s", -1, pcm)
    with pytest.raises(ValueError):
        protocol.send_audio("s", 1, pcm, request_id="has space")


def test_builders_and_parser():
    assert json.loads(protocol.create_session("en-US", "c-1")) == {"action": "createSession", "sourceLanguage": "en-US",
                                                                   "requestId": "c-1"}
    assert json.loads(protocol.join_session("golden-eagle-4821", "es")) == {
        "action": "joinSession", "sessionId": "golden-eagle-4821", "targetLanguage": "es"}
    assert json.loads(protocol.speaker_control("s-1", "pause")) == {"action": "speakerControl", "sessionId": "s-1",
                                                                    "command": "pause"}
    assert json.loads(protocol.listener_control("switchLanguage", "de")) == {
        "action": "listenerControl", "command": "switchLanguage", "targetLanguage": "de"}
    assert json.loads(protocol.heartbeat()) == {"action": "heartbeat"}
    with pytest.raises(ValueError):
        protocol.speaker_control("s-1", "dance")
    with pytest.raises(ValueError):
        protocol.listener_control("switchLanguage")
    assert protocol.parse('{"type": "error", "code": "X"}')["code"] == "X"
    for bad in ("nope", "[]", '{"code": 1}'):
        with pytest.raises(protocol.ProtocolError):
            protocol.parse(bad)
    url = protocol.connect_url("wss://abc.execute-api.us-east-1.amazonaws.com/live?role=x", "speaker", "a+b/c=")
    assert url == "wss://abc.execute-api.us-east-1.amazonaws.com/live?role=speaker&token=a%2Bb%2Fc%3D"
    with pytest.raises(ValueError):
        protocol.connect_url("http://x/ws", "speaker")


def test_audio_parts_reassemble_in_order_once():
    assembler = protocol.AudioAssembler()
    base = {"type": "audio", "sessionId": "s", "sequence": 3, "segmentId": "s#3", "language": "es", "format": "mp3",
            "mimeType": "audio/mpeg", "voiceId": "Lucia", "parts": 3}
    parts = [dict(base, part=i, data=base64.b64encode(bytes([i]) * 4).decode()) for i in (1, 2, 3)]
    assert assembler.add(parts[1]) is None and assembler.add(parts[0]) is None
    info, audio = assembler.add(parts[2])
    assert audio == b"\x01" * 4 + b"\x02" * 4 + b"\x03" * 4 and info["voiceId"] == "Lucia"
    with pytest.raises(protocol.ProtocolError):
        assembler.add(dict(base, part=4, data=""))


def test_a_caption_that_carries_its_audio_gives_the_whole_segment():
    """``translation:combineCaptionAudio`` (every stack's default): the caption is also the audio."""
    assembler = protocol.AudioAssembler()
    caption = {"type": "caption", "sessionId": "s", "sequence": 4, "segmentId": "s#4", "language": "es",
               "part": 1, "parts": 1, "text": "hola",
               "audio": {"format": "mp3", "mimeType": "audio/mpeg", "voiceId": "Lucia",
                         "data": base64.b64encode(b"ID3-audio").decode()}}
    info, audio = assembler.add(caption)
    assert audio == b"ID3-audio"
    assert info == {"sessionId": "s", "sequence": 4, "segmentId": "s#4", "language": "es", "format": "mp3",
                    "mimeType": "audio/mpeg", "voiceId": "Lucia"}
    assert assembler.add({k: v for k, v in caption.items() if k != "audio"}) is None  # its audio follows apart

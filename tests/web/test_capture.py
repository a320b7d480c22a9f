"""The speaker's microphone path (web/js/capture.js + pcm-worklet.js) in Chromium: a 1 kHz tone
played by the fake microphone at 48 kHz comes out as 100 ms chunks of 16 kHz PCM16 whose
strongest frequency is still 1 kHz (so the resampler keeps pitch and rate)."""

from __future__ import annotations

import base64
import wave

import numpy as np
import pytest

from tests.web.conftest import chromium, new_page

TONE_HZ = 1000.0


@pytest.fixture(scope="module")
def tone_wav(tmp_path_factory):
    rate = 48000
    t = np.arange(rate * 4) / rate
    path = tmp_path_factory.mktemp("tone") / "tone.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((0.4 * np.sin(2 * np.pi * TONE_HZ * t) * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def tone_browser(tone_wav):
    with chromium(tone_wav) as browser:
        yield browser


def test_microphone_becomes_16_khz_pcm16_in_100_ms_chunks(tone_browser, static_url):
    page = new_page(tone_browser)
    page.goto(f"{static_url}/index.html")
    result = page.evaluate("""async () => {
        const { MicrophoneCapture } = await import('/js/capture.js');
        const capture = new MicrophoneCapture();
        const chunks = [];
        capture.addEventListener('chunk', (e) => chunks.push(e.detail));
        await capture.start();
        const rate = capture.context.sampleRate;
        while (chunks.length < 25) await new Promise((r) => setTimeout(r, 100));
        await capture.stop();
        const toBase64 = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)));
        return { rate, sizes: chunks.map((c) => c.pcm.byteLength), rms: chunks.map((c) => c.rms),
                 pcm: chunks.slice(5, 25).map((c) => toBase64(c.pcm)) };
    }""")
    assert set(result["sizes"]) == {3200}  # 1,600 samples of 16 bits: 100 ms at 16 kHz
    samples = np.frombuffer(b"".join(base64.b64decode(p) for p in result["pcm"]), dtype="<i2").astype(np.float64)
    assert np.abs(samples).max() > 1000, "the tone did not come through"
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    peak_hz = np.argmax(spectrum) * 16000 / len(samples)
    assert abs(peak_hz - TONE_HZ) < 10, f"strongest frequency {peak_hz:.1f} Hz (context at {result['rate']} Hz)"

"""The listener's segment queue (web/js/playback.js) in Chromium, fed the protocol's hard cases:
segments out of order, audio in parts, repeats, a gap, a late segment, another language's
segment, and a caption carrying its own audio. Real WAV audio plays to `ended`."""

from __future__ import annotations

import base64
import io
import wave

import numpy as np
import pytest

from tests.web.conftest import new_page

SESSION = "golden-eagle-4821"


def wav_bytes(seconds: float, frequency: float) -> bytes:
    rate = 16000
    t = np.arange(int(rate * seconds)) / rate
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((0.3 * np.sin(2 * np.pi * frequency * t) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def caption(sequence: int, language: str = "es", **extra) -> dict:
    return {"type": "caption", "sessionId": SESSION, "sequence": sequence, "segmentId": f"{SESSION}#{sequence}",
            "language": language, "sourceLanguage": "en-US", "translated": True, "isFinal": True,
            "part": 1, "parts": 1, "text": f"frase {sequence}", **extra}


def audio(sequence: int, data: bytes, part: int = 1, parts: int = 1, language: str = "es") -> dict:
    return {"type": "audio", "sessionId": SESSION, "sequence": sequence, "segmentId": f"{SESSION}#{sequence}",
            "language": language, "format": "wav", "mimeType": "audio/wav", "voiceId": "Lucia",
            "part": part, "parts": parts, "data": base64.b64encode(data).decode()}


@pytest.fixture
def player(browser, static_url):
    page = new_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{static_url}/index.html")
    page.evaluate("""async () => {
        const { SegmentPlayer } = await import('/js/playback.js');
        window.player = new SegmentPlayer();
        window.player.setLanguage('es');
        window.captions = [];
        window.player.addEventListener('caption', (e) => window.captions.push(e.detail));
    }""")
    yield page
    page.close()
    assert not errors, errors


def feed(page, *messages) -> list[bool]:
    return page.evaluate("(messages) => messages.map((m) => window.player.accept(m))", list(messages))


def played(page) -> list[tuple[str, int]]:
    return [(e["kind"], e["sequence"]) for e in page.evaluate("() => window.player.trace")
            if e["kind"] in ("playing", "ended", "skipped")]


def wait_ended(page, count: int) -> None:
    page.wait_for_function(f"() => window.player.trace.filter(e => e.kind === 'ended').length >= {count}")


def test_segments_play_in_sequence_order_whatever_order_they_arrive_in(player):
    one = wav_bytes(0.6, 440)
    feed(player, caption(1), audio(1, one[:3000], 1, 2), audio(1, one[3000:], 2, 2))
    player.wait_for_function("() => window.player.current !== null")
    # While 1 plays, 3 arrives before 2.
    feed(player, caption(3), audio(3, wav_bytes(0.3, 660)), caption(2), audio(2, wav_bytes(0.3, 550)))
    wait_ended(player, 3)
    assert played(player) == [("playing", 1), ("ended", 1), ("playing", 2), ("ended", 2), ("playing", 3), ("ended", 3)]
    assert [c["sequence"] for c in player.evaluate("() => window.captions")] == [1, 3, 2]  # the view sorts them


def test_repeats_and_other_languages_are_dropped(player):
    clip = wav_bytes(0.3, 440)
    assert feed(player, caption(1), caption(1), audio(1, clip), audio(1, clip), caption(1, language="de")) == [
        True, False, True, False, False]
    wait_ended(player, 1)
    assert len(player.evaluate("() => window.captions")) == 1
    assert played(player) == [("playing", 1), ("ended", 1)]


def test_a_gap_is_waited_for_briefly_then_skipped_and_a_late_segment_is_not_played(player):
    clip = wav_bytes(0.3, 440)
    feed(player, caption(1), audio(1, clip))
    wait_ended(player, 1)
    feed(player, caption(3), audio(3, clip))  # 2 never comes (said while paused, say)
    wait_ended(player, 2)
    assert played(player)[-2:] == [("playing", 3), ("ended", 3)]
    feed(player, caption(2), audio(2, clip))  # arrives after 3 played: too late to play in order
    player.wait_for_timeout(500)
    assert [s for kind, s in played(player) if kind == "playing"] == [1, 3]
    assert any(e["kind"] == "late" and e["sequence"] == 2 for e in player.evaluate("() => window.player.trace"))


def test_a_caption_carrying_its_audio_is_played(player):
    clip = wav_bytes(0.3, 440)
    feed(player, caption(7, audio={"format": "wav", "mimeType": "audio/wav", "voiceId": "Lucia",
                                   "data": base64.b64encode(clip).decode()}))
    wait_ended(player, 1)
    assert played(player) == [("playing", 7), ("ended", 7)]
    assert feed(player, audio(7, clip)) == [True]  # a stray audio message for it is not played twice
    player.wait_for_timeout(300)
    assert played(player) == [("playing", 7), ("ended", 7)]


def test_switching_language_drops_queued_audio_of_the_old_one(player):
    feed(player, caption(1), audio(1, wav_bytes(0.8, 440)))
    player.wait_for_function("() => window.player.current !== null")
    feed(player, caption(2), audio(2, wav_bytes(0.3, 440)))
    player.evaluate("() => window.player.setLanguage('fr')")
    feed(player, caption(3, language="fr"), audio(3, wav_bytes(0.3, 440), language="fr"))
    wait_ended(player, 2)
    assert [s for kind, s in played(player) if kind == "ended"] == [1, 3]

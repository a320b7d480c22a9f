"""clients.latency's checks and per-word latency, on recorded listener inboxes."""

from __future__ import annotations

import io
import json

import numpy as np
import soundfile

from clients.latency import DATA, Inbox, summarise, word_ends_by_sequence

REFERENCE = json.loads((DATA / "speech-en-us.words.json").read_text())["words"]


def _caption(sequence: int, language: str, text: str) -> dict:
    return {"type": "caption", "sessionId": "s", "sequence": sequence, "segmentId": f"s#{sequence}", "language": language,
            "part": 1, "parts": 1, "text": text}


def _wav() -> bytes:
    out = io.BytesIO()
    soundfile.write(out, np.zeros(1600, dtype=np.float32), 16000, format="WAV")
    return out.getvalue()


def test_word_ends_come_from_the_speaker_language_captions():
    inbox = Inbox("en")
    inbox.captions = {1: (10.0, _caption(1, "en", "It morning everyone.")),
                      2: (12.0, _caption(2, "en", "Thank you all for coming here today."))}
    ends = word_ends_by_sequence(inbox, REFERENCE)
    assert ends[1] == [0.86, 1.46]  # "morning", "everyone" ("It" is not in the transcript)
    assert len(ends[2]) == 7 and ends[2][-1] == REFERENCE[9]["end"]


def test_summary_checks_and_latency():
    start = 1000.0
    en, es = Inbox("en"), Inbox("es")
    en.captions = {1: (start + 2.46, _caption(1, "en", "Good morning everyone."))}
    es.captions = {1: (start + 3.46, _caption(1, "es", "Buenos días a todos."))}
    mp3 = {"type": "audio", "sessionId": "s", "sequence": 1, "segmentId": "s#1", "language": "es", "format": "mp3",
           "mimeType": "audio/mpeg", "voiceId": "Lucia", "part": 1, "parts": 1}
    es.audio = {1: (start + 4.46, mp3, _wav())}
    summary = summarise([en, es], start, REFERENCE, "en-US", [])
    assert summary["ok"], summary["failures"]
    # words end at 0.45, 0.86, 1.46: the en caption is 2.01, 1.6 and 1.0 s behind them, es one second more
    assert summary["captionWordLatency"]["n"] == 6
    assert summary["captionWordLatency"]["p50"] == 2.0  # of 1.0, 1.6, 2.0, 2.01, 2.6, 3.01
    assert summary["audioWordLatency"] == {"p50": 3.6, "p95": 4.01, "n": 3}

    es.audio = {1: (start + 4.46, mp3, b"not audio")}
    late = Inbox("es")
    summary = summarise([en, es, late], start, REFERENCE, "en-US", [{"type": "error", "code": "NO_REPLY"}])
    assert not summary["ok"]
    text = " ".join(summary["failures"])
    assert "listener 3 (es) received no caption" in text and "missed segments [1]" in text
    assert "1 of 1 audio segments do not decode" in text and "speaker got errors" in text


def test_a_caption_that_carries_its_audio_counts_as_the_segments_audio():
    import asyncio
    import base64

    inbox = Inbox("es")
    combined = dict(_caption(1, "es", "Buenos días a todos."),
                    audio={"format": "wav", "mimeType": "audio/wav", "voiceId": "es",
                           "data": base64.b64encode(_wav()).decode()})
    asyncio.run(inbox.on_push(combined, 5.0))
    assert inbox.captions[1][0] == 5.0 and inbox.audio[1][0] == 5.0 and inbox.audio[1][2] == _wav()

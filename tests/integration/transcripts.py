"""What Amazon Transcribe Streaming answers for the speech track, in its wire format.

Each result follows the pattern of a real stabilized stream (``partial_results_stability``
high): a partial about every half second while a phrase is spoken, carrying every word
recognized so far, all but the last two marked ``Stable``; a comma shows up once the word
after it is heard; the last, unstable word is sometimes misheard and corrected later; the
final result (``IsPartial`` false, every item stable, with confidences and the closing
punctuation) comes once ~0.8 s of audio after the phrase has been fed, or when the stream is
ended. A stream opens with an empty ``Results`` event. Times are seconds of *that* stream.

Events are written as the JSON payload of the event stream and turned into
``amazon_transcribe.model.TranscriptEvent`` objects by the SDK's own parser
(``TranscribeStreamingEventParser``), exactly as the SDK does with what arrives on the wire.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from amazon_transcribe.deserialize import TranscribeStreamingEventParser

from tests.integration.speech import CHUNK_SECONDS, Phrase, SpeechTrack

RECOGNITION_LAG = 0.25  # a word is recognized this long after its audio was fed
PARTIAL_EVERY = 0.45
FINAL_LAG = 0.8
UNSTABLE_TAIL = 2
# Early guesses for a word still being spoken (the later partials and the final correct them).
MISHEARD = {"meeting": "meeting's", "campaign": "camp", "region": "reason", "year": "ear", "listening": "listen"}
_TOKEN = re.compile(r"[A-Za-z']+|[.,?!;:]")
_PARSER = TranscribeStreamingEventParser()


def to_event(payload: dict[str, Any]) -> Any:
    """A TranscriptEvent from its wire JSON, through the SDK's parser."""
    raw = SimpleNamespace(headers={":message-type": "event", ":event-type": "TranscriptEvent",
                                   ":content-type": "application/json"},
                          payload=json.dumps(payload).encode())
    return _PARSER.parse(raw)


def _text(tokens: list[tuple[str, bool]]) -> str:
    out: list[str] = []
    for content, punct in tokens:
        if punct and out:
            out[-1] += content
        else:
            out.append(content)
    return " ".join(out)


@dataclass
class _PhraseState:
    phrase: Phrase
    tokens: list[str]  # words and punctuation of the phrase text, in order
    result_id: str
    recognized: int = 0  # words recognized so far
    last_partial: float = -1.0
    final: bool = False


@dataclass
class StreamSession:
    """One stream's view of the track: where each fed chunk landed, which results are open."""

    track: SpeechTrack
    fingerprints: dict[str, int]
    number: int
    chunk_at: dict[int, float] = field(default_factory=dict)  # track chunk index -> stream seconds
    fed_seconds: float = 0.0
    phrases: list[_PhraseState] = field(default_factory=list)
    last_fed: int = -1

    def __post_init__(self) -> None:
        for phrase in self.track.phrases:
            rid = uuid.UUID(hashlib.md5(f"stream{self.number}-phrase{phrase.index}".encode()).hexdigest())
            self.phrases.append(_PhraseState(phrase, _TOKEN.findall(phrase.text), str(rid)))

    def opening(self) -> list[Any]:
        """Transcribe's first event on a new stream: no results yet."""
        return [to_event({"Transcript": {"Results": []}})]

    def place(self, pcm: bytes) -> int:
        """The track chunk these bytes are (the fake only understands the test's speech)."""
        index = self.fingerprints.get(hashlib.sha1(pcm).hexdigest())
        assert index is not None, "audio fed to Transcribe that the speaker never sent"
        return index

    def fed(self, index: int) -> list[Any]:
        """Record a fed chunk; the results now due."""
        self.chunk_at[index] = self.fed_seconds
        self.fed_seconds = round(self.fed_seconds + CHUNK_SECONDS, 3)
        self.last_fed = index
        heard_until = (index + 1) * CHUNK_SECONDS  # track seconds
        events = []
        for state in self.phrases:
            if state.final or not self._started_here(state.phrase):
                continue
            words = state.phrase.word_times
            recognized = sum(1 for _, _, end in words if end + RECOGNITION_LAG <= heard_until and self._was_fed(end))
            if recognized == len(words) and state.phrase.end + FINAL_LAG <= heard_until:
                events.append(self._result(state, len(words), partial=False))
                state.final = True
                continue
            if recognized > state.recognized and (heard_until - state.last_partial >= PARTIAL_EVERY or recognized == len(words)):
                state.recognized = recognized
                state.last_partial = heard_until
                events.append(self._result(state, recognized, partial=True))
        return events

    def finish(self) -> list[Any]:
        """End of stream: every open result is finalized with the words whose audio was fed."""
        events = []
        for state in self.phrases:
            if state.final or not self._started_here(state.phrase):
                continue
            heard = sum(1 for _, _, end in state.phrase.word_times if self._was_fed(end))
            if heard:
                events.append(self._result(state, heard, partial=False))
            state.final = True
        return events

    # -- helpers --------------------------------------------------------------------

    def _was_fed(self, track_seconds: float) -> bool:
        return int(track_seconds // CHUNK_SECONDS) in self.chunk_at

    def _started_here(self, phrase: Phrase) -> bool:
        return self._was_fed(phrase.word_times[0][1])

    def _stream_time(self, track_seconds: float) -> float:
        chunk = int(track_seconds // CHUNK_SECONDS)
        return round(self.chunk_at[chunk] + (track_seconds - chunk * CHUNK_SECONDS), 3)

    def _result(self, state: _PhraseState, words: int, partial: bool) -> Any:
        items: list[dict[str, Any]] = []
        tokens: list[tuple[str, bool]] = []
        spoken = 0
        last_end = 0.0
        for token in state.tokens:
            punct = not token[0].isalpha() and token[0] != "'"
            if punct:
                # Partials show a comma once the next word is heard; closing punctuation only in the final.
                if spoken == 0 or (partial and spoken >= words):
                    continue
                item = {"Content": token, "StartTime": last_end, "EndTime": last_end, "Type": "punctuation",
                        "VocabularyFilterMatch": False, "Stable": (not partial) or spoken <= words - UNSTABLE_TAIL}
                items.append(item)
                tokens.append((token, True))
                continue
            if spoken >= words:
                break
            _, start, end = state.phrase.word_times[spoken]
            spoken += 1
            stable = (not partial) or spoken <= words - UNSTABLE_TAIL
            content = token
            if partial and spoken == words and not stable and token.lower() in MISHEARD and words < len(state.phrase.word_times):
                content = MISHEARD[token.lower()]
            last_end = self._stream_time(end)
            item = {"Content": content, "StartTime": self._stream_time(start), "EndTime": last_end,
                    "Type": "pronunciation", "VocabularyFilterMatch": False, "Stable": stable}
            if not partial:
                item["Confidence"] = round(0.91 + 0.008 * (spoken % 10), 3)
            items.append(item)
            tokens.append((content, False))
        result = {"ResultId": state.result_id, "StartTime": items[0]["StartTime"], "EndTime": last_end,
                  "IsPartial": partial, "ChannelId": "ch_0", "LanguageCode": "en-US",
                  "Alternatives": [{"Transcript": _text(tokens), "Items": items}]}
        return to_event({"Transcript": {"Results": [result]}})


class TranscriptScript:
    """The recorded behaviour of Transcribe for one speech track; one ``StreamSession`` per stream."""

    def __init__(self, track: SpeechTrack) -> None:
        self.track = track
        self.fingerprints = track.fingerprints()

    def session(self, number: int) -> StreamSession:
        """State for the ``number``-th stream opened."""
        return StreamSession(self.track, self.fingerprints, number)

    @staticmethod
    def final_text(phrase: Phrase) -> str:
        """What Transcribe's final result for the whole phrase reads."""
        return _text([(t, not (t[0].isalpha() or t[0] == "'")) for t in _TOKEN.findall(phrase.text)])

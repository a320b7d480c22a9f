"""Recorded Transcribe partial-result sequences, and a driver that replays them through the processor.

Each file in ``data/`` holds the events of one stream in Transcribe's wire format (the JSON
body of a ``TranscriptEvent`` message: ``{"Transcript": {"Results": [...]}}``) with the time
each event arrived (``at``, seconds), plus what the stream really said (``expected``: the
words of each result, in order). Events are parsed with the SDK's own
``TranscribeStreamingEventParser``, so the processor sees exactly the objects the real
client yields. ``replay_builder.py`` wrote the files.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amazon_transcribe.deserialize import TranscribeStreamingEventParser
from amazon_transcribe.model import TranscriptEvent

DATA_DIR = Path(__file__).resolve().parent / "data"
_PARSER = TranscribeStreamingEventParser()


class _RawEvent:
    """The shape the SDK parser reads from an event-stream message."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.headers = {":message-type": "event", ":event-type": "TranscriptEvent"}
        self.payload = json.dumps(body).encode("utf-8")


def parse_event(body: dict[str, Any]) -> TranscriptEvent:
    """A TranscriptEvent from its wire JSON, through the SDK's parser."""
    event = _PARSER.parse(_RawEvent(body))
    assert isinstance(event, TranscriptEvent)
    return event


@dataclass
class Replay:
    """One recorded stream."""

    name: str
    description: str
    stabilization: str | None
    events: list[tuple[float, TranscriptEvent]]
    expected: dict[str, list[str]]  # result id -> spoken words the stream settled on
    final_at: dict[str, float] = field(default_factory=dict)  # result id -> when its final arrived
    orphans: list[str] = field(default_factory=list)  # results whose final never comes
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        """Arrival time of the last event."""
        return self.events[-1][0] if self.events else 0.0


def load_replay(path: Path | str) -> Replay:
    """Read one data file."""
    path = Path(path)
    if not path.is_absolute() and not path.exists():
        path = DATA_DIR / (path.name if path.suffix == ".json" else f"{path.name}.json")
    return replay_from_doc(json.loads(path.read_text(encoding="utf-8")), path.stem)


def replay_from_doc(doc: dict[str, Any], name: str) -> Replay:
    """A replay from a document in the data-file format (parsed by the SDK's parser)."""
    events = [(float(e["at"]), parse_event(e["TranscriptEvent"])) for e in doc["events"]]
    final_at: dict[str, float] = {}
    for at, event in events:
        for result in event.transcript.results:
            if result.is_partial is False and result.result_id not in final_at:
                final_at[result.result_id] = at
    return Replay(
        name=name,
        description=doc.get("description", ""),
        stabilization=doc.get("stabilization"),
        events=events,
        expected={k: list(v) for k, v in doc["expected"].items()},
        final_at=final_at,
        orphans=list(doc.get("orphans", [])),
        raw=doc,
    )


def all_replays() -> list[Replay]:
    """Every recorded stream, by file name."""
    return [load_replay(p) for p in sorted(DATA_DIR.glob("*.json"))]


def spoken(words) -> list[str]:
    """Spoken words (punctuation left out) of Segment.words or Items, casefolded."""
    out = []
    for w in words:
        punct = getattr(w, "punctuation", None)
        if punct is None:
            punct = getattr(w, "item_type", None) == "punctuation"
        if not punct:
            out.append(w.content.casefold())
    return out


def words_of(text: str) -> list[str]:
    """Spoken words of a transcript string, casefolded."""
    return [w.casefold() for w in re.findall(r"[^\s.,?!;:…]+", text)]


def replay(processor, events, tick: float = 0.1, until: float | None = None, flush: bool = False):
    """Feed events at their arrival times, calling ``tick`` every ``tick`` seconds in between.

    Returns ``[(emitted_at, segment), ...]``. ``until`` runs the clock on after the last
    event (for orphan timeouts); ``flush`` ends the stream there.
    """
    out = []
    now = events[0][0] if events else 0.0
    for at, event in events:
        while now + tick < at:
            now += tick
            out.extend((now, s) for s in processor.tick(now))
        now = at
        out.extend((now, s) for s in processor.process(event, now))
    if until is not None:
        while now + tick <= until:
            now += tick
            out.extend((now, s) for s in processor.tick(now))
    if flush:
        out.extend((now, s) for s in processor.flush(now))
    return out

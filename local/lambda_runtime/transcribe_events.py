"""TranscriptEvents as plain JSON (Transcribe's own wire names) and back.

Used on both sides of the local Transcribe endpoint: the engines' events are encoded in the
local server, and decoded into ``amazon_transcribe.model`` objects inside the stream worker's
container, so the worker reads exactly the objects the real SDK would give it.
"""

from __future__ import annotations

from typing import Any


def encode_event(event: Any) -> dict[str, Any]:
    """An ``amazon_transcribe.model.TranscriptEvent`` as ``{"Transcript": {"Results": [...]}}``."""
    results = []
    for result in event.transcript.results or []:
        alternatives = []
        for alternative in result.alternatives or []:
            items = [{"StartTime": item.start_time, "EndTime": item.end_time, "Type": item.item_type,
                      "Content": item.content, "VocabularyFilterMatch": item.vocabulary_filter_match,
                      "Speaker": item.speaker, "Confidence": item.confidence, "Stable": item.stable}
                     for item in alternative.items or []]
            alternatives.append({"Transcript": alternative.transcript, "Items": items})
        results.append({"ResultId": result.result_id, "StartTime": result.start_time, "EndTime": result.end_time,
                        "IsPartial": result.is_partial, "Alternatives": alternatives,
                        "ChannelId": result.channel_id, "LanguageCode": result.language_code})
    return {"Transcript": {"Results": results}}


def decode_event(data: dict[str, Any]) -> Any:
    """The ``TranscriptEvent`` that ``encode_event`` encoded."""
    from amazon_transcribe.model import Alternative, Item, Result, Transcript, TranscriptEvent

    results = []
    for result in data["Transcript"]["Results"]:
        alternatives = [
            Alternative(alternative.get("Transcript", ""), [
                Item(start_time=item.get("StartTime"), end_time=item.get("EndTime"), item_type=item.get("Type"),
                     content=item.get("Content"), vocabulary_filter_match=item.get("VocabularyFilterMatch"),
                     speaker=item.get("Speaker"), confidence=item.get("Confidence"), stable=item.get("Stable"))
                for item in alternative.get("Items") or []], [])
            for alternative in result.get("Alternatives") or []]
        results.append(Result(result_id=result.get("ResultId"), start_time=result.get("StartTime"),
                              end_time=result.get("EndTime"), is_partial=result.get("IsPartial"),
                              alternatives=alternatives, channel_id=result.get("ChannelId"),
                              language_code=result.get("LanguageCode")))
    return TranscriptEvent(Transcript(results))

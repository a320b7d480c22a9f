"""Segments that continue a sentence: flagged in captions, shown and voiced without a full stop."""

from __future__ import annotations

import json

import pytest

from translation_pipeline.continuation import open_ended
from translation_pipeline.messages import SegmentRef, caption_messages
from translation_pipeline.segment import InvalidSegment, Segment
from translation_pipeline.tests.fakes import (
    FakeManagementApi,
    FakePolly,
    put_connection,
    put_session,
    segment_event,
)

SID = "golden-eagle-4821"


class FullStopTranslate:
    """Translate as it answers some fragments: with a full stop the source did not have."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def translate_text(self, *, Text: str, SourceLanguageCode: str, TargetLanguageCode: str, **_):
        self.calls.append(Text)
        return {"TranslatedText": f"[{TargetLanguageCode}] {Text}.", "SourceLanguageCode": SourceLanguageCode,
                "TargetLanguageCode": TargetLanguageCode}


@pytest.mark.parametrize("text, expected", [
    ("hoy queremos hablar.", "hoy queremos hablar"),
    ("hoy queremos hablar . ", "hoy queremos hablar"),
    ("我们今天。", "我们今天"),
    ("is it?", "is it?"),
    ("wait...", "wait..."),
    (".", "."),
    ("no mark", "no mark"),
])
def test_open_ended_drops_only_a_trailing_full_stop(text, expected):
    assert open_ended(text) == expected


def test_the_payload_flag_is_optional_and_must_be_a_boolean():
    assert Segment.from_event(segment_event(SID, 1, "we will talk")).continues_sentence is False
    assert Segment.from_event(segment_event(SID, 1, "we will talk", continuesSentence=True)).continues_sentence is True
    with pytest.raises(InvalidSegment, match="continuesSentence"):
        Segment.from_event(segment_event(SID, 1, "we will talk", continuesSentence="yes"))


def test_caption_carries_the_flag():
    ref = SegmentRef(SID, 3, f"{SID}#3", "es")
    [msg] = caption_messages(ref, "hablaremos de", "en-US", translated=True, is_final=False, continues_sentence=True)
    assert json.loads(msg)["continuesSentence"] is True


@pytest.mark.parametrize("continues", [True, False])
def test_a_continuing_segment_is_shown_and_voiced_without_a_full_stop(ddb, now, make_processor, continues):
    put_session(ddb, SID, now, listeners=2)
    put_connection(ddb, "es1", SID, now, language="es")
    put_connection(ddb, "en1", SID, now, language="en")
    translate, polly, api = FullStopTranslate(), FakePolly(), FakeManagementApi()
    processor = make_processor(translate, polly, api)
    text = "we will talk about the plan" if continues else "we will talk about the plan."
    processor.process(Segment.from_event(segment_event(SID, 1, text, isFinal=False, continuesSentence=continues)))
    es = [m for m in api.messages_for("es1") if m["type"] == "caption"][0]
    en = [m for m in api.messages_for("en1") if m["type"] == "caption"][0]
    assert es["continuesSentence"] is continues and en["continuesSentence"] is continues
    spoken = [call.get("Text", "") for call in polly.calls]
    if continues:
        assert es["text"] == "[es] we will talk about the plan"
        assert en["text"] == "we will talk about the plan"
        assert all("plan." not in s and "<s>" not in s for s in spoken) and len(spoken) == 2
    else:
        assert es["text"] == "[es] we will talk about the plan.."  # as Translate answered: untouched
        assert any("plan." in s for s in spoken)


def test_translated_captions_carry_what_the_speaker_said(ddb, now, make_processor):
    put_session(ddb, SID, now, listeners=2)
    put_connection(ddb, "es1", SID, now, language="es")
    put_connection(ddb, "en1", SID, now, language="en")
    api = FakeManagementApi()
    processor = make_processor(FullStopTranslate(), FakePolly(), api)
    processor.process(Segment.from_event(segment_event(SID, 1, "we will talk about the plan.")))
    es = [m for m in api.messages_for("es1") if m["type"] == "caption"][0]
    en = [m for m in api.messages_for("en1") if m["type"] == "caption"][0]
    assert es["sourceText"] == "we will talk about the plan."
    assert "sourceText" not in en  # the listener hears the speaker's own language

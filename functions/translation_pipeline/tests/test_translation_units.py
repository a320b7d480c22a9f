"""Pure units: language codes, segment validation, settings, message sizing, text splitting."""

from __future__ import annotations

import base64
import json

import pytest
from common.languages import joins_without_space, same_language, translate_code
from common.settings import SettingsError

from translation_pipeline.messages import FRAME_BUDGET_BYTES, SegmentRef, audio_messages, caption_messages, split_text_to_budget
from translation_pipeline.segment import InvalidSegment, Segment
from translation_pipeline.settings import TranslationSettings
from translation_pipeline.tests.fakes import segment_event
from translation_pipeline.translation import MAX_TRANSLATE_BYTES, cache_key, normalize_text, split_for_translate

REF = SegmentRef("golden-eagle-4821", 7, "golden-eagle-4821#7", "es")


@pytest.mark.parametrize(("code", "expected"), [
    ("en-US", "en"), ("en-GB", "en"), ("es-US", "es"), ("fr-CA", "fr-CA"), ("pt-BR", "pt"), ("pt-PT", "pt-PT"),
    ("zh-CN", "zh"), ("zh-TW", "zh-TW"), ("nb-NO", "no"), ("no-NO", "no"), ("he-IL", "he"), ("es", "es"), ("es-MX", "es-MX"),
])
def test_translation_codes_from_transcribe_and_listener_codes(code, expected):
    assert translate_code(code) == expected


def test_translation_same_language_rules():
    assert same_language("en-US", "en")
    assert same_language("fr-CA", "fr")          # a regional variant is not worth a Translate call
    assert not same_language("en-US", "es")
    assert not same_language("zh-CN", "zh-TW")   # different scripts
    assert joins_without_space("ja") and not joins_without_space("es")


def test_translation_segment_valid_payload_parses():
    segment = Segment.from_event(segment_event(sequence=3))
    assert segment.segment_id == "golden-eagle-4821#3"
    assert segment.source_language == "en-US" and segment.is_final
    assert segment.dynamics["rate"]["wpm"] == 172.0


@pytest.mark.parametrize("mutate", [
    lambda e: e.pop("sessionId"),
    lambda e: e.update(sequence="1"),
    lambda e: e.update(sequence=True),
    lambda e: e.update(sequence=-1),
    lambda e: e.update(segmentId="other#1"),
    lambda e: e.update(text="   "),
    lambda e: e.update(text=None),
    lambda e: e.update(text="x" * 20_001),
    lambda e: e.update(sourceLanguage="english"),
    lambda e: e.update(isFinal="yes"),
    lambda e: e.update(emittedAt="now"),
    lambda e: e.update(emittedAt=float("nan")),
    lambda e: e.update(dynamics=[1, 2]),
    lambda e: e.update(audioSpan="x"),
])
def test_translation_segment_bad_payloads_rejected(mutate):
    event = segment_event()
    mutate(event)
    with pytest.raises(InvalidSegment):
        Segment.from_event(event)


def test_translation_segment_non_object_rejected():
    for event in (None, "text", [segment_event()]):
        with pytest.raises(InvalidSegment):
            Segment.from_event(event)


def _env(**overrides):
    env = {"SESSIONS_TABLE": "s", "CONNECTIONS_TABLE": "c", "TRANSLATION_CACHE_TABLE": "t",
           "WEBSOCKET_ENDPOINT": "https://x.execute-api.us-east-1.amazonaws.com/dev"}
    env.update(overrides)
    return env


def test_translation_settings_defaults_and_overrides():
    s = TranslationSettings.from_env(_env(BROADCAST_CONCURRENCY="64", CACHE_TTL_HOURS="12", AUDIO_FORMAT="ogg_vorbis"))
    assert s.connections_index == "BySessionLanguage"
    assert s.broadcast_concurrency == 64 and s.cache_ttl_seconds == 12 * 3600 and s.audio_format == "ogg_vorbis"


@pytest.mark.parametrize("override", [
    {"WEBSOCKET_ENDPOINT": "abc"}, {"BROADCAST_CONCURRENCY": "0"}, {"AUDIO_FORMAT": "pcm"},
    {"MAX_RETRIES": "x"}, {"RETRY_BASE_DELAY": "3", "RETRY_MAX_DELAY": "1"},
])
def test_translation_settings_reject_bad_values(override):
    with pytest.raises(SettingsError):
        TranslationSettings.from_env(_env(**override))


def test_translation_settings_missing_table_named():
    env = _env()
    del env["TRANSLATION_CACHE_TABLE"]
    with pytest.raises(SettingsError, match="TRANSLATION_CACHE_TABLE"):
        TranslationSettings.from_env(env)


def test_translation_cache_key_normalizes_text():
    a = cache_key("en-US", "es", "Hello   world\n")
    assert a == cache_key("en", "es", " Hello world")
    assert a == cache_key("en-US", "es", "Hello world")
    assert a.startswith("tr#en#es#") and len(a.split("#")[-1]) == 64
    # NFC: a precomposed and a decomposed é are the same text.
    assert cache_key("fr-FR", "en", "caf\u00e9") == cache_key("fr-FR", "en", "cafe\u0301")
    assert cache_key("en-US", "es", "Hello world") != cache_key("en-US", "fr", "Hello world")
    assert normalize_text(" a \t b ") == "a b"


def test_translation_split_keeps_sentences_and_limit():
    sentence = "This sentence is exactly some bytes long. "
    text = sentence * 600  # ~25 KB
    chunks = split_for_translate(normalize_text(text))
    assert len(chunks) >= 3
    assert all(len(c.encode()) <= MAX_TRANSLATE_BYTES for c in chunks)
    assert all(c.endswith(".") for c in chunks)  # cut at sentence ends
    assert " ".join(chunks) == normalize_text(text)


def test_translation_split_multibyte_without_spaces():
    text = "日本語の文章です。" * 800  # 3 bytes per character, sentence ends with 。
    chunks = split_for_translate(text)
    assert all(len(c.encode()) <= MAX_TRANSLATE_BYTES for c in chunks)
    assert "".join(c.replace(" ", "") for c in chunks) == text
    word = "字" * 5000  # one 15 KB "word": split at character boundaries
    parts = split_for_translate(word)
    assert all(len(p.encode()) <= MAX_TRANSLATE_BYTES for p in parts) and "".join(parts) == word


def test_translation_short_text_is_one_chunk():
    assert split_for_translate("Hola.") == ["Hola."]


def test_translation_audio_parts_fit_frame_and_reassemble():
    audio = bytes(range(256)) * 600  # 153,600 bytes
    parts = [json.loads(m) for m in audio_messages(REF, audio, "mp3", "Lucia")]
    raw = audio_messages(REF, audio, "mp3", "Lucia")
    assert all(len(m) <= FRAME_BUDGET_BYTES for m in raw)
    assert [p["part"] for p in parts] == list(range(1, len(parts) + 1))
    assert {p["parts"] for p in parts} == {len(parts)}
    assert b"".join(base64.b64decode(p["data"]) for p in parts) == audio
    first = parts[0]
    assert first["type"] == "audio" and first["format"] == "mp3" and first["mimeType"] == "audio/mpeg"
    assert (first["sessionId"], first["sequence"], first["segmentId"], first["language"]) == (
        "golden-eagle-4821", 7, "golden-eagle-4821#7", "es")


def test_translation_small_audio_is_one_part():
    parts = [json.loads(m) for m in audio_messages(REF, b"\xff\xfb" * 100, "mp3", "Lucia")]
    assert len(parts) == 1 and parts[0]["part"] == parts[0]["parts"] == 1


def test_translation_caption_one_message_normally():
    [msg] = caption_messages(REF, "Buenos días a todos.", "en-US", translated=True, is_final=True)
    body = json.loads(msg)
    assert body == {"type": "caption", "sessionId": "golden-eagle-4821", "sequence": 7, "segmentId": "golden-eagle-4821#7",
                    "language": "es", "sourceLanguage": "en-US", "translated": True, "isFinal": True,
                    "continuesSentence": False, "part": 1, "parts": 1, "text": "Buenos días a todos."}


def test_translation_caption_carries_the_original_text_when_translated():
    [msg] = caption_messages(REF, "Buenos días a todos.", "en-US", translated=True, is_final=True,
                             source_text="Good morning everyone.")
    assert json.loads(msg)["sourceText"] == "Good morning everyone."
    [own] = caption_messages(REF, "Good morning everyone.", "en-US", translated=False, is_final=True)
    assert "sourceText" not in json.loads(own)


def test_translation_split_caption_goes_without_the_original_text():
    text = "palabra " * 6000
    msgs = caption_messages(REF, text, "en-US", translated=True, is_final=True, source_text="word " * 6000)
    assert len(msgs) > 1 and all(len(m) <= FRAME_BUDGET_BYTES for m in msgs)
    assert all("sourceText" not in json.loads(m) for m in msgs)


def test_translation_oversize_caption_split_into_parts():
    text = 'Ça "marche" très bien\n' * 4000  # escapes and multibyte characters
    msgs = caption_messages(REF, text, "en-US", translated=True, is_final=False)
    assert len(msgs) > 1 and all(len(m) <= FRAME_BUDGET_BYTES for m in msgs)
    assert "".join(json.loads(m)["text"] for m in msgs) == text


def test_translation_split_text_prefers_spaces():
    assert split_text_to_budget("ab cd ef gh", 5) == ["ab ", "cd ", "ef gh"]
    assert split_text_to_budget("abcdefgh", 3) == ["abc", "def", "gh"]


def test_translation_settings_ssml_pace_follows_emotion_rate_band():
    assert TranslationSettings.from_env(_env()).typical_wpm == 145.0
    s = TranslationSettings.from_env(_env(RATE_SLOW_THRESHOLD="120", RATE_MEDIUM_THRESHOLD="150"))
    assert s.typical_wpm == 135.0


def test_translation_clients_override_and_reset():
    from translation_pipeline import clients

    fake = object()
    clients.override(translate=fake)
    try:
        assert clients.get("translate") is fake
        with pytest.raises(ValueError):
            clients.override(lambda_=fake)
    finally:
        clients.reset()
    assert clients._overrides == {}

"""The shared language catalogue: real AWS codes and voices, and session management and the pipeline agreeing on it.

A listener may join only in a language the translation pipeline can translate into and voice;
these tests hold both components to the one catalogue in ``common.languages``.
"""

from __future__ import annotations

import botocore.session
import pytest
from session_management.messages import parse_message
from translation_pipeline.tests.fakes import recorded_describe_voices
from translation_pipeline.voices import OfferedVoice, VoiceCatalog

from common import languages
from common.envelope import ClientError

LISTENER_CODES = {"ar", "ca", "cs", "da", "de", "en", "es", "es-MX", "fi", "fr", "fr-CA", "hi", "it", "ja", "ko", "nl",
                  "no", "pl", "pt", "pt-PT", "sv", "tr", "zh"}


@pytest.fixture(scope="module")
def offered() -> dict[str, OfferedVoice]:
    """The neural voices of the recorded DescribeVoices pages, by voice id."""
    voices = [OfferedVoice.from_api(v) for page in recorded_describe_voices() for v in page["Voices"]]
    return {v.voice_id: v for v in voices}


def _session_accepts(code: str) -> str | None:
    """The target language session management stores for a joinSession in ``code``, or None if refused."""
    body = f'{{"action":"joinSession","sessionId":"abacus-abdomen-0042","targetLanguage":"{code}"}}'
    try:
        return parse_message(body, ("joinSession",)).target_language
    except ClientError as error:
        assert error.code == "UNSUPPORTED_LANGUAGE", (code, error.code)
        return None


def _session_supported() -> list[str]:
    """The target languages session management tells a client it accepts."""
    with pytest.raises(ClientError) as caught:
        parse_message('{"action":"joinSession","sessionId":"abacus-abdomen-0042","targetLanguage":"xx"}', ("joinSession",))
    return caught.value.details["supported"]


def test_common_source_languages_are_transcribe_streaming_codes() -> None:
    codes = languages.TRANSCRIBE_STREAMING_LANGUAGES
    batch = set(botocore.session.get_session().get_service_model("transcribe").shape_for("LanguageCode").enum)
    assert len(codes) == len(set(codes))
    assert {"en-US", "es-US", "de-DE", "ja-JP", "zh-CN"} <= set(codes)
    # Streaming-only spellings aside, every code is one Transcribe knows.
    assert set(codes) - batch <= {"es-MX", "et-ET", "fa-AF", "ht-HT", "jv-ID", "km-KH", "my-MM", "ne-NP", "sq-AL", "am-ET"}
    assert languages.canonical_source_language("EN-us") == "en-US"
    assert languages.canonical_source_language("xx-YY") is None


def test_common_listener_languages_are_real_translate_and_polly_codes() -> None:
    polly = botocore.session.get_session().get_service_model("polly")
    voice_ids = set(polly.shape_for("VoiceId").enum)
    polly_languages = set(polly.shape_for("LanguageCode").enum)
    assert set(languages.LISTENER_LANGUAGES) == LISTENER_CODES
    for code, lang in languages.LISTENER_LANGUAGES.items():
        assert lang.code == code and lang.voices and lang.voice == lang.voices[0]
        assert lang.polly_language in polly_languages, code
        assert set(lang.voices) <= voice_ids, code
        assert len(lang.voices) == len(set(lang.voices)), code
        # The pipeline looks voices up by Translate code: a listener code must already be one.
        assert languages.translate_code(code) == code
    assert languages.canonical_target_language("PT-pt") == "pt-PT"
    assert languages.listener_language("no").polly_language == "nb-NO"
    assert languages.canonical_target_language("ru") is None  # Polly has no neural Russian voice


def test_common_every_listener_language_has_a_recorded_neural_voice(offered) -> None:
    for code, lang in languages.LISTENER_LANGUAGES.items():
        speaking = [v for v in lang.voices if v in offered and offered[v].speaks(lang.polly_language)]
        assert speaking, f"{code}: none of {lang.voices} is a recorded neural voice for {lang.polly_language}"


def test_common_every_accepted_target_is_voiced_by_the_pipeline(offered) -> None:
    supported = _session_supported()
    assert sorted(supported) == sorted(languages.LISTENER_LANGUAGES)
    # Beyond the advertised list: whatever spelling of a Transcribe or Translate code a client sends.
    candidates = set(supported) | set(languages.TRANSCRIBE_STREAMING_LANGUAGES)
    candidates |= {languages.primary(c) for c in candidates} | {languages.translate_code(c) for c in candidates}
    candidates |= {c.upper() for c in candidates} | {"zh-TW", "fa-AF", "ru", "ro", "is", "cy"}
    accepted = {code for code in map(_session_accepts, sorted(candidates)) if code is not None}
    assert accepted == set(supported)

    in_region, trusted = VoiceCatalog(offered=offered), VoiceCatalog()
    for code in accepted:
        lang = languages.listener_language(code)
        voice = in_region.voice_for(code)
        assert voice in lang.voices and offered[voice].speaks(lang.polly_language), (code, voice)
        assert trusted.voice_for(code) == lang.voice  # DescribeVoices unavailable: the default

"""Unit tests of the plain modules: session ids, settings, message parsing (the language catalogue itself: common/tests)."""

from __future__ import annotations

import pytest
from common.envelope import ClientError
from common.languages import LISTENER_LANGUAGES, TRANSCRIBE_STREAMING_LANGUAGES
from common.settings import SettingsError

from session_management import session_ids
from session_management.messages import parse_message
from session_management.settings import load_settings
from session_management.wordlist import WORDS

TABLES = {"SESSIONS_TABLE": "s", "CONNECTIONS_TABLE": "c", "RATE_LIMITS_TABLE": "r"}


def test_session_ids_are_human_friendly_unique_and_documented_entropy() -> None:
    assert len(WORDS) == 7772 and len(set(WORDS)) == len(WORDS)
    assert all(word.isalpha() and word.islower() and 3 <= len(word) <= 9 for word in WORDS)
    assert 39.0 < session_ids.entropy_bits() < 39.3
    ids = {session_ids.generate_session_id() for _ in range(5000)}
    assert len(ids) == 5000
    assert all(session_ids.normalize_session_id(i) == i for i in ids)


@pytest.mark.parametrize("raw,expected", [
    ("  Abacus-Abdomen-0042 ", "abacus-abdomen-0042"),
    ("abacus-abdomen-42", None),
    ("abacus-notaword-0042", None),
    ("abacus abdomen 0042", None),
    ("abacus-abdomen-00420", None),
    ("", None),
])
def test_session_id_normalization(raw: str, expected: str | None) -> None:
    assert session_ids.normalize_session_id(raw) == expected


def test_settings_defaults_and_validation() -> None:
    settings = load_settings(TABLES)
    assert settings.max_listeners == 500 and settings.connections_by_session_index == "BySessionLanguage"
    assert settings.session_max_duration_seconds == 7200 and settings.websocket_endpoint == ""
    with pytest.raises(SettingsError, match="SESSIONS_TABLE"):
        load_settings({"CONNECTIONS_TABLE": "c", "RATE_LIMITS_TABLE": "r"})
    with pytest.raises(SettingsError, match="REFRESH_MINUTES"):
        load_settings({**TABLES, "REFRESH_MINUTES": "110", "WARNING_MINUTES": "105"})
    with pytest.raises(SettingsError, match="MAX_LISTENERS"):
        load_settings({**TABLES, "MAX_LISTENERS": "0"})
    with pytest.raises(SettingsError, match="MAX_LISTENERS"):
        load_settings({**TABLES, "MAX_LISTENERS": "many"})


def test_parse_valid_messages() -> None:
    msg = parse_message('{"action":"joinSession","sessionId":"Abacus-Abdomen-0042","targetLanguage":"ES","requestId":"j-1"}',
                        ("joinSession",))
    assert (msg.session_id, msg.target_language, msg.request_id) == ("abacus-abdomen-0042", "es", "j-1")
    msg = parse_message('{"action":"speakerControl","sessionId":"abacus-abdomen-0042","command":"mute"}', ("speakerControl",))
    assert msg.command == "mute"
    msg = parse_message('{"action":"listenerControl","command":"leave"}', ("listenerControl", "leaveSession"))
    assert msg.command == "leave" and msg.target_language is None


@pytest.mark.parametrize("body,code,field", [
    ('{"action":"joinSession","sessionId":"abacus-abdomen-0042"}', "MISSING_FIELD", "targetLanguage"),
    ('{"action":"joinSession","sessionId":7,"targetLanguage":"es"}', "INVALID_FIELD", "sessionId"),
    ('{"action":"joinSession","sessionId":"abacus-abdomen-0042","targetLanguage":"es","x":1}', "UNKNOWN_FIELD", "x"),
    ('{"action":"speakerControl","sessionId":"abacus-abdomen-0042","command":"explode"}', "INVALID_FIELD", "command"),
    ('{"action":"createSession","sourceLanguage":"en-US","requestId":"has space"}', "INVALID_FIELD", "requestId"),
])
def test_parse_errors_name_the_field(body: str, code: str, field: str) -> None:
    action = body.split('"action":"')[1].split('"')[0]
    with pytest.raises(ClientError) as caught:
        parse_message(body, (action,))
    assert caught.value.code == code and caught.value.details["field"] == field


def test_languages_are_validated_against_the_common_catalogue() -> None:
    msg = parse_message('{"action":"createSession","sourceLanguage":"EN-us"}', ("createSession",))
    assert msg.source_language == "en-US"
    msg = parse_message('{"action":"listenerControl","command":"switchLanguage","targetLanguage":"PT-pt"}', ("listenerControl",))
    assert msg.target_language == "pt-PT"
    with pytest.raises(ClientError) as caught:
        parse_message('{"action":"joinSession","sessionId":"abacus-abdomen-0042","targetLanguage":"ru"}', ("joinSession",))
    # Polly has no neural Russian voice, so listeners cannot choose it; the reply lists what they can.
    assert caught.value.code == "UNSUPPORTED_LANGUAGE" and caught.value.details["supported"] == sorted(LISTENER_LANGUAGES)
    with pytest.raises(ClientError) as caught:
        parse_message('{"action":"createSession","sourceLanguage":"xx-YY"}', ("createSession",))
    assert caught.value.details["supported"] == list(TRANSCRIBE_STREAMING_LANGUAGES)


def test_deeply_nested_json_is_refused_not_crashed() -> None:
    with pytest.raises(ClientError) as caught:
        parse_message("[" * 4000 + "]" * 4000, ("heartbeat",))
    assert caught.value.code == "INVALID_JSON"

"""The Lambda entry point: wiring from the environment, payload validation, EMF metrics."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from common.observability import metrics

from translation_pipeline import clients, handler
from translation_pipeline.settings import get_settings
from translation_pipeline.tests.fakes import (
    CACHE,
    CONNECTIONS,
    INDEX,
    SESSIONS,
    FakeManagementApi,
    FakePolly,
    FakeTranslate,
    put_connection,
    put_session,
    segment_event,
)

SID = "golden-eagle-4821"


@dataclass
class Context:
    function_name: str = "translation-processor"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:translation-processor"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "req-1"
    log_group_name: str = "/aws/lambda/translation-processor"
    log_stream_name: str = "stream"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def wired(ddb, now, monkeypatch):
    """Handler wired from env vars, with the clients overridden the way an end-to-end test would."""
    env = {"SESSIONS_TABLE": SESSIONS, "CONNECTIONS_TABLE": CONNECTIONS, "CONNECTIONS_BY_SESSION_INDEX": INDEX,
           "TRANSLATION_CACHE_TABLE": CACHE, "WEBSOCKET_ENDPOINT": "https://abc123.execute-api.us-east-1.amazonaws.com/dev",
           "BROADCAST_CONCURRENCY": "8", "RETRY_BASE_DELAY": "0.001", "RETRY_MAX_DELAY": "0.002",
           "POWERTOOLS_SERVICE_NAME": "translation"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(metrics, "namespace", "SpeechTranslation")
    monkeypatch.setattr(metrics, "service", "translation")
    get_settings.cache_clear()
    api, translate, polly = FakeManagementApi(), FakeTranslate(), FakePolly()
    clients.override(dynamodb=ddb, translate=translate, polly=polly, management=api)
    handler.use_processor(None)
    put_session(ddb, SID, now, listeners=1)
    put_connection(ddb, "es1", SID, now, language="es")
    yield api, translate, polly
    processor = handler._processor
    if processor is not None:
        processor.shutdown()
    handler.use_processor(None)
    clients.reset()
    get_settings.cache_clear()
    metrics.clear_metrics()


def _emf(capsys):
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = {}
    for blob in blobs:
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                names.setdefault(metric["Name"], []).append((directive["Dimensions"], blob[metric["Name"]]))
    return names


def test_translation_handler_processes_and_emits_metrics(wired, capsys):
    api, translate, polly = wired
    reply = handler.lambda_handler(segment_event(SID, 1), Context())
    assert reply["status"] == "processed" and reply["languages"]["es"]["audio_parts"] == 1
    assert [msg["type"] for msg in api.messages_for("es1")] == ["caption", "audio"]
    emitted = _emf(capsys)
    for name in ("EndToEndLatency", "TranslationLatency", "PollySynthesisLatency", "CacheMiss", "CacheHit", "MessagesPosted"):
        assert name in emitted, name
    assert emitted["CacheMiss"][0][0] == [["service"]]


def test_translation_handler_language_failure_has_language_dimension(wired, capsys):
    api, translate, polly = wired
    translate.failures["es"] = -1
    with pytest.raises(handler.LanguagesFailed) as raised:
        handler.lambda_handler(segment_event(SID, 1), Context())
    assert raised.value.languages == ["es"] and api.posts == []
    emitted = _emf(capsys)
    dims = sorted(tuple(d[0]) for d, _ in emitted["LanguageFailures"])
    # Once without Language (the alarm's fixed dimension set), once with it (dashboards).
    assert dims == [("service",), ("service", "Language")]


@pytest.mark.parametrize("event", [{}, {"sessionId": SID}, "not json", None, segment_event(SID, 1, text="")])
def test_translation_handler_bad_payload_logged_counted_never_broadcast(wired, capsys, event):
    api, translate, polly = wired
    reply = handler.lambda_handler(event, Context())
    assert reply["status"] == "invalid" and api.posts == [] and translate.calls == []
    emitted = _emf(capsys)
    assert "InvalidSegments" in emitted and "ErrorCount" in emitted


def test_translation_handler_unexpected_fault_raises_for_async_retry(wired, ddb, monkeypatch, capsys):
    def broken(**_):
        raise RuntimeError("boom")

    monkeypatch.setattr(ddb, "query", broken)
    with pytest.raises(RuntimeError):
        handler.lambda_handler(segment_event(SID, 1), Context())
    assert "ErrorCount" in _emf(capsys)


def test_translation_handler_failed_language_is_retried_alone(wired, ddb, now, capsys):
    """A language whose translation failed makes the invocation fail, so Lambda's async retry runs;
    the retry serves that language only (the others were served once)."""
    api, translate, polly = wired
    put_connection(ddb, "fr1", SID, now, language="fr")
    translate.failures["fr"] = -1
    with pytest.raises(handler.LanguagesFailed):
        handler.lambda_handler(segment_event(SID, 1), Context())
    assert [m["type"] for m in api.messages_for("es1")] == ["caption", "audio"] and api.messages_for("fr1") == []
    translate.failures.clear()
    retry = handler.lambda_handler(segment_event(SID, 1), Context())  # what Lambda's retry does
    assert retry["status"] == "processed" and set(retry["languages"]) == {"fr"}
    assert [m["type"] for m in api.messages_for("fr1")] == ["caption", "audio"]
    assert len(api.messages_for("es1")) == 2
    print("\nFAULT|translation: one language's Translate fails (async retry serves it alone)|survived")

"""The Lambda handler: contract, error codes, metrics, and malformed events (hypothesis)."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from botocore.exceptions import ClientError as BotoClientError
from emotion_dynamics import handler
from emotion_dynamics.settings import get_settings
from emotion_dynamics.synthesis import PollySynthesizer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUNCTIONS = Path(__file__).resolve().parents[2]


class Context:
    function_name = "emotion-dynamics"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:emotion-dynamics"
    aws_request_id = "req-1"


class FakePolly:
    """Scripted Polly client: each call pops an exception to raise or bytes to return (default audio)."""

    def __init__(self, *script):
        self.script = list(script)
        self.calls: list[dict] = []

    def synthesize_speech(self, **kwargs):
        self.calls.append(kwargs)
        item = self.script.pop(0) if self.script else b"mp3-bytes"
        if isinstance(item, Exception):
            raise item
        return {"AudioStream": io.BytesIO(item)}


def polly_error(code: str, status: int = 400) -> BotoClientError:
    return BotoClientError({"Error": {"Code": code, "Message": code},
                            "ResponseMetadata": {"HTTPStatusCode": status}}, "SynthesizeSpeech")


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch):
    for name in ("MAX_RETRIES", "MAX_AUDIO_DURATION_SECONDS", "DEFAULT_VOICE_ID", "POLLY_OUTPUT_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    handler.set_polly_client(None)
    yield
    handler.set_synthesizer(None)
    handler.set_polly_client(None)
    get_settings.cache_clear()


def use_polly(*script) -> FakePolly:
    client = FakePolly(*script)
    handler.set_synthesizer(PollySynthesizer(client, 2, 0.01, 0.05, sleep=lambda s: None))
    return client


def pcm_event(samples: np.ndarray, sample_rate: int = 16000, **extra) -> dict:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    return {"audio_data": base64.b64encode(pcm).decode("ascii"), "sample_rate": sample_rate, "text": "Hola, ¿qué tal?", **extra}


def call(event) -> dict:
    reply = handler.lambda_handler(event, Context())
    json.dumps(reply, allow_nan=False)  # always serialisable
    return reply


def test_full_request_with_synthesis(train):
    polly = use_polly()
    reply = call(pcm_event(train(4.0, 2.0, level=0.3), voice_id="Lucia"))
    assert reply["statusCode"] == 200
    assert set(reply) == {"statusCode", "dynamics", "ssml", "audio", "format", "fallback"}
    assert base64.b64decode(reply["audio"]) == b"mp3-bytes"
    assert (reply["format"], reply["fallback"]) == ("mp3", False)
    assert reply["dynamics"]["rate"]["source"] == "acoustic"
    ET.fromstring(reply["ssml"])
    assert polly.calls[0]["TextType"] == "ssml" and polly.calls[0]["VoiceId"] == "Lucia"
    assert polly.calls[0]["Engine"] == "neural" and polly.calls[0]["OutputFormat"] == "mp3"


def test_no_synthesis_when_not_asked(train):
    polly = use_polly()
    reply = call(pcm_event(train(4.0, 2.0), synthesize=False))
    assert set(reply) == {"statusCode", "dynamics", "ssml"}
    assert polly.calls == []


def test_float_samples_at_44k_with_word_timings_and_standard_engine(train):
    use_polly()
    samples = train(4.0, 1.0, level=0.3, sample_rate=44100)
    reply = call({"audio_data": samples.tolist(), "sample_rate": 44100, "text": "hello", "engine": "standard",
                  "word_timings": [[0.0, 0.3], [0.4, 0.8]], "synthesize": False})
    assert reply["statusCode"] == 200
    assert reply["dynamics"]["rate"] == {"level": "medium", "wpm": 150.0, "source": "transcript"}
    assert "pitch=" in reply["ssml"] or 'volume="medium"' in reply["ssml"]


def test_silent_audio_is_analysed_not_refused():
    use_polly()
    reply = call(pcm_event(np.zeros(16000), synthesize=False))
    assert reply["statusCode"] == 200
    assert reply["dynamics"]["volume"]["level"] == "silent"
    assert reply["dynamics"]["rate"]["level"] == "unknown"


def test_default_voice_comes_from_settings(monkeypatch, train):
    monkeypatch.setenv("DEFAULT_VOICE_ID", "Matthew")
    get_settings.cache_clear()
    polly = use_polly()
    call(pcm_event(train(4.0, 1.0)))
    assert polly.calls[0]["VoiceId"] == "Matthew"


def test_invalid_ssml_falls_back_to_plain_text(train):
    polly = use_polly(polly_error("InvalidSsmlException"), b"plain")
    reply = call(pcm_event(train(4.0, 1.0)))
    assert reply["statusCode"] == 200 and reply["fallback"] is True
    assert [c["TextType"] for c in polly.calls] == ["ssml", "text"]


def test_synthesis_failure_is_a_502(train):
    use_polly(polly_error("InvalidSsmlException"), *[polly_error("ServiceFailureException", 500)] * 3)
    reply = call(pcm_event(train(4.0, 1.0)))
    assert reply == {"statusCode": 502, "error": {"code": "SYNTHESIS_FAILED", "message": reply["error"]["message"]}}


def test_bad_configuration_is_a_structured_500(monkeypatch, train):
    monkeypatch.setenv("MAX_RETRIES", "lots")
    get_settings.cache_clear()
    reply = call(pcm_event(train(4.0, 1.0)))
    assert reply["statusCode"] == 500 and reply["error"]["code"] == "CONFIGURATION_ERROR"


def test_unexpected_failure_is_a_structured_500(monkeypatch, train):
    use_polly()
    monkeypatch.setattr(handler, "analyze_dynamics", lambda *a, **k: 1 / 0)
    reply = call(pcm_event(train(4.0, 1.0)))
    assert reply["statusCode"] == 500 and reply["error"]["code"] == "INTERNAL_ERROR"


def test_too_long_audio(monkeypatch):
    monkeypatch.setenv("MAX_AUDIO_DURATION_SECONDS", "1")
    get_settings.cache_clear()
    reply = call(pcm_event(np.zeros(20000)))
    assert reply["statusCode"] == 400 and reply["error"]["code"] == "AUDIO_TOO_LONG"


@pytest.mark.parametrize(("change", "code"), [
    ({"audio_data": None}, "MISSING_AUDIO"),
    ({"audio_data": ""}, "EMPTY_AUDIO"),
    ({"audio_data": "%%%%"}, "INVALID_BASE64"),
    ({"audio_data": base64.b64encode(b"\x00\x01\x02").decode()}, "ODD_BYTE_COUNT"),
    ({"audio_data": [0.0, float("nan")]}, "NON_FINITE_AUDIO"),
    ({"audio_data": [0.0, 2.0]}, "SAMPLE_OUT_OF_RANGE"),
    ({"audio_data": 42}, "INVALID_AUDIO_TYPE"),
    ({"sample_rate": 96000}, "INVALID_SAMPLE_RATE"),
    ({"sample_rate": "16000"}, "INVALID_SAMPLE_RATE"),
    ({"sample_rate": None}, "INVALID_SAMPLE_RATE"),
    ({"text": None}, "MISSING_TEXT"),
    ({"text": "   "}, "MISSING_TEXT"),
    ({"text": 5}, "INVALID_TEXT"),
    ({"text": "x" * 3001}, "TEXT_TOO_LONG"),
    ({"engine": "generative"}, "INVALID_ENGINE"),
    ({"voice_id": "Joanna; DROP"}, "INVALID_VOICE_ID"),
    ({"voice_id": 7}, "INVALID_VOICE_ID"),
    ({"synthesize": "yes"}, "INVALID_SYNTHESIZE"),
    ({"word_timings": [[1.0, 0.5]]}, "INVALID_WORD_TIMINGS"),
    ({"word_timings": "soon"}, "INVALID_WORD_TIMINGS"),
])
def test_error_codes(change, code):
    use_polly()
    event = {**pcm_event(np.zeros(1600)), **change}
    reply = call(event)
    assert reply["statusCode"] == 400
    assert reply["error"]["code"] == code
    assert isinstance(reply["error"]["message"], str) and reply["error"]["message"]


@pytest.mark.parametrize("event", [None, [], "text", 3, {"nothing": True}])
def test_non_object_events(event):
    reply = call(event)
    assert reply["statusCode"] == 400


def test_metrics_are_emitted_as_emf(capsys, train):
    use_polly()
    call(pcm_event(train(4.0, 1.0)))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = {m["Name"] for blob in lines for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"EmotionExtractionLatency", "VolumeDetectionLatency", "RateDetectionLatency", "SSMLGenerationLatency",
            "PollySynthesisLatency", "EndToEndLatency"} <= names


def test_fallback_and_error_metrics(capsys, train):
    use_polly(polly_error("InvalidSsmlException"), *[polly_error("ThrottlingException")] * 3)
    call(pcm_event(train(4.0, 1.0)))
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(b.get("FallbackCount") in (1.0, [1.0]) for b in blobs)
    assert any(b.get("ErrorCount") in (1.0, [1.0]) for b in blobs)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=20,
)
field_values = {
    "audio_data": json_values | st.text(alphabet="ABCDEFabcdef0123456789+/=", max_size=64)
    | st.lists(st.floats(min_value=-1.5, max_value=1.5) | st.just(float("nan")), max_size=300),
    "sample_rate": json_values | st.sampled_from([8000, 16000, 44100.0, 48000, 7999, 48001]),
    "text": json_values | st.text(max_size=50),
    "voice_id": json_values | st.sampled_from(["Joanna", "Hans"]),
    "engine": json_values | st.sampled_from(["neural", "standard"]),
    "synthesize": json_values,
    "word_timings": json_values | st.lists(st.tuples(st.floats(0, 5), st.floats(0, 5)).map(list), max_size=4),
}
events = st.one_of(
    json_values,
    st.fixed_dictionaries({}, optional={k: v for k, v in field_values.items()}),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(event=events)
def test_malformed_events_always_get_a_structured_reply(event):
    use_polly()
    reply = handler.lambda_handler(event, Context())
    json.dumps(reply, allow_nan=False)
    assert reply["statusCode"] in (200, 400), reply
    if reply["statusCode"] == 400:
        assert set(reply) == {"statusCode", "error"}
        assert reply["error"]["code"].isupper() and reply["error"]["message"]
    else:
        assert set(reply["dynamics"]) == {"volume", "rate"}


def test_handler_imports_no_librosa_scipy_or_numba():
    code = ("import os, sys; os.environ.setdefault('POWERTOOLS_METRICS_NAMESPACE', 't'); "
            f"sys.path.insert(0, {str(FUNCTIONS)!r}); "
            "import emotion_dynamics.handler, emotion_dynamics.dynamics, emotion_dynamics.ssml, emotion_dynamics.synthesis; "
            "import numpy as np; from emotion_dynamics.dynamics import analyze_dynamics, DynamicsThresholds; "
            "analyze_dynamics(np.zeros(16000, np.float32), 16000, DynamicsThresholds()); "
            "print(sorted(m for m in ('librosa', 'scipy', 'numba', 'llvmlite') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"

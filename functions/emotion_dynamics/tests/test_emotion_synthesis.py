"""Polly synthesis: retries with jittered backoff, plain-text fallback, errors."""

from __future__ import annotations

import io

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.response import StreamingBody
from botocore.stub import Stubber
from emotion_dynamics.synthesis import PollySynthesizer, SynthesisError, client_config, is_retryable

SSML = '<speak><prosody rate="100%" volume="medium">Hello</prosody></speak>'


class Recorder:
    """Stands in for powertools metrics and logger."""

    def __init__(self) -> None:
        self.metrics: list[tuple[str, float]] = []
        self.logs: list[tuple[str, str]] = []

    def add_metric(self, name, unit, value):
        self.metrics.append((name, value))

    def warning(self, message, extra=None):
        self.logs.append(("warning", message))


def audio_response(data: bytes = b"ID3-audio") -> dict:
    return {"AudioStream": StreamingBody(io.BytesIO(data), len(data)), "ContentType": "audio/mpeg",
            "RequestCharacters": 5}


@pytest.fixture
def polly():
    client = boto3.client("polly", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
                          config=client_config())
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def make(client, recorder, sleeps, max_retries=3, rng=lambda: 0.5):
    return PollySynthesizer(client, max_retries, 0.1, 2.0, sleep=sleeps.append, rng=rng, metrics=recorder, logger=recorder)


def expect(text_type: str, text: str) -> dict:
    return {"Text": text, "TextType": text_type, "VoiceId": "Joanna", "Engine": "neural", "OutputFormat": "mp3"}


def test_success_first_time(polly):
    client, stubber = polly
    rec, sleeps = Recorder(), []
    stubber.add_response("synthesize_speech", audio_response(b"abc"), expect("ssml", SSML))
    result = make(client, rec, sleeps).synthesize("Hello", SSML, "Joanna", "neural", "mp3")
    assert (result.audio, result.format, result.fallback, result.attempts) == (b"abc", "mp3", False, 1)
    assert sleeps == [] and rec.metrics == []


def test_throttling_then_success(polly):
    client, stubber = polly
    rec, sleeps = Recorder(), []
    stubber.add_client_error("synthesize_speech", "ThrottlingException", "Rate exceeded", 400)
    stubber.add_client_error("synthesize_speech", "ServiceFailureException", "oops", 500)
    stubber.add_response("synthesize_speech", audio_response(), expect("ssml", SSML))
    result = make(client, rec, sleeps).synthesize("Hello", SSML, "Joanna", "neural", "mp3")
    assert result.fallback is False and result.attempts == 3
    assert sleeps == pytest.approx([0.05, 0.1])  # rng 0.5 * (0.1, 0.2)
    assert rec.metrics == [("PollyThrottled", 1)]  # the throttle (the account's quota), not the service failure


def test_throttling_beyond_retries_falls_back_to_plain_text(polly):
    client, stubber = polly
    rec, sleeps = Recorder(), []
    for _ in range(3):  # max_retries=2: 3 SSML attempts
        stubber.add_client_error("synthesize_speech", "ThrottlingException", "Rate exceeded", 400)
    stubber.add_response("synthesize_speech", audio_response(b"plain"), expect("text", "Hello"))
    result = make(client, rec, sleeps, max_retries=2).synthesize("Hello", SSML, "Joanna", "neural", "mp3")
    assert (result.audio, result.fallback, result.attempts) == (b"plain", True, 4)
    assert rec.metrics == [("PollyThrottled", 1)] * 3 + [("FallbackCount", 1)]
    assert len(sleeps) == 2


def test_invalid_ssml_falls_back_at_once(polly):
    client, stubber = polly
    rec, sleeps = Recorder(), []
    stubber.add_client_error("synthesize_speech", "InvalidSsmlException", "bad SSML", 400)
    stubber.add_response("synthesize_speech", audio_response(b"plain"), expect("text", "Hello"))
    result = make(client, rec, sleeps).synthesize("Hello", SSML, "Joanna", "neural", "mp3")
    assert result.fallback is True and result.attempts == 2
    assert sleeps == []
    assert rec.metrics == [("FallbackCount", 1)]


def test_both_fail_raises_synthesis_error(polly):
    client, stubber = polly
    rec, sleeps = Recorder(), []
    stubber.add_client_error("synthesize_speech", "InvalidSsmlException", "bad SSML", 400)
    for _ in range(2):
        stubber.add_client_error("synthesize_speech", "ServiceFailureException", "down", 500)
    with pytest.raises(SynthesisError) as info:
        make(client, rec, sleeps, max_retries=1).synthesize("Hello", SSML, "Joanna", "neural", "mp3")
    assert info.value.code == "ServiceFailureException"
    assert info.value.attempts == 3
    assert rec.metrics == [("FallbackCount", 1)]


def test_errors_no_fallback_can_fix_fail_at_once(polly):
    client, stubber = polly
    rec, sleeps = Recorder(), []
    stubber.add_client_error("synthesize_speech", "EngineNotSupportedException", "voice has no neural", 400)
    with pytest.raises(SynthesisError) as info:
        make(client, rec, sleeps).synthesize("Hello", SSML, "Joanna", "neural", "mp3")
    assert info.value.code == "EngineNotSupportedException" and info.value.attempts == 1
    assert rec.metrics == [] and sleeps == []


def test_plain_text_request_without_ssml(polly):
    client, stubber = polly
    rec, sleeps = Recorder(), []
    stubber.add_response("synthesize_speech", audio_response(b"plain"), expect("text", "Hello"))
    result = make(client, rec, sleeps).synthesize("  Hello ", None, "Joanna", "neural", "mp3")
    assert result.fallback is False and result.attempts == 1


def test_backoff_is_bounded_and_jittered():
    values = iter([0.0, 0.999, 0.5, 1.0, 0.25, 0.75, 0.9, 0.1])
    synth = PollySynthesizer(object(), 10, 0.1, 0.5, sleep=lambda s: None, rng=lambda: next(values))
    delays = [synth.backoff_delay(k) for k in range(8)]
    caps = [min(0.5, 0.1 * 2 ** k) for k in range(8)]
    assert all(0.0 <= d <= c for d, c in zip(delays, caps, strict=True))
    assert delays[0] == 0.0 and delays[1] == pytest.approx(0.999 * 0.2)
    assert delays[3] == pytest.approx(0.5)  # capped at max_delay
    assert len(set(delays)) > 4  # jittered, not a fixed schedule
    assert PollySynthesizer(object(), 3, 0.1, 2.0).backoff_delay(1000) <= 2.0


class FakeClient:
    """Scripted client: each call pops an exception to raise or bytes to return."""

    def __init__(self, script):
        self.script = list(script)
        self.calls: list[dict] = []

    def synthesize_speech(self, **kwargs):
        self.calls.append(kwargs)
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return {"AudioStream": io.BytesIO(item)}


def test_connection_errors_are_retried_and_long_plain_text_is_cut():
    client = FakeClient([EndpointConnectionError(endpoint_url="https://polly"), b"ok"])
    rec, sleeps = Recorder(), []
    result = make(client, rec, sleeps).synthesize("word " * 1000, None, "Joanna", "neural", "mp3")
    assert result.audio == b"ok" and result.attempts == 2 and len(sleeps) == 1
    assert len(client.calls[-1]["Text"]) <= 3000
    assert is_retryable(EndpointConnectionError(endpoint_url="x"))


def test_constructor_validates_bounds():
    with pytest.raises(ValueError):
        PollySynthesizer(object(), -1, 0.1, 1.0)
    with pytest.raises(ValueError):
        PollySynthesizer(object(), 3, 2.0, 1.0)


def test_default_metrics_object_counts_fallbacks(monkeypatch):
    from common.observability import metrics

    counted = []
    monkeypatch.setattr(metrics, "add_metric", lambda name, unit, value: counted.append(name))
    from botocore.exceptions import ClientError

    bad = ClientError({"Error": {"Code": "InvalidSsmlException", "Message": "x"}}, "SynthesizeSpeech")
    synth = PollySynthesizer(FakeClient([bad, b"ok"]), 3, 0.1, 2.0, sleep=lambda s: None)
    assert synth.synthesize("Hello", SSML, "Joanna", "neural", "mp3").fallback is True
    assert counted == ["FallbackCount"]

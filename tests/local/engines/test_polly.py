"""The local Polly: espeak-ng (and scripted silence) through boto3's polly client, fed the pipeline's own SSML."""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
import pytest
import soundfile
from emotion_dynamics.ssml import build_ssml
from translation_pipeline.voices import VoiceCatalog

from local.engines.polly import (
    EspeakSynthesizer,
    PollyError,
    ScriptedSynthesizer,
    SpeechRequest,
    espeak_ssml,
    polly_app,
    volume_word,
)
from tests.local.engines.server import boto3_client, serving

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                                  reason="needs espeak-ng and sox (apt)")


def _has_mp3() -> bool:
    if shutil.which("sox") is None:
        return False
    return b"mp3" in subprocess.run(["sox", "-h"], capture_output=True).stdout


def _dynamics(volume: str, wpm: float) -> dict:
    return {"volume": {"level": volume, "dbfs": -20.0, "clipping_ratio": 0.0},
            "rate": {"level": "medium", "wpm": wpm, "source": "transcript"}}


def _decode(audio: bytes) -> tuple[np.ndarray, int]:
    data, rate = soundfile.read(io.BytesIO(audio), dtype="float32")
    return data, rate


@pytest.fixture(scope="module")
def espeak_url():
    with serving(polly_app(EspeakSynthesizer()), "/aws/polly") as url:
        yield url


@needs_espeak
@pytest.mark.skipif(not _has_mp3(), reason="needs libsox-fmt-mp3 (apt)")
def test_pipeline_ssml_becomes_mp3_with_the_speakers_pace(espeak_url):
    client = boto3_client("polly", espeak_url)
    text = "Buenos días a todos. Hablaremos sobre la nueva estación de tren."
    durations = {}
    for wpm in (100.0, 200.0):
        ssml = build_ssml(text, _dynamics("medium", wpm), "neural")
        response = client.synthesize_speech(Text=ssml, TextType="ssml", VoiceId="Lucia", Engine="neural", OutputFormat="mp3")
        assert response["ContentType"] == "audio/mpeg"
        audio = response["AudioStream"].read()
        assert int(response["RequestCharacters"]) == len(text)
        samples, rate = _decode(audio)
        assert rate == 24000
        durations[wpm] = len(samples) / rate
    assert 1.0 < durations[200.0] < durations[100.0] < 10.0


@needs_espeak
def test_volume_keywords_and_db_values_change_loudness(espeak_url):
    client = boto3_client("polly", espeak_url)
    levels = {}
    for volume in ("x-soft", "medium", "+6dB"):
        ssml = f'<speak><prosody rate="100%" volume="{volume}">Good morning everyone.</prosody></speak>'
        audio = client.synthesize_speech(Text=ssml, TextType="ssml", VoiceId="Joanna", Engine="neural",
                                         OutputFormat="ogg_vorbis")["AudioStream"].read()
        samples, _ = _decode(audio)
        levels[volume] = float(np.sqrt(np.mean(samples ** 2)))
    assert levels["x-soft"] < levels["medium"] < levels["+6dB"]


@needs_espeak
def test_pcm_plain_text_and_amazon_elements(espeak_url):
    client = boto3_client("polly", espeak_url)
    response = client.synthesize_speech(Text="Hello & welcome <everyone>.", VoiceId="Matthew", OutputFormat="pcm")
    pcm = response["AudioStream"].read()
    assert response["ContentType"] == "audio/pcm" and len(pcm) % 2 == 0 and len(pcm) > 16000  # > 0.5 s at 16 kHz
    ssml = ('<speak><amazon:effect name="drc"><s>Hi <mark name="m1"/><sub alias="World Wide Web">WWW</sub>'
            '<say-as interpret-as="characters">abc</say-as>.</s></amazon:effect><break time="300ms"/></speak>')
    pcm = client.synthesize_speech(Text=ssml, TextType="ssml", VoiceId="Vicki", Engine="neural",
                                   OutputFormat="pcm", SampleRate="8000")["AudioStream"].read()
    assert len(pcm) > 8000


@needs_espeak
def test_ssml_polly_refuses_is_refused(espeak_url):
    client = boto3_client("polly", espeak_url)
    for bad in ("<speak><emphasis>no</emphasis></speak>", '<speak><prosody pitch="+5%">no</prosody></speak>',
                "<speak>unclosed", '<speak><amazon:effect name="whispered">no</amazon:effect></speak>'):
        with pytest.raises(client.exceptions.InvalidSsmlException):
            client.synthesize_speech(Text=bad, TextType="ssml", VoiceId="Joanna", Engine="neural", OutputFormat="mp3")
    with pytest.raises(client.exceptions.TextLengthExceededException):
        client.synthesize_speech(Text="a" * 3001, VoiceId="Joanna", Engine="neural", OutputFormat="mp3")
    with pytest.raises(client.exceptions.InvalidSampleRateException):
        client.synthesize_speech(Text="hi", VoiceId="Joanna", OutputFormat="pcm", SampleRate="24000")
    with pytest.raises(client.exceptions.EngineNotSupportedException):
        client.synthesize_speech(Text="hi", VoiceId="Joanna", Engine="generative", OutputFormat="mp3")
    with pytest.raises(client.exceptions.ClientError, match="ValidationException"):
        client.synthesize_speech(Text="hi", VoiceId="Nobody", OutputFormat="mp3")


def test_describe_voices_serves_the_pipelines_voice_catalog():
    from common.languages import LISTENER_LANGUAGES

    with serving(polly_app(ScriptedSynthesizer()), "/aws/polly") as url:
        client = boto3_client("polly", url)
        catalog = VoiceCatalog(client)
        for code, language in LISTENER_LANGUAGES.items():
            assert catalog.voice_for(code) == language.voices[0], code
        spanish = client.describe_voices(Engine="neural", LanguageCode="es-ES")["Voices"]
        assert {v["Id"] for v in spanish} == {"Lucia", "Sergio"}


@pytest.mark.skipif(shutil.which("sox") is None, reason="needs sox (apt)")
def test_scripted_silence_has_the_format_and_a_plausible_length():
    with serving(polly_app(ScriptedSynthesizer())) as url:
        client = boto3_client("polly", url)
        text = "Buenos días a todos, gracias por venir."
        slow = build_ssml(text, _dynamics("medium", 100.0), "neural")
        fast = build_ssml(text, _dynamics("medium", 200.0), "neural")
        lengths = []
        for ssml in (slow, fast):
            audio = client.synthesize_speech(Text=ssml, TextType="ssml", VoiceId="Lucia", Engine="neural",
                                             OutputFormat="ogg_vorbis")["AudioStream"].read()
            samples, rate = _decode(audio)
            assert rate == 24000 and not np.any(samples)
            lengths.append(len(samples) / rate)
        assert 1.0 < lengths[1] < lengths[0] < 6.0
        pcm = client.synthesize_speech(Text="one two three", VoiceId="Joanna", OutputFormat="pcm")["AudioStream"].read()
        assert pcm == b"\x00" * len(pcm) and len(pcm) == 2 * 16000 * 9 // 10


def test_volume_words():
    assert [volume_word(v) for v in ("+6dB", "+2dB", "0dB", "-4dB", "-20dB", "loud")] == [
        "x-loud", "loud", "medium", "soft", "x-soft", "loud"]
    with pytest.raises(PollyError):
        volume_word("very")


def test_espeak_ssml_keeps_prosody_and_unwraps_amazon_elements():
    request = SpeechRequest.parse({"Text": '<speak><prosody rate="120%" volume="-6dB"><amazon:effect name="drc">'
                                           'Hola <w role="amazon:VB">mundo</w></amazon:effect>.</prosody></speak>',
                                   "TextType": "ssml", "VoiceId": "Lucia", "Engine": "neural", "OutputFormat": "mp3"})
    ssml, billed = espeak_ssml(request)
    assert ssml == '<speak><prosody rate="120%" volume="x-soft">Hola mundo.</prosody></speak>'
    assert billed == len("Hola mundo.")

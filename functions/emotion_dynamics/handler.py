"""Lambda entry point: validate the event, analyse the audio, build SSML, synthesize.

Event::

    {"audio_data": "<base64 PCM16LE>" | [float, ...], "sample_rate": 16000, "text": "...",
     "voice_id": "Joanna", "engine": "neural" | "standard", "synthesize": true,
     "word_timings": [[start, end], ...], "session_id": "...", "segment_id": "..."}

(``voice_id``, ``engine``, ``synthesize``, ``word_timings`` and the correlation ids are
optional.) Reply: ``{"statusCode": 200, "dynamics": {...}, "ssml": "...", "audio": "<base64>",
"format": "mp3", "fallback": false}`` (``audio``/``format``/``fallback`` only when
synthesized), or ``{"statusCode": 400|500|502, "error": {"code": "...", "message": "..."}}``.
The handler never raises: every failure becomes a structured reply.
"""

from __future__ import annotations

import base64
import re
import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from common.envelope import ClientError
from common.observability import lambda_entry, logger, metrics
from common.settings import SettingsError

from emotion_dynamics.audio_input import decode_audio
from emotion_dynamics.dynamics import DynamicsThresholds, analyze_dynamics
from emotion_dynamics.rate import validate_word_timings
from emotion_dynamics.settings import EmotionSettings, get_settings
from emotion_dynamics.ssml import ENGINES, MAX_TEXT_CHARS, SsmlError, build_ssml, clean_text
from emotion_dynamics.synthesis import PollySynthesizer, SynthesisError, client_config

# Polly voice ids are ASCII names ("Joanna", "Lea", "Takumi").
_VOICE_ID = re.compile(r"^[A-Za-z]{2,32}$")
_CORRELATION_KEYS = ("session_id", "segment_id")

_polly_client: Any = None
_synthesizer: PollySynthesizer | None = None


def set_polly_client(client: Any) -> None:
    """Use ``client`` for Polly from now on (tests, or a caller that owns a client)."""
    global _polly_client, _synthesizer
    _polly_client = client
    _synthesizer = None


def set_synthesizer(synthesizer: PollySynthesizer | None) -> None:
    """Use ``synthesizer`` from now on (tests inject sleep/rng this way); None rebuilds from settings."""
    global _synthesizer
    _synthesizer = synthesizer


def get_synthesizer(settings: EmotionSettings) -> PollySynthesizer:
    """The container's synthesizer; the boto3 client is created on first use, once."""
    global _polly_client, _synthesizer
    if _synthesizer is None:
        if _polly_client is None:
            import boto3  # imported here: requests without synthesis never pay for it

            _polly_client = boto3.client("polly", config=client_config())
        _synthesizer = PollySynthesizer(_polly_client, settings.max_retries, settings.retry_base_delay,
                                        settings.retry_max_delay)
    return _synthesizer


def error_reply(status: int, code: str, message: str) -> dict[str, Any]:
    """``{"statusCode": status, "error": {"code": code, "message": message}}``."""
    return {"statusCode": status, "error": {"code": code, "message": message}}


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _metric_ms(name: str, value: float) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=round(value, 3))


def parse_request(event: Any, settings: EmotionSettings) -> dict[str, Any]:
    """Check the event's fields (not the audio) and return them normalised; ``ClientError`` on the first problem."""
    if not isinstance(event, dict):
        raise ClientError("INVALID_EVENT", "the event must be a JSON object")
    text = event.get("text")
    if text is None:
        raise ClientError("MISSING_TEXT", "text is required")
    if not isinstance(text, str):
        raise ClientError("INVALID_TEXT", "text must be a string")
    if not clean_text(text):
        raise ClientError("MISSING_TEXT", "text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise ClientError("TEXT_TOO_LONG", f"text has {len(text)} characters; Polly speaks at most {MAX_TEXT_CHARS}")
    voice_id = event.get("voice_id")
    if voice_id is None:
        voice_id = settings.default_voice_id
    elif not isinstance(voice_id, str) or not _VOICE_ID.match(voice_id):
        raise ClientError("INVALID_VOICE_ID", "voice_id must be a Polly voice id such as 'Joanna'")
    engine = event.get("engine", "neural")
    if engine not in ENGINES:
        raise ClientError("INVALID_ENGINE", f"engine must be one of {', '.join(ENGINES)}")
    synthesize = event.get("synthesize", True)
    if not isinstance(synthesize, bool):
        raise ClientError("INVALID_SYNTHESIZE", "synthesize must be true or false")
    word_timings = event.get("word_timings")
    if word_timings is not None:
        if not isinstance(word_timings, list):
            raise ClientError("INVALID_WORD_TIMINGS", "word_timings must be a list of [start, end] pairs")
        try:
            word_timings = validate_word_timings(word_timings)
        except ValueError as exc:
            raise ClientError("INVALID_WORD_TIMINGS", str(exc)) from None
    return {"text": text, "voice_id": voice_id, "engine": engine, "synthesize": synthesize, "word_timings": word_timings}


def process(event: Any, settings: EmotionSettings) -> dict[str, Any]:
    """The request without the Lambda decorations: parse, analyse, build SSML, maybe synthesize."""
    started = time.perf_counter()
    request = parse_request(event, settings)
    audio = decode_audio(event.get("audio_data"), event.get("sample_rate"), settings.max_audio_duration_seconds)

    thresholds = DynamicsThresholds.from_settings(settings)
    step = time.perf_counter()
    parts: dict[str, float] = {}
    dynamics = analyze_dynamics(audio.samples, audio.sample_rate, thresholds, request["word_timings"], timings=parts)
    _metric_ms("EmotionExtractionLatency", _ms(step))
    _metric_ms("VolumeDetectionLatency", parts["volume_ms"])
    _metric_ms("RateDetectionLatency", parts["rate_ms"])

    step = time.perf_counter()
    ssml = build_ssml(request["text"], dynamics, request["engine"], typical_wpm=thresholds.typical_wpm)
    _metric_ms("SSMLGenerationLatency", _ms(step))

    reply: dict[str, Any] = {"statusCode": 200, "dynamics": dynamics.to_dict(), "ssml": ssml}
    if request["synthesize"]:
        step = time.perf_counter()
        try:
            result = get_synthesizer(settings).synthesize(request["text"], ssml, request["voice_id"], request["engine"],
                                                          settings.polly_output_format)
        finally:
            _metric_ms("PollySynthesisLatency", _ms(step))
        reply.update(audio=base64.b64encode(result.audio).decode("ascii"), format=result.format, fallback=result.fallback)
    _metric_ms("EndToEndLatency", _ms(started))
    logger.info("emotion dynamics", extra={"dynamics": reply["dynamics"], "synthesized": request["synthesize"],
                                           "fallback": reply.get("fallback", False)})
    return reply


def _count_error() -> None:
    metrics.add_metric(name="ErrorCount", unit=MetricUnit.Count, value=1)


@lambda_entry
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Analyse the speaker's dynamics and voice ``text`` with them; see the module docstring."""
    if isinstance(event, dict):
        logger.append_keys(**{k: event[k] for k in _CORRELATION_KEYS if isinstance(event.get(k), str)})
    try:
        settings = get_settings()
    except SettingsError as exc:
        logger.error("bad configuration", extra={"error": str(exc)})
        _count_error()
        return error_reply(500, "CONFIGURATION_ERROR", "the function is misconfigured")
    try:
        return process(event, settings)
    except ClientError as exc:
        logger.warning("request refused", extra={"code": exc.code, "reason": exc.message})
        metrics.add_metric(name="InvalidRequestCount", unit=MetricUnit.Count, value=1)
        return error_reply(exc.status, exc.code, exc.message)
    except SsmlError as exc:
        # parse_request checks what build_ssml needs, so this is a defect, but still a clean 400.
        logger.warning("SSML refused", extra={"reason": str(exc)})
        return error_reply(400, "INVALID_TEXT", str(exc))
    except SynthesisError as exc:
        logger.error("synthesis failed", extra={"code": exc.code, "attempts": exc.attempts, "reason": str(exc)})
        _count_error()
        return error_reply(502, "SYNTHESIS_FAILED", "Polly could not synthesize the text, with SSML or as plain text")
    except Exception:  # noqa: BLE001 - the contract is a structured reply, never an exception
        logger.exception("unexpected failure")
        _count_error()
        return error_reply(500, "INTERNAL_ERROR", "unexpected failure; see the function's logs")

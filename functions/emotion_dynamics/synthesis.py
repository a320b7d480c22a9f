"""Polly synthesis with bounded retries and a plain-text fallback.

* Throttling, service failures, any 5xx and connection errors are retried with
  exponential backoff and full jitter: before retry ``k`` (0-based) the synthesizer sleeps
  ``rng() * min(max_delay, base_delay * 2**k)``. Jitter spreads the retries of many
  concurrent callers, which matters with the neural engine's 8 requests/s quota.
* SSML the service rejects (``InvalidSsmlException`` and the other SSML-specific errors)
  falls back to plain text at once: the same SSML would fail again.
* When the retries on SSML are exhausted, the plain text is tried (with the same retry
  budget), so at most ``2 * (max_retries + 1)`` calls are made.
* Every throttled call is counted (metric ``PollyThrottled``: the account's neural quota,
  8 requests/s per region, is reached), and so is every fallback to plain text (metric
  ``FallbackCount``); ``SynthesisError``
  is raised when plain text fails as well, or at once for errors no retry or fallback can
  fix (access denied, unknown voice, engine not supported by the voice).

The boto3 client should have botocore's own retries off (``client_config()``), so this
policy is the only one and its bounds hold.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from emotion_dynamics.ssml import MAX_TEXT_CHARS, clean_text, truncate_plain

THROTTLING_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"})
RETRYABLE_CODES = THROTTLING_CODES | frozenset({
    "ServiceFailureException", "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure",
    "InternalServerError", "RequestTimeout", "RequestTimeoutException",
})
# Errors caused by the SSML itself (or by marks/length that only SSML requests hit).
SSML_ERROR_CODES = frozenset({
    "InvalidSsmlException", "SsmlMarksNotSupportedForTextTypeException", "TextLengthExceededException",
    "MarksNotSupportedForFormatException",
})


class SynthesisError(RuntimeError):
    """Polly could not synthesize the text, with SSML or as plain text."""

    def __init__(self, message: str, code: str | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.attempts = attempts


@dataclass(frozen=True)
class SynthesisResult:
    """Audio from Polly."""

    audio: bytes
    format: str
    fallback: bool   # True when the SSML failed and this is the plain-text rendition
    attempts: int    # SynthesizeSpeech calls made, fallback included


def client_config() -> Any:
    """botocore config for the Polly client: no SDK retries (ours apply), short timeouts."""
    from botocore.config import Config

    return Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=10)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore error, or the exception's class name."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "")) or type(exc).__name__
    return type(exc).__name__


def is_retryable(exc: BaseException) -> bool:
    """Throttling, service failure, any 5xx, or a connection problem."""
    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return True
    if isinstance(exc, ClientError):
        if error_code(exc) in RETRYABLE_CODES:
            return True
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return isinstance(status, int) and status >= 500
    return False


def is_ssml_error(exc: BaseException) -> bool:
    """An error the SSML caused; plain text may succeed."""
    return isinstance(exc, ClientError) and error_code(exc) in SSML_ERROR_CODES


class _Exhausted(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class PollySynthesizer:
    """``SynthesizeSpeech`` with retries, jittered backoff and a plain-text fallback."""

    def __init__(self, client: Any, max_retries: int, base_delay: float, max_delay: float,
                 sleep: Callable[[float], None] = time.sleep, rng: Callable[[], float] = random.random,
                 *, metrics: Any = None, logger: Any = None) -> None:
        if max_retries < 0 or base_delay <= 0 or max_delay < base_delay:
            raise ValueError("need max_retries >= 0 and 0 < base_delay <= max_delay")
        self.client = client
        self.max_retries = int(max_retries)
        self.base_delay = float(base_delay)
        self.max_delay = float(max_delay)
        self.sleep = sleep
        self.rng = rng
        self._metrics = metrics
        self._logger = logger

    def backoff_delay(self, retry: int) -> float:
        """Full-jitter delay before retry number ``retry`` (0-based)."""
        cap = min(self.max_delay, self.base_delay * (2.0 ** min(retry, 62)))
        return max(0.0, min(cap, self.rng() * cap))

    def synthesize(self, text: str, ssml: str | None, voice_id: str, engine: str, output_format: str) -> SynthesisResult:
        """Speak ``ssml`` (or ``text`` when ``ssml`` is None); fall back to ``text`` when SSML fails."""
        attempts = [0]
        plain = truncate_plain(clean_text(text), MAX_TEXT_CHARS) if isinstance(text, str) else ""
        if ssml is not None:
            try:
                audio = self._with_retries(attempts, ssml, "ssml", voice_id, engine, output_format)
                return SynthesisResult(audio, output_format, False, attempts[0])
            except _Exhausted as exhausted:
                cause = exhausted.cause
                if not (is_ssml_error(cause) or is_retryable(cause)):
                    raise SynthesisError(f"Polly failed: {error_code(cause)}: {cause}", error_code(cause), attempts[0]) from cause
                self._count_fallback(cause)
        if not plain:
            raise SynthesisError("nothing to speak: the text is empty", "EmptyText", attempts[0])
        try:
            audio = self._with_retries(attempts, plain, "text", voice_id, engine, output_format)
        except _Exhausted as exhausted:
            cause = exhausted.cause
            raise SynthesisError(f"Polly failed on plain text: {error_code(cause)}: {cause}", error_code(cause),
                                 attempts[0]) from cause
        return SynthesisResult(audio, output_format, ssml is not None, attempts[0])

    def _with_retries(self, attempts: list[int], text: str, text_type: str, voice_id: str, engine: str,
                      output_format: str) -> bytes:
        for retry in range(self.max_retries + 1):
            attempts[0] += 1
            try:
                return self._call(text, text_type, voice_id, engine, output_format)
            except (ClientError, ConnectionError, HTTPClientError) as exc:
                if text_type == "ssml" and is_ssml_error(exc):
                    raise _Exhausted(exc) from exc
                if error_code(exc) in THROTTLING_CODES:
                    self._recorder().add_metric(name="PollyThrottled", unit="Count", value=1)
                if not is_retryable(exc) or retry == self.max_retries:
                    raise _Exhausted(exc) from exc
                delay = self.backoff_delay(retry)
                self._log("warning", "Polly call failed, retrying", code=error_code(exc), retry=retry + 1, delay_s=round(delay, 3))
                self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _call(self, text: str, text_type: str, voice_id: str, engine: str, output_format: str) -> bytes:
        response = self.client.synthesize_speech(
            Text=text, TextType=text_type, VoiceId=voice_id, Engine=engine, OutputFormat=output_format,
        )
        stream = response["AudioStream"]
        try:
            return stream.read()
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    def _count_fallback(self, cause: BaseException) -> None:
        self._log("warning", "SSML synthesis failed, falling back to plain text", code=error_code(cause))
        self._recorder().add_metric(name="FallbackCount", unit="Count", value=1)

    def _recorder(self) -> Any:
        """The metrics object given, or the function's own (imported only when first needed)."""
        if self._metrics is None:
            from common.observability import metrics
            return metrics
        return self._metrics

    def _log(self, level: str, message: str, **extra: Any) -> None:
        logger = self._logger
        if logger is None:
            from common.observability import logger
        getattr(logger, level)(message, extra=extra)

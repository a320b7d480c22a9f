"""Amazon Translate behind a DynamoDB cache, with jittered retries and the 10,000-byte request limit."""

from __future__ import annotations

import hashlib
import random
import re
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from common.languages import joins_without_space, translate_code
from common.observability import logger
from common.tables import is_live

from .backoff import backoff_delay

MAX_TRANSLATE_BYTES = 10_000
CACHE_KEY_PREFIX = "tr#"
# Throttling, concurrency and transient service faults; anything else (unsupported pair,
# invalid request) fails the same way on every attempt.
RETRYABLE_CODES = frozenset({
    "ThrottlingException", "TooManyRequestsException", "LimitExceededException",
    "ServiceUnavailableException", "InternalServerException", "RequestTimeout", "RequestTimeoutException",
})
_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])\s+|(?<=[。！？])")
_WHITESPACE = re.compile(r"\s+")
_BATCH_GET_LIMIT = 100


class TranslationError(Exception):
    """Translate failed for one target language after its retries."""

    def __init__(self, target: str, reason: str, attempts: int) -> None:
        super().__init__(f"translation to {target} failed after {attempts} attempt(s): {reason}")
        self.target = target
        self.reason = reason
        self.attempts = attempts


def normalize_text(text: str) -> str:
    """NFC-normalized, whitespace-collapsed, trimmed text: what the cache key is computed from."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def cache_key(source: str, target: str, text: str) -> str:
    """Cache key of a translation: ``tr#<source>#<target>#<sha256 of normalized text>``."""
    digest = hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()
    return f"{CACHE_KEY_PREFIX}{translate_code(source)}#{translate_code(target)}#{digest}"


def split_for_translate(text: str, limit: int = MAX_TRANSLATE_BYTES) -> list[str]:
    """Split text into chunks of at most ``limit`` UTF-8 bytes, at sentence ends where possible.

    A sentence over the limit is split at spaces, and a word over the limit at character
    boundaries, so no chunk ever exceeds the limit and no character is cut in half.
    """
    if len(text.encode("utf-8")) <= limit:
        return [text]
    pieces: list[str] = []
    for sentence in (s for s in _SENTENCE_END.split(text) if s):
        if _size(sentence) <= limit:
            pieces.append(sentence)
            continue
        for word in sentence.split(" "):
            if _size(word) <= limit:
                pieces.append(word)
            else:
                pieces.extend(_split_chars(word, limit))
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current} {piece}" if current else piece
        if _size(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return [c for c in chunks if c.strip()]


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _split_chars(word: str, limit: int) -> list[str]:
    out, current, size = [], [], 0
    for char in word:
        width = _size(char)
        if size + width > limit:
            out.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current:
        out.append("".join(current))
    return out


@dataclass(frozen=True)
class CachedTranslation:
    """A cache hit."""

    target: str
    text: str


class TranslationCache:
    """Translations in the cache table (key ``cacheKey``, TTL ``expiresAt``).

    Reads and writes are best effort: a cache fault costs a Translate call, never a segment.
    """

    def __init__(self, dynamodb: Any, table: str, ttl_seconds: int, clock: Callable[[], float] = time.time) -> None:
        self._dynamodb = dynamodb
        self._table = table
        self._ttl = ttl_seconds
        self._clock = clock

    def get_many(self, keys: Iterable[str]) -> dict[str, str]:
        """Cached translations by key, in one BatchGetItem per 100 keys; expired rows are misses."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, str] = {}
        now = self._clock()
        for start in range(0, len(wanted), _BATCH_GET_LIMIT):
            request = {self._table: {
                "Keys": [{"cacheKey": {"S": k}} for k in wanted[start:start + _BATCH_GET_LIMIT]],
                "ProjectionExpression": "cacheKey, translatedText, expiresAt",
            }}
            # Unprocessed keys come back under throughput pressure; two more tries, then they are misses.
            for _ in range(3):
                try:
                    response = self._dynamodb.batch_get_item(RequestItems=request)
                except (ClientError, BotoCoreError) as exc:
                    logger.warning("translation cache read failed", extra={"error": str(exc)})
                    break
                for item in response.get("Responses", {}).get(self._table, []):
                    expires = item.get("expiresAt", {}).get("N")
                    text = item.get("translatedText", {}).get("S")
                    if text and is_live({"expiresAt": expires}, now):
                        found[item["cacheKey"]["S"]] = text
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
        return found

    def put(self, key: str, source: str, target: str, translated: str) -> None:
        """Store a translation with the configured TTL."""
        now = self._clock()
        try:
            self._dynamodb.put_item(TableName=self._table, Item={
                "cacheKey": {"S": key},
                "translatedText": {"S": translated},
                "sourceLanguage": {"S": source},
                "targetLanguage": {"S": target},
                "createdAt": {"N": str(int(now))},
                "expiresAt": {"N": str(int(now) + self._ttl)},
            })
        except (ClientError, BotoCoreError) as exc:
            logger.warning("translation cache write failed", extra={"error": str(exc), "targetLanguage": target})


class Translator:
    """TranslateText with retries on throttling and transient faults, splitting text over 10,000 bytes."""

    def __init__(self, client: Any, max_retries: int, base_delay: float, max_delay: float,
                 sleep: Callable[[float], None] = time.sleep, rng: Callable[[], float] = random.random) -> None:
        self._client = client
        self._max_retries = max_retries
        self._base = base_delay
        self._max = max_delay
        self._sleep = sleep
        self._rng = rng

    def translate(self, text: str, source: str, target: str) -> str:
        """The translation of ``text``; raises ``TranslationError`` once retries are spent.

        Text is normalized first (the same text the cache key hashes), so a cached and a
        fresh translation of one phrase are the same.
        """
        clean = normalize_text(text)
        src, tgt = translate_code(source), translate_code(target)
        joiner = "" if joins_without_space(tgt) else " "
        parts = [self._translate_chunk(chunk, src, tgt) for chunk in split_for_translate(clean)]
        return joiner.join(parts)

    def _translate_chunk(self, chunk: str, source: str, target: str) -> str:
        attempts = 0
        while True:
            attempts += 1
            try:
                response = self._client.translate_text(Text=chunk, SourceLanguageCode=source, TargetLanguageCode=target)
                translated = (response.get("TranslatedText") or "").strip()
                if not translated:
                    # An empty translation is never sent as a caption.
                    raise TranslationError(target, "empty TranslatedText", attempts)
                return translated
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                retryable = code in RETRYABLE_CODES or status == 429 or status >= 500
                if not retryable or attempts > self._max_retries:
                    raise TranslationError(target, code or str(exc), attempts) from exc
            except BotoCoreError as exc:
                # Connection resets and read timeouts are transient.
                if attempts > self._max_retries:
                    raise TranslationError(target, type(exc).__name__, attempts) from exc
            self._sleep(backoff_delay(attempts - 1, self._base, self._max, self._rng))

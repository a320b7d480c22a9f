"""Local Amazon Translate: Debian's apertium pairs served as Translate's JSON ``TranslateText`` API.

Starting ``apertium`` per request costs 0.3-0.4 s (a dozen processes loading their
transducers), so each language pair runs once as a persistent pipeline: the pair's mode
(``/usr/share/apertium/modes/<pair>.mode``) expanded with null-flush (``-z``), fed one
request at a time as ``text + "\\n\\0"`` and read back up to the ``\\0`` every stage passes
on. That answers in a few milliseconds. The text goes in as apertium's raw stream format
(``-f none``), so its reserved characters are escaped on the way in and unescaped on the way
out; the trailing newline lets the analyser finish the last word before the flush.

``translate_app(engine)`` speaks Translate's JSON 1.1 protocol
(``X-Amz-Target: AWSShineFrontendService_20170701.TranslateText``) so the pipeline's boto3
``translate`` client works unchanged with ``AWS_ENDPOINT_URL_TRANSLATE`` pointing at it.
A pair apertium does not have answers ``UnsupportedLanguagePairException`` (HTTP 400), as
Translate does.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aiohttp import web

TARGET_PREFIX = "AWSShineFrontendService_20170701."
MAX_TEXT_BYTES = 10_000  # TranslateText's limit
MODES_DIR = Path(os.environ.get("APERTIUM_MODES_DIR", "/usr/share/apertium/modes"))
REQUEST_TIMEOUT_SECONDS = 10.0
# apertium's three-letter codes -> Translate's codes (the pairs Debian ships with English).
ISO3_TO_TRANSLATE = {
    "eng": "en", "spa": "es", "cat": "ca", "glg": "gl", "por": "pt", "fra": "fr", "ita": "it", "deu": "de",
    "nld": "nl", "afr": "af", "swe": "sv", "dan": "da", "nob": "no", "nno": "nn", "isl": "is", "mkd": "mk",
    "bul": "bg", "hbs": "sr", "slv": "sl", "rus": "ru", "ukr": "uk", "bel": "be", "eus": "eu", "oci": "oc",
    "ron": "ro", "pol": "pl", "hin": "hi", "urd": "ur", "ind": "id", "zlm": "ms", "epo": "eo", "arg": "an",
    "ast": "ast", "srd": "sc",
}
_RESERVED = re.compile(r"([\\\[\]^$/@<>{}])")
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


class TranslateError(Exception):
    """An error Translate would answer: its ``__type`` code, HTTP status and message."""

    def __init__(self, code: str, message: str, status: int = 400, **fields: str) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.fields = code, message, status, fields


class Translator(Protocol):
    """What ``translate_app`` serves."""

    def pairs(self) -> list[tuple[str, str]]:
        """(source, target) Translate codes this translator handles."""

    async def translate(self, text: str, source: str, target: str) -> str:
        """``text`` in ``target``; ``TranslateError`` when it cannot."""

    def close(self) -> None:
        """Stop whatever runs."""


def translate_code(apertium_code: str) -> str | None:
    """Translate's code for an apertium language code (``eng`` or ``en``; variants like ``_US`` are not pairs)."""
    if "_" in apertium_code:
        return None
    if len(apertium_code) == 2:
        return apertium_code
    return ISO3_TO_TRANSLATE.get(apertium_code)


def installed_pairs(modes_dir: Path = MODES_DIR) -> dict[tuple[str, str], Path]:
    """(source, target) Translate codes -> mode file, for every apertium pair installed."""
    pairs: dict[tuple[str, str], Path] = {}
    if not modes_dir.is_dir():
        return pairs
    for mode in sorted(modes_dir.glob("*.mode")):
        parts = mode.stem.split("-")
        if len(parts) != 2:
            continue
        source, target = (translate_code(p) for p in parts)
        if source and target:
            pairs.setdefault((source, target), mode)
    return pairs


def escape(text: str) -> str:
    """Text as apertium's stream format: reserved characters backslash-escaped."""
    return _RESERVED.sub(r"\\\1", text)


def unescape(text: str) -> str:
    """Apertium output back to plain text."""
    return _ESCAPED.sub(r"\1", text)


def _normalise(code: str) -> str:
    return code.strip().split("-", 1)[0].lower() if code.lower() not in {"zh-tw", "fr-ca", "es-mx", "pt-pt"} else code


class ApertiumPipeline:
    """One pair's pipeline, running as long as the engine; one request at a time."""

    def __init__(self, mode: Path) -> None:
        self.mode = mode
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        command = subprocess.run(["apertium-wblank-mode", "-z", str(self.mode)], check=True, capture_output=True,
                                 text=True).stdout.strip()
        # $1: generator option (-n: no unknown-word marks); $2: tagger option (none).
        return subprocess.Popen(["bash", "-c", command, "apertium", "-n", ""], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
                                env={**os.environ, "LC_ALL": "C.UTF-8"}, start_new_session=True)

    def translate(self, text: str, timeout: float = REQUEST_TIMEOUT_SECONDS) -> str:
        """Translated text (blocking: call from a thread). Restarts a pipeline that died, once."""
        with self._lock:
            for attempt in (1, 2):
                if self._process is None or self._process.poll() is not None:
                    self._process = self._start()
                try:
                    return self._exchange(self._process, text, timeout)
                except (OSError, EOFError, TimeoutError):
                    self._stop()
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def _exchange(self, process: subprocess.Popen[bytes], text: str, timeout: float) -> str:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(escape(text.replace("\0", "")).encode("utf-8") + b"\n\0")
        process.stdin.flush()
        out = bytearray()
        fd = process.stdout.fileno()
        timer = threading.Timer(timeout, self._kill, (process,))
        timer.start()
        try:
            while not out.endswith(b"\0"):
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise TimeoutError("apertium did not answer") if timer.finished.is_set() else EOFError("apertium exited")
                out += chunk
        finally:
            timer.cancel()
        return unescape(out.rstrip(b"\0").decode("utf-8", errors="replace")).strip()

    @staticmethod
    def _kill(process: subprocess.Popen[bytes]) -> None:
        try:
            os.killpg(process.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin:
                process.stdin.close()
            process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self._kill(process)
            process.wait()
        if process.stdout:
            process.stdout.close()

    def close(self) -> None:
        """Stop the pipeline's processes."""
        with self._lock:
            self._stop()


class ApertiumTranslator:
    """Every installed apertium pair, each a persistent pipeline started on first use."""

    def __init__(self, modes_dir: Path = MODES_DIR) -> None:
        if shutil.which("apertium-wblank-mode") is None:
            raise RuntimeError("apertium is not installed (apt-get install apertium apertium-eng-spa ...)")
        self._modes = installed_pairs(modes_dir)
        self._pipelines: dict[tuple[str, str], ApertiumPipeline] = {}
        self._guard = threading.Lock()

    def pairs(self) -> list[tuple[str, str]]:
        """(source, target) Translate codes installed."""
        return sorted(self._modes)

    def _pipeline(self, source: str, target: str) -> ApertiumPipeline:
        key = (_normalise(source), _normalise(target))
        mode = self._modes.get(key)
        if mode is None:
            raise TranslateError("UnsupportedLanguagePairException",
                                 f"Unsupported language pair: {source} to {target}. The local Translate stand-in "
                                 f"(apertium) has: {', '.join(f'{a}-{b}' for a, b in self.pairs()) or 'no pairs'}.",
                                 SourceLanguageCode=source, TargetLanguageCode=target)
        with self._guard:
            if key not in self._pipelines:
                self._pipelines[key] = ApertiumPipeline(mode)
            return self._pipelines[key]

    async def translate(self, text: str, source: str, target: str) -> str:
        """``text`` in ``target`` (same language: unchanged, as Translate returns it)."""
        if _normalise(source) == _normalise(target):
            return text
        pipeline = self._pipeline(source, target)
        try:
            return await asyncio.to_thread(pipeline.translate, text)
        except (OSError, EOFError, TimeoutError) as error:
            raise TranslateError("InternalServerException", f"apertium failed: {error}", 500) from error

    def close(self) -> None:
        """Stop every pipeline."""
        with self._guard:
            pipelines, self._pipelines = list(self._pipelines.values()), {}
        for pipeline in pipelines:
            pipeline.close()


class ScriptedTranslator:
    """Instant and deterministic: ``[es] text``. Every pair between ``languages`` is supported."""

    def __init__(self, languages: tuple[str, ...] = ("en", "es", "ca", "gl", "fr", "de", "it", "pt")) -> None:
        self._languages = languages

    def pairs(self) -> list[tuple[str, str]]:
        """Every ordered pair of distinct languages."""
        return [(a, b) for a in self._languages for b in self._languages if a != b]

    async def translate(self, text: str, source: str, target: str) -> str:
        """``[target] text``."""
        s, t = _normalise(source), _normalise(target)
        if s == t:
            return text
        if s not in self._languages or t not in self._languages:
            raise TranslateError("UnsupportedLanguagePairException", f"Unsupported language pair: {source} to {target}.",
                                 SourceLanguageCode=source, TargetLanguageCode=target)
        return f"[{t}] {text}"

    def close(self) -> None:
        """Nothing runs."""


@dataclass(frozen=True)
class TranslateRequest:
    """A validated TranslateText request."""

    text: str
    source: str
    target: str

    @classmethod
    def parse(cls, body: object) -> TranslateRequest:
        """From the JSON body; ``TranslateError`` (ValidationException and friends) for bad input."""
        if not isinstance(body, Mapping):
            raise TranslateError("SerializationException", "the request body must be a JSON object")
        fields = {}
        for name in ("Text", "SourceLanguageCode", "TargetLanguageCode"):
            value = body.get(name)
            if not isinstance(value, str) or not value.strip():
                raise TranslateError("ValidationException", f"1 validation error detected: Value at '{name[0].lower()}"
                                     f"{name[1:]}' failed to satisfy constraint: Member must not be null or empty")
            fields[name] = value
        if len(fields["Text"].encode("utf-8")) > MAX_TEXT_BYTES:
            raise TranslateError("TextSizeLimitExceededException",
                                 f"Input text size exceeds limit. Max length of request text allowed is {MAX_TEXT_BYTES} bytes.")
        if fields["SourceLanguageCode"] == "auto":
            raise TranslateError("DetectedLanguageLowConfidenceException",
                                 "The local Translate stand-in cannot detect languages: name the source language.")
        return cls(fields["Text"], fields["SourceLanguageCode"], fields["TargetLanguageCode"])


def _error(error: TranslateError) -> web.Response:
    body = {"__type": error.code, "message": error.message, "Message": error.message, **error.fields}
    return web.Response(status=error.status, body=json.dumps(body), content_type="application/x-amz-json-1.1",
                        headers={"x-amzn-ErrorType": error.code})


def translate_app(engine: Translator) -> web.Application:
    """Translate's JSON API (``TranslateText``) over ``engine``; mount it at any path prefix."""

    async def handle(request: web.Request) -> web.Response:
        target = request.headers.get("X-Amz-Target", "")
        if not target.startswith(TARGET_PREFIX):
            return _error(TranslateError("UnknownOperationException", f"unknown X-Amz-Target {target!r}"))
        operation = target[len(TARGET_PREFIX):]
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            return _error(TranslateError("SerializationException", "the request body is not JSON"))
        try:
            if operation == "TranslateText":
                req = TranslateRequest.parse(body)
                text = await engine.translate(req.text, req.source, req.target)
                answer = {"TranslatedText": text, "SourceLanguageCode": req.source, "TargetLanguageCode": req.target}
            elif operation == "ListLanguages":
                codes = sorted({code for pair in engine.pairs() for code in pair})
                answer = {"Languages": [{"LanguageName": code, "LanguageCode": code} for code in codes]}
            else:
                raise TranslateError("UnknownOperationException", f"the local Translate stand-in has no {operation}")
        except TranslateError as error:
            return _error(error)
        return web.Response(body=json.dumps(answer, ensure_ascii=False).encode("utf-8"),
                            content_type="application/x-amz-json-1.1")

    app = web.Application(client_max_size=1024 * 1024)
    # botocore posts to the endpoint URL itself: the prefix with or without a trailing slash.
    app.router.add_post("", handle)
    app.router.add_post("/", handle)
    return app

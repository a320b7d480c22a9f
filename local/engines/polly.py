"""Local Amazon Polly: espeak-ng speaking SSML, served as Polly's REST-JSON API.

``polly_app(engine)`` answers ``SynthesizeSpeech`` (``POST /v1/speech``) and ``DescribeVoices``
(``GET /v1/voices``) as Polly does, so boto3's ``polly`` client works unchanged with
``AWS_ENDPOINT_URL_POLLY`` pointing at it.

``EspeakSynthesizer`` checks SSML against the subset Polly's neural voices accept (anything
else is ``InvalidSsmlException``, as Polly answers), then rewrites it for ``espeak-ng -m``:
``<prosody rate>`` passes through (espeak honours percentages and keywords), volume in dB
(``+6dB``) becomes the nearest keyword espeak understands (``loud``), and the Amazon-only
elements (``amazon:effect``, ``mark``, ``w``, ``lang``, ``phoneme``, ``say-as``) keep their text.
Each Polly voice maps to the espeak voice of its language, female or male variant.
``sox`` turns espeak's WAV into the format asked: ``mp3`` (needs ``libsox-fmt-mp3``),
``ogg_vorbis`` or raw ``pcm``.

``ScriptedSynthesizer`` returns silence of the asked format and a plausible duration
(cached per format and length), for load tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

MAX_TOTAL_CHARS = 6000   # SSML document, tags included
MAX_BILLED_CHARS = 3000  # text only
ENGINES_SUPPORTED = ("neural", "standard")
FORMATS = {  # OutputFormat -> (content type, sox type, sample rates, default rate for neural)
    "mp3": ("audio/mpeg", "mp3", ("8000", "16000", "22050", "24000"), "24000"),
    "ogg_vorbis": ("audio/ogg", "vorbis", ("8000", "16000", "22050", "24000"), "24000"),
    "pcm": ("audio/pcm", "raw", ("8000", "16000"), "16000"),
}
# Tags and attributes neural voices accept (Polly's "supported SSML tags" for neural).
NEURAL_SSML = {
    "speak": set(), "break": {"time", "strength"}, "lang": {"{http://www.w3.org/XML/1998/namespace}lang"},
    "mark": {"name"}, "p": set(), "s": set(), "sub": {"alias"}, "w": {"role"}, "phoneme": {"alphabet", "ph"},
    "say-as": {"interpret-as", "format", "detail"}, "prosody": {"rate", "volume"}, "amazon-effect": {"name"},
}
STANDARD_EXTRA = {"prosody": {"pitch"}, "emphasis": {"level"}, "amazon-auto-breaths": set()}
VOLUME_WORDS = ("silent", "x-soft", "soft", "medium", "loud", "x-loud")
RATE_WORDS = ("x-slow", "slow", "medium", "fast", "x-fast")
_DB = re.compile(r"^([+-]?\d+(?:\.\d+)?)dB$")
_PERCENT = re.compile(r"^\d+(?:\.\d+)?%$")
_AMAZON_TAG = re.compile(r"<(/?)amazon:([a-z-]+)")


class PollyError(Exception):
    """An error Polly would answer: its error code, HTTP status and message."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class Voice:
    """A Polly voice and the espeak-ng voice that stands in for it."""

    id: str
    gender: str
    language: str
    language_name: str
    espeak: str
    additional: tuple[tuple[str, str], ...] = ()  # (Polly language, espeak voice)

    def espeak_voice(self, language: str | None = None) -> str:
        """The espeak voice (with its gender variant) for ``language`` (default: the voice's own)."""
        base = dict(self.additional).get(language or "", self.espeak)
        return f"{base}+{'f3' if self.gender == 'Female' else 'm3'}"

    def describe(self) -> dict:
        """As DescribeVoices lists it."""
        item = {"Gender": self.gender, "Id": self.id, "Name": self.id, "LanguageCode": self.language,
                "LanguageName": self.language_name, "SupportedEngines": list(ENGINES_SUPPORTED)}
        if self.additional:
            item["AdditionalLanguageCodes"] = [code for code, _ in self.additional]
        return item


def _v(id_: str, gender: str, language: str, name: str, espeak: str, *additional: tuple[str, str]) -> Voice:
    return Voice(id_, "Female" if gender == "F" else "Male", language, name, espeak, tuple(additional))


# Polly's neural voices for the languages listeners may choose (and a few more), by espeak voice.
VOICES: Mapping[str, Voice] = {v.id: v for v in (
    _v("Joanna", "F", "en-US", "US English", "en-us"), _v("Matthew", "M", "en-US", "US English", "en-us"),
    _v("Ruth", "F", "en-US", "US English", "en-us"), _v("Stephen", "M", "en-US", "US English", "en-us"),
    _v("Amy", "F", "en-GB", "British English", "en-gb"), _v("Brian", "M", "en-GB", "British English", "en-gb"),
    _v("Lucia", "F", "es-ES", "Castilian Spanish", "es"), _v("Sergio", "M", "es-ES", "Castilian Spanish", "es"),
    _v("Mia", "F", "es-MX", "Mexican Spanish", "es-419"), _v("Andres", "M", "es-MX", "Mexican Spanish", "es-419"),
    _v("Lupe", "F", "es-US", "US Spanish", "es-419"), _v("Arlet", "F", "ca-ES", "Catalan", "ca"),
    _v("Hala", "F", "ar-AE", "Gulf Arabic", "ar"), _v("Zayd", "M", "ar-AE", "Gulf Arabic", "ar"),
    _v("Jitka", "F", "cs-CZ", "Czech", "cs"), _v("Sofie", "F", "da-DK", "Danish", "da"),
    _v("Vicki", "F", "de-DE", "German", "de"), _v("Daniel", "M", "de-DE", "German", "de"),
    _v("Suvi", "F", "fi-FI", "Finnish", "fi"), _v("Lea", "F", "fr-FR", "French", "fr-fr"),
    _v("Remi", "M", "fr-FR", "French", "fr-fr"), _v("Gabrielle", "F", "fr-CA", "Canadian French", "fr-fr"),
    _v("Liam", "M", "fr-CA", "Canadian French", "fr-fr"),
    _v("Kajal", "F", "en-IN", "Indian English", "en-gb", ("hi-IN", "hi")),
    _v("Bianca", "F", "it-IT", "Italian", "it"), _v("Adriano", "M", "it-IT", "Italian", "it"),
    _v("Takumi", "M", "ja-JP", "Japanese", "ja"), _v("Kazuha", "F", "ja-JP", "Japanese", "ja"),
    _v("Tomoko", "F", "ja-JP", "Japanese", "ja"), _v("Seoyeon", "F", "ko-KR", "Korean", "ko"),
    _v("Laura", "F", "nl-NL", "Dutch", "nl"), _v("Ida", "F", "nb-NO", "Norwegian", "nb"),
    _v("Ola", "F", "pl-PL", "Polish", "pl"), _v("Camila", "F", "pt-BR", "Brazilian Portuguese", "pt-br"),
    _v("Vitoria", "F", "pt-BR", "Brazilian Portuguese", "pt-br"), _v("Thiago", "M", "pt-BR", "Brazilian Portuguese", "pt-br"),
    _v("Ines", "F", "pt-PT", "Portuguese", "pt"), _v("Elin", "F", "sv-SE", "Swedish", "sv"),
    _v("Burcu", "F", "tr-TR", "Turkish", "tr"), _v("Zhiyu", "F", "cmn-CN", "Chinese Mandarin", "cmn"),
)}


def volume_word(value: str) -> str:
    """A prosody volume espeak understands: keywords as they are, dB values to the nearest keyword."""
    if value in VOLUME_WORDS:
        return value
    match = _DB.match(value)
    if not match:
        raise PollyError("InvalidSsmlException", f"Invalid SSML request: prosody volume {value!r} is not valid")
    db = float(match.group(1))
    # Polly: x-loud is +6 dB, loud +3... x-soft -6: the nearest step.
    steps = [(-6.0, "x-soft"), (-3.0, "soft"), (0.0, "medium"), (3.0, "loud"), (6.0, "x-loud")]
    return min(steps, key=lambda step: abs(step[0] - db))[1]


def _check_rate(value: str) -> str:
    if value in RATE_WORDS or _PERCENT.match(value):
        percent = float(value[:-1]) if value.endswith("%") else 100.0
        if not 20.0 <= percent <= 200.0:
            raise PollyError("InvalidSsmlException", f"Invalid SSML request: prosody rate {value!r} is out of range (20%-200%)")
        return value
    raise PollyError("InvalidSsmlException", f"Invalid SSML request: prosody rate {value!r} is not valid")


@dataclass(frozen=True)
class SpeechRequest:
    """A validated SynthesizeSpeech request."""

    text: str
    text_type: str
    voice: Voice
    engine: str
    output_format: str
    sample_rate: str
    language: str | None

    @classmethod
    def parse(cls, body: object) -> SpeechRequest:
        """From the JSON body; ``PollyError`` for anything Polly would refuse."""
        if not isinstance(body, Mapping):
            raise PollyError("ValidationException", "the request body must be a JSON object")
        text, voice_id, fmt = body.get("Text"), body.get("VoiceId"), body.get("OutputFormat")
        for name, value in (("Text", text), ("VoiceId", voice_id), ("OutputFormat", fmt)):
            if not isinstance(value, str) or not value:
                raise PollyError("ValidationException", f"1 validation error detected: Value at '{name}' failed to "
                                 "satisfy constraint: Member must not be null")
        text_type = body.get("TextType", "text")
        if text_type not in ("text", "ssml"):
            raise PollyError("ValidationException", f"TextType must be text or ssml, got {text_type!r}")
        engine = body.get("Engine") or "standard"
        if engine not in ENGINES_SUPPORTED:
            raise PollyError("EngineNotSupportedException", f"The local Polly stand-in supports engines "
                             f"{', '.join(ENGINES_SUPPORTED)}, not {engine!r}")
        voice = VOICES.get(voice_id)
        if voice is None:
            raise PollyError("ValidationException", f"1 validation error detected: Value '{voice_id}' at 'voiceId' "
                             f"failed to satisfy constraint: Member must satisfy enum value set: {sorted(VOICES)}")
        if body.get("SpeechMarkTypes") or fmt == "json":
            raise PollyError("MarksNotSupportedForFormatException", "The local Polly stand-in does not produce speech marks")
        if fmt not in FORMATS:
            raise PollyError("ValidationException", f"OutputFormat must be one of {', '.join(FORMATS)}, got {fmt!r}")
        rate = body.get("SampleRate") or (FORMATS[fmt][3] if engine == "neural" or fmt == "pcm" else "22050")
        if rate not in FORMATS[fmt][2]:
            raise PollyError("InvalidSampleRateException", f"Sample rate {rate} is not valid for {fmt}")
        language = body.get("LanguageCode")
        if language and language != voice.language and language not in dict(voice.additional):
            raise PollyError("LanguageNotSupportedException", f"Voice {voice.id} does not speak {language}")
        return cls(text, text_type, voice, engine, fmt, rate, language)


def _strip_namespace_free_prefixes(ssml: str) -> str:
    # Polly takes ``<amazon:effect>`` without declaring the prefix; XML parsers do not.
    return _AMAZON_TAG.sub(lambda m: f"<{m.group(1)}amazon-{m.group(2)}", ssml)


def espeak_ssml(request: SpeechRequest) -> tuple[str, int]:
    """SSML for ``espeak-ng -m`` and the billed character count; ``PollyError`` for what Polly refuses."""
    if request.text_type == "text":
        if len(request.text) > MAX_BILLED_CHARS:
            raise PollyError("TextLengthExceededException", f"Maximum text length has been exceeded ({MAX_BILLED_CHARS})")
        escaped = request.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f"<speak>{escaped}</speak>", len(request.text)
    if len(request.text) > MAX_TOTAL_CHARS:
        raise PollyError("TextLengthExceededException", f"Maximum text length has been exceeded ({MAX_TOTAL_CHARS})")
    try:
        root = ET.fromstring(_strip_namespace_free_prefixes(request.text))
    except ET.ParseError as error:
        raise PollyError("InvalidSsmlException", f"Invalid SSML request: {error}") from None
    if root.tag != "speak":
        raise PollyError("InvalidSsmlException", "Invalid SSML request: the document must be a <speak> element")
    allowed = {tag: set(attrs) for tag, attrs in NEURAL_SSML.items()}
    if request.engine == "standard":
        for tag, attrs in STANDARD_EXTRA.items():
            allowed.setdefault(tag, set()).update(attrs)
    for element in root.iter():
        if element.tag not in allowed:
            raise PollyError("InvalidSsmlException", f"Invalid SSML request: <{element.tag.replace('amazon-', 'amazon:')}> "
                             f"is not supported by {request.engine} voices")
        unknown = set(element.attrib) - allowed[element.tag]
        if unknown:
            raise PollyError("InvalidSsmlException", f"Invalid SSML request: attribute(s) {', '.join(sorted(unknown))} "
                             f"of <{element.tag}> not supported by {request.engine} voices")
        if element.tag == "prosody":
            if "volume" in element.attrib:
                element.set("volume", volume_word(element.attrib["volume"]))
            if "rate" in element.attrib:
                _check_rate(element.attrib["rate"])
        if element.tag == "amazon-effect" and request.engine == "neural" and element.attrib.get("name") != "drc":
            raise PollyError("InvalidSsmlException", "Invalid SSML request: neural voices support only "
                             '<amazon:effect name="drc">')
    billed = len("".join(root.itertext()))
    if billed > MAX_BILLED_CHARS:
        raise PollyError("TextLengthExceededException", f"Maximum text length has been exceeded ({MAX_BILLED_CHARS})")
    _simplify(root)
    return ET.tostring(root, encoding="unicode"), billed


def _simplify(parent: ET.Element) -> None:
    """Keep what espeak understands; unwrap the rest, keeping their text (``sub`` speaks its alias)."""
    children = list(parent)
    for child in children:
        _simplify(child)
    for index in range(len(children) - 1, -1, -1):
        child = children[index]
        if child.tag in ("speak", "prosody", "break", "p", "s", "emphasis"):
            continue
        text = child.attrib.get("alias", "") if child.tag == "sub" else (child.text or "")
        _unwrap(parent, child, text)


def _unwrap(parent: ET.Element, child: ET.Element, text: str) -> None:
    position = list(parent).index(child)
    grandchildren = [] if child.tag == "sub" else list(child)
    tail = child.tail or ""
    parent.remove(child)
    for offset, grandchild in enumerate(grandchildren):
        parent.insert(position + offset, grandchild)
    if grandchildren:
        grandchildren[-1].tail = (grandchildren[-1].tail or "") + tail
        tail = ""
    before = text + tail if not grandchildren else text
    if position == 0:
        parent.text = (parent.text or "") + before
    else:
        previous = parent[position - 1]
        previous.tail = (previous.tail or "") + before


class Synthesizer(Protocol):
    """What ``polly_app`` serves."""

    async def synthesize(self, request: SpeechRequest) -> tuple[bytes, int]:
        """Audio bytes in the asked format and the billed character count."""

    def voices(self) -> list[Voice]:
        """The voices offered."""

    def close(self) -> None:
        """Stop whatever runs."""


async def _run(args: list[str], data: bytes) -> bytes:
    process = await asyncio.create_subprocess_exec(*args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate(data)
    if process.returncode != 0:
        raise PollyError("ServiceFailureException", f"{args[0]} failed: {err.decode(errors='replace')[-300:]}", 500)
    return out


async def convert(wav: bytes, output_format: str, sample_rate: str, source_type: str = "wav") -> bytes:
    """``wav`` (or other sox input) as ``output_format`` at ``sample_rate``, mono, through sox."""
    sox_type = FORMATS[output_format][1]
    head = ["sox", "-t", source_type, "-"]
    if output_format == "pcm":
        return await _run([*head, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-c", "1", "-r", sample_rate, "-"], wav)
    # sox cannot write mp3 (its ID3 tag) or vorbis to a pipe reliably: through a temporary file.
    with tempfile.TemporaryDirectory(prefix="polly-") as folder:
        path = os.path.join(folder, "out." + ("mp3" if sox_type == "mp3" else "ogg"))
        await _run([*head, "-t", sox_type, "-c", "1", "-r", sample_rate, path], wav)
        with open(path, "rb") as handle:
            return handle.read()


class EspeakSynthesizer:
    """espeak-ng with SSML, converted by sox; a few syntheses at a time (the machine's cores)."""

    def __init__(self, concurrency: int = 4) -> None:
        missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
        if missing:
            raise RuntimeError(f"{' and '.join(missing)} not installed (apt-get install espeak-ng sox libsox-fmt-mp3)")
        self._limit = asyncio.Semaphore(concurrency)
        self._voices = [voice for voice in VOICES.values()]

    def voices(self) -> list[Voice]:
        """Every mapped voice."""
        return self._voices

    async def synthesize(self, request: SpeechRequest) -> tuple[bytes, int]:
        """espeak-ng -m reading the rewritten SSML, then sox to the format asked."""
        ssml, billed = espeak_ssml(request)
        async with self._limit:
            wav = await _run(["espeak-ng", "-m", "-v", request.voice.espeak_voice(request.language), "--stdin", "--stdout"],
                             ssml.encode("utf-8"))
            return await convert(wav, request.output_format, request.sample_rate), billed

    def close(self) -> None:
        """Nothing keeps running between requests."""


class ScriptedSynthesizer:
    """Silence of the asked format, about as long as the text takes to say (15 characters a second at 100%)."""

    def __init__(self, chars_per_second: float = 15.0) -> None:
        self.chars_per_second = chars_per_second
        self._cache: dict[tuple[str, str, int], bytes] = {}

    def voices(self) -> list[Voice]:
        """Every mapped voice."""
        return list(VOICES.values())

    async def synthesize(self, request: SpeechRequest) -> tuple[bytes, int]:
        """Silence; SSML is checked as the real engine checks it."""
        ssml, billed = espeak_ssml(request)
        rate = 100.0
        match = re.search(r'rate="(\d+(?:\.\d+)?)%"', ssml)
        if match:
            rate = float(match.group(1))
        tenths = max(3, round(10 * billed / self.chars_per_second / (rate / 100.0)))
        key = (request.output_format, request.sample_rate, tenths)
        if key not in self._cache:
            samples = int(request.sample_rate) * tenths // 10
            silence = b"\x00\x00" * samples
            if request.output_format == "pcm":
                self._cache[key] = silence
            else:
                raw = ["-r", request.sample_rate, "-e", "signed-integer", "-b", "16", "-c", "1"]
                self._cache[key] = await _convert_raw(silence, request.output_format, request.sample_rate, raw)
        return self._cache[key], billed

    def close(self) -> None:
        """Nothing runs."""


async def _convert_raw(pcm: bytes, output_format: str, sample_rate: str, raw_options: list[str]) -> bytes:
    sox_type = FORMATS[output_format][1]
    with tempfile.TemporaryDirectory(prefix="polly-") as folder:
        path = os.path.join(folder, "out." + ("mp3" if sox_type == "mp3" else "ogg"))
        await _run(["sox", "-t", "raw", *raw_options, "-", "-t", sox_type, "-c", "1", "-r", sample_rate, path], pcm)
        with open(path, "rb") as handle:
            return handle.read()


def _error(error: PollyError) -> web.Response:
    return web.Response(status=error.status, body=json.dumps({"message": error.message}), content_type="application/json",
                        headers={"x-amzn-ErrorType": f"{error.code}:"})


def polly_app(engine: Synthesizer) -> web.Application:
    """Polly's ``SynthesizeSpeech`` and ``DescribeVoices`` over ``engine``; mount it at any path prefix."""

    async def speech(request: web.Request) -> web.StreamResponse:
        try:
            try:
                body = json.loads(await request.read() or b"{}")
            except ValueError:
                raise PollyError("SerializationException", "the request body is not JSON") from None
            speech_request = SpeechRequest.parse(body)
            audio, billed = await engine.synthesize(speech_request)
        except PollyError as error:
            return _error(error)
        return web.Response(body=audio, content_type=FORMATS[speech_request.output_format][0],
                            headers={"x-amzn-RequestCharacters": str(billed)})

    async def voices(request: web.Request) -> web.Response:
        engine_name = request.query.get("Engine")
        language = request.query.get("LanguageCode")
        additional = request.query.get("IncludeAdditionalLanguageCodes", "false").lower() == "true"
        listed = []
        for voice in engine.voices():
            if engine_name and engine_name not in ENGINES_SUPPORTED:
                continue
            codes = {voice.language} | ({code for code, _ in voice.additional} if additional else set())
            if language and language not in codes:
                continue
            item = voice.describe()
            if not additional:
                item.pop("AdditionalLanguageCodes", None)
            listed.append(item)
        return web.json_response({"Voices": listed})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/v1/speech", speech)
    app.router.add_get("/v1/voices", voices)
    return app

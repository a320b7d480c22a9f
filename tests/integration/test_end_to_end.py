"""End to end: a speaker's session, from the WebSocket handshake to every listener's captions and voice.

Everything the stack deploys runs for real against a local moto server: the tables come from
the Pulumi program (dev stack), every function gets the environment the stack gives it, and
API Gateway's part (authorizer, routes, ``@connections``, async invokes, the minute rule) is
played by ``system.System``. Only what moto lacks is faked, at the SDK boundary: Transcribe
streaming (recorded result shapes answering the fed audio), Translate (a reversible
``"<LANG>: text"``), Polly (recorded voices, deterministic audio), and the 410 Gone that
moto's ``@connections`` never answers.

The story, on a simulated clock (T0 = start; speech starts at T0+5 s):

1. a speaker without a token is refused; with a Cognito ID token it connects and creates a
   session in en-US;
2. listeners join in es (two of them), fr and de (anonymous, allowed in dev);
3. the speaker streams 100 ms chunks of speech through ``sendAudio``; the stream worker feeds
   them to Transcribe, emits segments and invokes the TranslationProcessor, which broadcasts;
4. 0.3 s after the third sentence the speaker pauses: that sentence's segments reach the
   pipeline only while paused (its final result comes when the stream idles) and, said before
   the pause, still reach every listener; the fourth sentence, said while paused, is refused
   chunk by chunk and reaches nobody; then the speaker resumes and says one more sentence;
5. one es listener goes stale after the second sentence (no heartbeats, socket gone): the
   next broadcast gets 410, its row is deleted and the count drops; the minute sweep, later
   past STALE_CONNECTION_SECONDS, finds nothing more to remove and leaves the others alone;
6. the speaker ends the session; everyone disconnects.
"""

from __future__ import annotations

import base64
import time
import xml.sax.saxutils
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from translation_pipeline.tests.fakes import assert_no_placeholder

from tests.integration.fakes import RecordingTranslate
from tests.integration.speech import CHUNK_SAMPLES, CHUNK_SECONDS, SpeechTrack, build_track, espeak_available
from tests.integration.stack import StackView, create_table_request
from tests.integration.system import System
from tests.integration.transcripts import TranscriptScript

# (sentence, seconds of silence after it). Sentences must not contain words a placeholder check flags.
SCRIPT = [
    ("Good morning everyone, and welcome to the quarterly meeting.", 1.5),
    ("Today we will look at the results of the spring campaign, and then we plan the next steps.", 2.0),
    ("Sales grew faster than we expected in every region.", 1.5),
    ("This part is private and should not reach the listeners.", 7.0),  # said while paused
    ("Thank you all for waiting, we close with a short update on the budget.", 2.0),
]
PAUSED_AFTER = 2  # the speaker pauses 0.3 s after this sentence ends ...
SAID_WHILE_PAUSED = 3  # ... says this one while paused ...
RESUMED_BEFORE = 4  # ... and resumes 0.5 s before this one (the last).
STALE_AFTER = 1  # the stale listener's socket dies 1.8 s after this sentence ends.
LISTENERS = [("es-1", "es", "203.0.113.11"), ("es-2", "es", "203.0.113.12"),
             ("fr", "fr", "198.51.100.21"), ("de", "de", "192.0.2.31")]
STALE = "es-2"
# Functions that record no metric in an invocation make Powertools warn; that is not this test's concern.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")
SPEECH_START = 5.0
HEARTBEAT_EVERY = 60.0
SWEEP_OFFSET = 15.0


def _chunk_time(seconds: float) -> float:
    """Round up to the next chunk boundary."""
    return round(-(-seconds // CHUNK_SECONDS) * CHUNK_SECONDS, 3)


@dataclass
class Run:
    """A finished run of the story and what was observed along the way."""

    system: System
    session_id: str
    t0: float
    pause_at: float
    resume_at: float
    stale_at: float
    end_at: float
    sent: list[tuple[int, int, bool]] = field(default_factory=list)  # (sequence, track chunk, expected accepted)
    checkpoints: dict[str, Any] = field(default_factory=dict)
    wall_seconds: float = 0.0

    def segment_texts(self) -> dict[str, str]:
        """segmentId -> text of every segment the stream workers emitted."""
        return {i.payload["segmentId"]: i.payload["text"] for i in self.system.invocations.of(self.system.translation_fn)}

    def broadcast_segments(self) -> list[dict[str, Any]]:
        """Payloads of segments the TranslationProcessor broadcast (in delivery order)."""
        return [d.payload for d in self.system.deliveries if d.result["status"] == "processed"]


def _schedule(system: System, track: SpeechTrack) -> Run:
    """Put the whole story on the system's timeline."""
    t0 = system.clock()
    speech = t0 + SPEECH_START
    phrases = track.phrases
    pause_at = speech + _chunk_time(phrases[PAUSED_AFTER].end + 0.3)
    resume_at = speech + _chunk_time(phrases[RESUMED_BEFORE].start) - 0.5
    stale_at = speech + _chunk_time(phrases[STALE_AFTER].end + 1.8)
    run = Run(system, "", t0, pause_at, resume_at, stale_at, end_at=t0 + 320.0)
    tl = system.timeline
    said_while_paused = {c.index for c in track.chunks(phrases[SAID_WHILE_PAUSED].start, phrases[SAID_WHILE_PAUSED].end + 0.1)}
    live = {"speaker"} | {name for name, _, _ in LISTENERS}

    def open_session() -> None:
        status, refused = system.connect("no-token", "speaker", "198.51.100.7")
        run.checkpoints["tokenless speaker"] = (status, refused)
        token = system.cognito.id_token("7c1e9d2a-0b5f-4a8e-9f61-3d2b8c4e5a10", "speaker@example.com")
        status, _ = system.connect("speaker", "speaker", "198.51.100.7", token=token)
        assert status == 200, "the speaker with a valid token must connect"
        system.send("speaker", {"action": "createSession", "sourceLanguage": "en-US", "requestId": "create-1"})
        created = system.received("speaker")[-1]
        assert created["type"] == "sessionCreated", created
        run.session_id = created["sessionId"]

    tl.at(t0, "speaker connects, creates session", open_session)

    for n, (name, language, ip) in enumerate(LISTENERS):
        def join(name=name, language=language, ip=ip) -> None:
            status, _ = system.connect(name, "listener", ip)
            assert status == 200, f"listener {name} must connect anonymously in dev"
            system.send(name, {"action": "joinSession", "sessionId": run.session_id, "targetLanguage": language})
        tl.at(t0 + 1.0 + 0.5 * n, f"{name} joins", join)

    # The speaker's microphone: a chunk every 100 ms, except while paused (only the sentence it says then).
    sequence = 0
    for chunk in track.chunks(0.0, track.seconds):
        when = round(speech + chunk.start, 3)
        paused = pause_at <= when < resume_at
        if paused and chunk.index not in said_while_paused:
            continue
        run.sent.append((sequence, chunk.index, not paused))

        def send(seq=sequence, pcm=chunk.pcm) -> None:
            system.send("speaker", {"action": "sendAudio", "sessionId": run.session_id, "sequence": seq,
                                    "audio": base64.b64encode(pcm).decode()})
        tl.at(when, f"chunk {sequence}", send)
        sequence += 1

    def control(command: str) -> None:
        system.send("speaker", {"action": "speakerControl", "sessionId": run.session_id, "command": command})

    tl.at(pause_at, "pause", lambda: control("pause"))
    tl.at(resume_at - 0.02, "resume", lambda: control("resume"))  # just before the first chunk after it

    def before_stale() -> None:
        run.checkpoints["before stale"] = {"listenerCount": int(system.session_row(run.session_id)["listenerCount"]),
                                           "row": system.connection_row(STALE) is not None}

    def go_stale() -> None:
        live.discard(STALE)  # its client stops heartbeating ...
        system.gateway.mark_gone(system.connections[STALE].connection_id)  # ... and its socket is gone

    tl.at(stale_at - 0.01, "checkpoint before stale", before_stale)
    tl.at(stale_at, f"{STALE} goes stale", go_stale)

    def while_paused() -> None:
        row = system.session_row(run.session_id)
        run.checkpoints["paused"] = {"paused": bool(row.get("paused")), "pausedAtSample": row.get("pausedAtSample"),
                                     "audioSamples": row.get("audioSamples")}

    tl.at(pause_at + 1.0, "checkpoint paused", while_paused)

    def after_resume() -> None:
        row = system.session_row(run.session_id)
        run.checkpoints["after resume"] = {"listenerCount": int(row["listenerCount"]),
                                           "row": system.connection_row(STALE) is not None}
        run.checkpoints["pause position after resume"] = row.get("pausedAtSample")

    tl.at(resume_at + 8.0, "checkpoint after resume", after_resume)

    # Clients heartbeat every minute; the minute rule sweeps. Both run until the session ends.
    beat = t0 + 10.0
    while beat < run.end_at:
        for name in ["speaker"] + [n for n, _, _ in LISTENERS]:
            tl.at(beat, f"{name} heartbeat", lambda name=name: system.send(name, {"action": "heartbeat"}) if name in live else None)
        beat += HEARTBEAT_EVERY
    sweep = t0 + SWEEP_OFFSET
    while sweep < run.end_at:
        tl.at(sweep, "minute sweep", system.sweep)
        sweep += 60.0

    def after_sweeps() -> None:
        run.checkpoints["after sweeps"] = {
            "listenerCount": int(system.session_row(run.session_id)["listenerCount"]),
            "rows": {name: system.connection_row(name) is not None for name, _, _ in LISTENERS}}

    tl.at(run.end_at - 1.0, "checkpoint after sweeps", after_sweeps)
    tl.at(run.end_at, "speaker ends the session", lambda: control("end"))

    def everyone_leaves() -> None:
        for name in [n for n, _, _ in LISTENERS if n != STALE] + ["speaker"]:
            system.disconnect(name)
        run.checkpoints["after disconnect"] = {name: system.connection_row(name) is not None
                                               for name in ["speaker"] + [n for n, _, _ in LISTENERS]}

    tl.at(run.end_at + 5.0, "everyone disconnects", everyone_leaves)
    return run


@pytest.fixture(scope="module")
def run(built_artifacts) -> Iterator[Run]:
    """Build the system from the dev stack, play the story once; the tests below read what happened."""
    started = time.perf_counter()
    stack = StackView.load("dev")
    track = build_track(SCRIPT)
    with pytest.MonkeyPatch.context() as monkeypatch:
        system = System(stack, track, monkeypatch, start=float(int(time.time()))).start()
        try:
            story = _schedule(system, track)
            system.run(until=story.end_at + 10.0)
            story.wall_seconds = time.perf_counter() - started
            yield story
        finally:
            system.stop()


# -- helpers -----------------------------------------------------------------------------------


def _content(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m.get("type") in ("caption", "audio")]


def _by_segment(messages: list[dict[str, Any]]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    out: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {"caption": [], "audio": []})
    for m in _content(messages):
        out[m["segmentId"]][m["type"]].append(m)
    return out


def _language(name: str) -> str:
    return next(lang for n, lang, _ in LISTENERS if n == name)


# -- the tests ---------------------------------------------------------------------------------


def test_system_is_built_from_the_stack(run: Run):
    """Tables, function names and environments come from the Pulumi program's dev stack."""
    system = run.system
    tables = {t["name"] for t in system.stack.tables()}
    assert {"speech-translation-dev-sessions", "speech-translation-dev-connections", "speech-translation-dev-rate-limits",
            "speech-translation-dev-translation-cache", "speech-translation-dev-audio-chunks"} <= tables
    dynamodb = system.session.client("dynamodb")
    for spec in system.stack.tables():
        # moto holds each table with exactly the schema the stack declares.
        wanted = create_table_request(spec)
        table = dynamodb.describe_table(TableName=spec["name"])["Table"]
        assert table["KeySchema"] == wanted["KeySchema"]
        assert sorted(map(str, table["AttributeDefinitions"])) == sorted(map(str, wanted["AttributeDefinitions"]))
        assert [(i["IndexName"], i["KeySchema"], i["Projection"]) for i in table.get("GlobalSecondaryIndexes", [])] == [
            (i["IndexName"], i["KeySchema"], i["Projection"]) for i in wanted.get("GlobalSecondaryIndexes", [])]
        ttl = dynamodb.describe_time_to_live(TableName=spec["name"])["TimeToLiveDescription"]
        assert ttl.get("AttributeName") == spec["ttl"]["attributeName"] == "expiresAt"
    index = system.function_environment(system.translation_fn)["CONNECTIONS_BY_SESSION_INDEX"]
    assert index in {i["name"] for t in system.stack.tables() for i in t.get("globalSecondaryIndexes") or []}
    # The worker invoked exactly the functions the stack created, by the names the stack gave them.
    invoked = {i.function_name for i in system.invocations.history}
    assert invoked == {system.worker_fn, system.translation_fn}
    # ... through their `live` aliases (rollback moves the alias).
    assert system.function_environment(system.worker_fn)["TRANSLATION_FUNCTION"] == f"{system.translation_fn}:live"
    assert system.function_environment(system.worker_fn)["STREAM_WORKER_FUNCTION"] == f"{system.worker_fn}:live"
    # Every post went through the @connections endpoint the functions were configured with.
    assert set(system.gateway.endpoints) == {system.endpoint}


def test_speaker_needs_a_token_and_gets_its_replies(run: Run):
    """Tokenless speakers are refused; the speaker got sessionCreated, control acks and an error per refused chunk."""
    system = run.system
    assert run.checkpoints["tokenless speaker"] == (403, None)
    assert system.cognito.jwks_fetches == 1, "the JWKS is fetched once per container"
    speaker = system.received("speaker")
    assert speaker[0]["type"] == "sessionCreated" and speaker[0]["requestId"] == "create-1"
    assert speaker[0]["sourceLanguage"] == "en-US"
    row = system.dynamodb.Table(system.function_environment(system.translation_fn)["SESSIONS_TABLE"]).get_item(
        Key={"sessionId": run.session_id})["Item"]
    assert row["speakerUserId"] == "7c1e9d2a-0b5f-4a8e-9f61-3d2b8c4e5a10"

    acks = [(m["command"], m["changed"], m["paused"]) for m in speaker if m["type"] == "controlApplied"]
    assert acks == [("pause", True, True), ("resume", True, False), ("end", True, False)]
    refused = [m for m in speaker if m["type"] == "error"]
    expected = [seq for seq, _, accepted in run.sent if not accepted]
    assert expected, "the speaker sent audio while paused"
    assert [m["sequence"] for m in refused] == expected
    assert {m["code"] for m in refused} == {"SESSION_PAUSED"}
    assert all(m["sessionId"] == run.session_id for m in refused)
    # No other errors: every chunk sent while active was accepted.
    assert sum(1 for m in speaker if m["type"] == "heartbeatAck") >= 5
    assert any(m["type"] == "sessionStatus" for m in speaker), "the minute sweep pushes status to the speaker"


def test_every_accepted_chunk_reaches_transcribe_once_in_order(run: Run):
    """The chunk buffer and the stream worker lose, repeat and reorder nothing; refused audio never reaches Transcribe."""
    streams = run.system.transcribe.streams
    assert streams and all(s.ended for s in streams)
    for s in streams:
        assert s.params["language_code"] == "en-US"
        assert s.params["partial_results_stability"] == run.system.function_environment(run.system.worker_fn)["PARTIAL_RESULTS_STABILITY"]
    fed = [index for s in streams for index in s.fed]
    accepted = [chunk for _, chunk, ok in run.sent if ok]
    assert fed == accepted
    assert len(streams) >= 2, "the stream idles out during the pause and a new one opens on resume"
    # One worker held the session throughout (the lease outlived the pause) and stopped after the silence timeout.
    assert [(w["outcome"], w["fed_chunks"]) for w in run.system.worker_results] == [("silence", len(accepted))]


def test_speech_before_the_pause_is_delivered_and_the_paused_interval_is_not(run: Run):
    """The sentence that ended 0.3 s before the pause reaches the pipeline while paused and still goes
    to every listener; what was said while paused reaches no one (its audio was refused)."""
    system = run.system
    accepted_before_pause = sum(1 for seq, _, ok in run.sent if ok and seq < _first_refused(run))
    # The pause recorded where the audio stopped; nothing was admitted while paused; resume cleared it.
    assert run.checkpoints["paused"] == {"paused": True, "pausedAtSample": accepted_before_pause * CHUNK_SAMPLES,
                                         "audioSamples": accepted_before_pause * CHUNK_SAMPLES}
    assert run.checkpoints["pause position after resume"] is None

    while_paused = [d for d in system.deliveries if d.session_paused]
    assert while_paused, "the sentence before the pause reaches the pipeline while paused"
    assert all(run.pause_at <= d.at < run.resume_at for d in while_paused)
    assert [d.result["status"] for d in while_paused] == ["processed"] * len(while_paused)
    # Early phrases may send the start of that sentence before the pause; its end arrives while paused.
    results = {d.payload["resultId"] for d in while_paused}
    sentence = [d for d in system.deliveries if d.payload["resultId"] in results]
    assert " ".join(d.payload["text"] for d in sentence) == TranscriptScript.final_text(system.track.phrases[PAUSED_AFTER])
    assert sentence[-1] in while_paused and sentence[-1].payload["continuesSentence"] is False
    assert all(d.payload["endTime"] * 16000 <= accepted_before_pause * CHUNK_SAMPLES for d in while_paused)
    assert not [d for d in system.deliveries if d.result["status"] == "suppressed"], "nothing said while live is lost"
    paused_ids = {d.payload["segmentId"] for d in while_paused}
    for name, language, _ in LISTENERS:
        if name == STALE:
            continue  # gone before the pause
        got = _by_segment(system.received(name))
        for d in while_paused:
            [caption] = got[d.payload["segmentId"]]["caption"]
            assert RecordingTranslate.original_of(caption["text"], language) == d.payload["text"], name
            assert got[d.payload["segmentId"]]["audio"], f"{name} got no voice for a segment said before the pause"
        # While paused a listener gets the sentence said before it, and nothing else.
        content = [p for p in system.gateway.attempts(system.connections[name].connection_id)
                   if p.message.get("type") in ("caption", "audio") and run.pause_at <= p.at < run.resume_at]
        assert content and {p.message["segmentId"] for p in content} <= paused_ids, name

    said_while_paused = system.track.phrases[SAID_WHILE_PAUSED].text
    assert all(said_while_paused not in t for t in run.segment_texts().values())
    # Words only that sentence has: in no segment the workers emitted, in no caption anyone got.
    only_then = _words(said_while_paused) - {w for p in system.track.phrases if p.index != SAID_WHILE_PAUSED
                                              for w in _words(p.text)}
    assert only_then
    assert not only_then & {w for t in run.segment_texts().values() for w in _words(t)}
    for name, language, _ in LISTENERS:
        captions = [RecordingTranslate.original_of(m["text"], language) for m in _content(system.received(name))
                    if m["type"] == "caption"]
        assert not only_then & {w for c in captions for w in _words(c)}, f"{name} heard the paused interval"


def _words(text: str) -> set[str]:
    return {w.strip(".,?!;:").lower() for w in text.split()}


def _first_refused(run: Run) -> int:
    return next(seq for seq, _, ok in run.sent if not ok)


def test_every_listener_gets_every_segment_in_order(run: Run):
    """Captions then all audio parts, per segment in sequence order, for every segment while active."""
    system = run.system
    broadcast = run.broadcast_segments()
    assert len(broadcast) >= 5
    for name, language, _ in LISTENERS:
        messages = system.received(name)
        content = _content(messages)
        assert_no_placeholder(content)
        assert not [m for m in messages if m["type"] == "error"], f"{name} got an error"
        expected = [p for p in broadcast if name != STALE or _delivered_before(run, p, run.stale_at)]
        by_segment = _by_segment(messages)
        assert list(by_segment) == [p["segmentId"] for p in expected], f"{name}: wrong segments or order"
        keys = [(m["sequence"], 0 if m["type"] == "caption" else 1, m["part"]) for m in content]
        assert keys == sorted(keys), f"{name}: out of order"
        for payload in expected:
            got = by_segment[payload["segmentId"]]
            [caption] = got["caption"]
            assert caption["language"] == language and caption["sourceLanguage"] == "en-US"
            assert caption["translated"] is True and caption["isFinal"] == payload["isFinal"]
            assert RecordingTranslate.original_of(caption["text"], language) == payload["text"]
            parts = got["audio"]
            assert parts and [p["part"] for p in parts] == list(range(1, parts[0]["parts"] + 1))
            assert len(parts) >= 2, "Polly's audio is bigger than one frame: it must arrive in parts"
            audio = b"".join(base64.b64decode(p["data"]) for p in parts)
            assert audio == _synthesized(system, parts[0]["voiceId"], caption["text"])
            assert {p["mimeType"] for p in parts} == {"audio/mpeg"}


def _delivered_before(run: Run, payload: dict[str, Any], when: float) -> bool:
    return next(d.at for d in run.system.deliveries if d.payload["segmentId"] == payload["segmentId"]) < when


def _synthesized(system: System, voice: str, caption: str) -> bytes:
    escaped = xml.sax.saxutils.escape(caption)
    matches = [s for s in system.polly.syntheses if s.voice_id == voice and (caption in s.text or escaped in s.text)]
    assert len(matches) == 1, f"expected one synthesis of {caption!r} by {voice}, got {len(matches)}"
    return matches[0].audio


def test_spoken_words_arrive_whole(run: Run):
    """Per sentence said while live (the one just before the pause included), the broadcast segments add up
    to exactly what Transcribe finalized."""
    system = run.system
    texts = [p["text"] for p in run.broadcast_segments()]
    expected = [TranscriptScript.final_text(p) for p in system.track.phrases if p.index != SAID_WHILE_PAUSED]
    assert " ".join(texts) == " ".join(expected)
    partial_segments = [p for p in run.broadcast_segments() if not p["isFinal"]]
    assert partial_segments, "long sentences are sent in stable parts before their final result"
    assert all(p["dynamics"] for p in run.broadcast_segments()), "every segment carries the speaker's dynamics"
    for s in system.polly.syntheses:
        assert s.text_type == "ssml" and "<prosody" in s.text, "voices carry the speaker's volume and pace"


def test_translate_and_polly_once_per_segment_and_language(run: Run):
    """Translate and Polly are called once per (segment, language) with listeners, whatever the listener count."""
    system = run.system
    broadcast = run.broadcast_segments()
    languages_with_listeners = {"es", "fr", "de"}
    assert sorted(c["TargetLanguageCode"] for c in system.translate.calls) == sorted(
        lang for _ in broadcast for lang in languages_with_listeners)
    assert len(system.polly.syntheses) == len(broadcast) * len(languages_with_listeners)
    assert not system.backoff_sleeps, "nothing was throttled, so nothing backed off"


def test_stale_listener_is_cleaned_up_without_disturbing_others(run: Run):
    """410 Gone deletes the row and decrements once; later sweeps leave the live listeners alone."""
    system = run.system
    assert run.checkpoints["before stale"] == {"listenerCount": 4, "row": True}
    assert run.checkpoints["after resume"] == {"listenerCount": 3, "row": False}
    stale_id = system.connections[STALE].connection_id
    after = [p for p in system.gateway.attempts(stale_id) if p.at >= run.stale_at]
    assert after and not [p for p in after if p.delivered], "the stale listener receives nothing after going stale"
    assert len(after) == 1, "one 410 is enough: the connection is removed and never posted to again"
    # Sweeps ran past STALE_CONNECTION_SECONDS after its last heartbeat; nobody else was removed.
    stale_seconds = float(system.function_environment(system.sweep_fn)["STALE_CONNECTION_SECONDS"])
    last_beat = max([p.at for p in system.gateway.attempts(stale_id) if p.message.get("type") == "heartbeatAck"]
                    + [system.connections[STALE].connected_at])
    late_sweeps = [s for s in system.sweeps if s["at"] > last_beat + stale_seconds]
    assert late_sweeps, "a sweep ran after the stale listener's heartbeat had expired"
    assert all(s["stale_connections"] == 0 and s["errors"] == 0 for s in system.sweeps)
    assert run.checkpoints["after sweeps"] == {"listenerCount": 3, "rows": {"es-1": True, "es-2": False, "fr": True, "de": True}}
    # The others kept receiving every later segment (checked in detail above): here, the last one.
    last = run.broadcast_segments()[-1]["segmentId"]
    for name in ("es-1", "fr", "de"):
        assert last in _by_segment(system.received(name))


def test_session_end_reaches_everyone_and_rows_are_cleaned(run: Run):
    """``end`` tells listeners and the speaker; $disconnect removes every row."""
    system = run.system
    for name in ("es-1", "fr", "de"):
        ended = [m for m in system.received(name) if m["type"] == "sessionEnded"]
        assert [m["reason"] for m in ended] == ["speakerEnded"]
        assert [m["event"] for m in system.received(name) if m["type"] == "sessionUpdate"] == ["paused", "resumed"]
    assert run.checkpoints["after disconnect"] == {n: False for n in ["speaker"] + [n for n, _, _ in LISTENERS]}
    assert system.session_row(run.session_id)["status"] == "ended"


def test_the_connections_api_received_exactly_what_was_delivered(run: Run):
    """Every delivered post went over HTTP to the @connections API, byte for byte and in order, and
    was answered 200; posts to gone sockets never left the gateway. Seen on the wire, through
    botocore's event hooks, so it holds whatever moto keeps internally."""
    gateway = run.system.gateway
    posts = [r for r in gateway.sent if r.method == "POST"]
    assert posts and {r.status for r in posts} == {200}
    for conn in run.system.connections.values():
        delivered = [p.data for p in gateway.posts if p.connection_id == conn.connection_id and p.delivered]
        assert [r.body for r in posts if r.connection_id == conn.connection_id] == delivered
    assert len(posts) == sum(p.delivered for p in gateway.posts)
    assert all(200 <= r.status < 300 for r in gateway.sent if r.method == "DELETE")


def test_session_runs_on_the_simulated_clock(run: Run):
    """The whole session runs on the simulated clock (wall time is printed, never asserted: speed is for bench/)."""
    simulated = run.system.clock.elapsed
    assert simulated >= 320
    print(f"{simulated:.0f} s of simulated session took {run.wall_seconds:.1f} s of wall time")
    if not espeak_available():
        assert run.system.track.source == "synthetic"

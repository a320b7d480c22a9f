"""sendAudio given arbitrary unicode (lone surrogates included) in field names and values,
>= 1,000 examples: exactly one reply each, posted through the real Replier (so encoding runs),
no exception and no INTERNAL_ERROR, and a refused chunk changes neither the session row nor
the chunk buffer. Prints ``FUZZ|sendAudio|<examples>|<unhandled>|<state changed>``."""

from __future__ import annotations

import json
import os

from audio_transcription.audio_processor.handler import handle
from audio_transcription.replies import Replier
from audio_transcription.tests.conftest import SESSION, SPEAKER
from audio_transcription.tests.fakes import audio_message, speech_chunk, ws_event
from common.tests.unicode_strategies import any_text, any_value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000"))

BASE = audio_message(SESSION, 7, speech_chunk(1))
FIELDS = ["action", "sessionId", "sequence", "audio", "requestId"]


class RecordingApi:
    """@connections stand-in that keeps the bytes actually posted."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict]] = []

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict:  # noqa: N803 - boto3's names
        self.posts.append((ConnectionId, json.loads(Data.decode("utf-8"))))
        return {}


def bodies() -> st.SearchStrategy[str]:
    extra = st.dictionaries(any_text.filter(lambda k: k not in FIELDS), any_value, max_size=3)
    replaced = st.dictionaries(st.sampled_from(FIELDS), any_text, max_size=len(FIELDS))
    doc = st.builds(lambda e, r: {**BASE, **r, **e}, extra, replaced).filter(lambda d: d != BASE)
    return st.tuples(doc, st.booleans()).map(lambda pair: json.dumps(pair[0], ensure_ascii=pair[1]))


def test_send_audio_arbitrary_unicode_never_crashes(world):
    world.put_session(lastAudioSequence=5)
    api = RecordingApi()
    deps = world.audio_deps(replier=Replier(api))
    def stored() -> list[int]:
        return sorted(int(item["sequence"]) for item in world.chunks.scan()["Items"])

    baseline = {"session": world.session(), "chunks": stored()}
    tally = {"examples": 0, "unhandled": 0, "state_changed": 0}
    failures: list[str] = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.filter_too_much])
    @given(body=bodies())
    def check(body: str) -> None:
        tally["examples"] += 1
        posted = len(api.posts)
        try:
            result = handle(ws_event(body, SPEAKER), deps)
        except Exception as error:  # noqa: BLE001 - counted
            tally["unhandled"] += 1
            failures.append(f"{type(error).__name__}: {body!r}"[:300])
            return
        new = api.posts[posted:]
        if result["statusCode"] == 200:
            # A valid chunk after all (arbitrary text can be a valid requestId): its change is legitimate.
            baseline.update(session=world.session(), chunks=stored())
            return
        if len(new) != 1 or new[0][1].get("code") == "INTERNAL_ERROR" or result["statusCode"] == 500:
            tally["unhandled"] += 1
            failures.append(f"{result} {new!r}: {body!r}"[:300])
            return
        if world.session() != baseline["session"] or stored() != baseline["chunks"]:
            tally["state_changed"] += 1
            failures.append(f"state changed: {body!r}"[:300])

    check()
    print(f"\nFUZZ|sendAudio|{tally['examples']}|{tally['unhandled']}|{tally['state_changed']}")
    assert tally["examples"] >= EXAMPLES
    assert tally["unhandled"] == 0 and tally["state_changed"] == 0, failures[:5]


def test_lone_surrogate_field_name_gets_unknown_field(world):
    world.put_session()
    api = RecordingApi()
    body = '{"action":"sendAudio","sessionId":"golden-eagle-4821","sequence":1,"audio":"AAAA","\\ud800":1}'
    assert handle(ws_event(body, SPEAKER), world.audio_deps(replier=Replier(api)))["statusCode"] == 400
    ((_, reply),) = api.posts
    assert reply["code"] == "UNKNOWN_FIELD" and reply["field"] == "\ufffd"

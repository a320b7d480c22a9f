"""Segment ledger (idempotency) and the listener Query, on moto DynamoDB."""

from __future__ import annotations

import pytest

from translation_pipeline.idempotency import COMPLETE, PARTIAL, SegmentLedger
from translation_pipeline.listeners import find_listeners, load_session
from translation_pipeline.tests.fakes import CACHE, CONNECTIONS, INDEX, SESSIONS, put_connection, put_session

SEG = "golden-eagle-4821#5"


class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


def _row(ddb):
    return ddb.get_item(TableName=CACHE, Key={"cacheKey": {"S": f"segment#{SEG}"}}, ConsistentRead=True)["Item"]


def test_translation_first_delivery_claims(ddb, now):
    ledger = SegmentLedger(ddb, CACHE, clock=lambda: now)
    claim = ledger.claim(SEG, 60)
    assert claim.acquired and claim.reason == "new" and claim.languages_done == frozenset()
    row = _row(ddb)
    assert row["status"]["S"] == "processing" and int(row["expiresAt"]["N"]) > now + 6 * 3600


def test_translation_duplicate_while_processing_skipped(ddb, now):
    ledger = SegmentLedger(ddb, CACHE, clock=lambda: now)
    assert ledger.claim(SEG, 60).acquired
    second = ledger.claim(SEG, 60)
    assert not second.acquired and second.reason == "in_progress"


def test_translation_duplicate_after_complete_skipped(ddb, now):
    ledger = SegmentLedger(ddb, CACHE, clock=lambda: now)
    first = ledger.claim(SEG, 60)
    ledger.languages_done(SEG, ["es", "fr"])
    ledger.finish(SEG, first.owner, complete=True)
    assert _row(ddb)["status"]["S"] == COMPLETE
    second = ledger.claim(SEG, 60)
    assert not second.acquired and second.reason == "complete"


def test_translation_retry_after_partial_redoes_only_missing(ddb, now):
    ledger = SegmentLedger(ddb, CACHE, clock=lambda: now)
    first = ledger.claim(SEG, 60)
    ledger.languages_done(SEG, ["es"])
    ledger.finish(SEG, first.owner, complete=False)
    assert _row(ddb)["status"]["S"] == PARTIAL
    retry = ledger.claim(SEG, 60)
    assert retry.acquired and retry.reason == "resumed" and retry.languages_done == {"es"}
    # The resumed run holds the segment now.
    assert not ledger.claim(SEG, 60).acquired


def test_translation_crashed_run_taken_over_after_lease(ddb, now):
    clock = Clock(now)
    ledger = SegmentLedger(ddb, CACHE, clock=clock)
    crashed = ledger.claim(SEG, 30)
    ledger.languages_done(SEG, ["de"])
    clock.t = now + 10
    assert not ledger.claim(SEG, 30).acquired  # lease still live
    clock.t = now + 40
    retry = ledger.claim(SEG, 30)
    assert retry.acquired and retry.languages_done == {"de"}
    # The crashed run's late finish cannot overwrite the new owner's state.
    ledger.finish(SEG, crashed.owner, complete=True)
    assert _row(ddb)["status"]["S"] == "processing"


def test_translation_expired_ledger_row_is_absent(ddb, now):
    clock = Clock(now)
    ledger = SegmentLedger(ddb, CACHE, clock=clock, ttl_seconds=100)
    first = ledger.claim(SEG, 10)
    ledger.finish(SEG, first.owner, complete=True)
    clock.t = now + 200  # TTL passed but DynamoDB has not deleted the row yet
    assert ledger.claim(SEG, 10).reason == "new"


def test_translation_listeners_grouped_live_only(ddb, now):
    sid = "golden-eagle-4821"
    put_connection(ddb, "speaker", sid, now, role="speaker")
    for cid, lang in (("e1", "es"), ("e2", "es"), ("f1", "fr"), ("n1", "en")):
        put_connection(ddb, cid, sid, now, language=lang)
    put_connection(ddb, "old", sid, now, language="es", ttl=-5)         # expired, not yet deleted
    put_connection(ddb, "other", "other-session-1", now, language="es")  # another session
    found = find_listeners(ddb, CONNECTIONS, INDEX, sid, now)
    assert {k: sorted(v) for k, v in found.items()} == {"es": ["e1", "e2"], "fr": ["f1"], "en": ["n1"]}


def test_translation_listeners_query_paginates_never_scans(now):
    class Paged:
        def __init__(self):
            self.calls = []

        def query(self, **kwargs):
            self.calls.append(kwargs)
            ttl = {"N": str(int(now) + 100)}
            if "ExclusiveStartKey" not in kwargs:
                return {"Items": [{"connectionId": {"S": "a"}, "targetLanguage": {"S": "es"}, "role": {"S": "listener"},
                                   "expiresAt": ttl}], "LastEvaluatedKey": {"connectionId": {"S": "a"}}}
            return {"Items": [{"connectionId": {"S": "b"}, "targetLanguage": {"S": "es"}, "role": {"S": "listener"},
                               "expiresAt": ttl}]}

        def scan(self, **_):
            raise AssertionError("never a Scan")

    client = Paged()
    assert find_listeners(client, CONNECTIONS, INDEX, "s", now) == {"es": ["a", "b"]}
    assert all(c["IndexName"] == INDEX for c in client.calls) and len(client.calls) == 2


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({}, None), ({"paused": True}, "paused"), ({"muted": True}, "muted"), ({"status": "ended"}, "ended"),
    ({"ttl": -10}, "expired"),
])
def test_translation_session_state(ddb, now, kwargs, reason):
    put_session(ddb, "s1", now, **kwargs)
    assert load_session(ddb, SESSIONS, "s1", now).silent_reason == reason


@pytest.mark.parametrize(("kwargs", "start_time", "reason"), [
    ({}, 9.0, None),
    ({"paused": True, "paused_at_sample": 32_000}, 1.999, None),  # captured before the pause began
    ({"paused": True, "paused_at_sample": 32_000}, 2.0, "paused"),  # at the pause: nothing can come from here on
    ({"paused": True, "paused_at_sample": 32_000}, None, "paused"),  # no start time: suppressed
    ({"paused": True}, 0.5, "paused"),  # no recorded position (an older row): suppressed, as before
    ({"muted": True, "muted_at_sample": 32_000}, 1.0, None),
    ({"muted": True, "muted_at_sample": 32_000}, 2.5, "muted"),
    ({"muted": True, "paused_at_sample": 32_000}, 1.0, "muted"),  # the mute's position is what counts
    ({"paused": True, "muted": True, "paused_at_sample": 48_000, "muted_at_sample": 32_000}, 2.5, "paused"),
    ({"paused": True, "muted": True, "paused_at_sample": 48_000, "muted_at_sample": 32_000}, 1.5, None),
    ({"paused": True, "muted": True, "paused_at_sample": 48_000}, 1.5, "paused"),
    ({"status": "ended", "paused": True, "paused_at_sample": 32_000}, 1.0, "ended"),
    ({"ttl": -10, "paused": True, "paused_at_sample": 32_000}, 1.0, "expired"),
])
def test_translation_suppression_follows_when_the_audio_was_captured(ddb, now, kwargs, start_time, reason):
    put_session(ddb, "s1", now, **kwargs)
    assert load_session(ddb, SESSIONS, "s1", now).suppression_reason(start_time) == reason


def test_translation_missing_session_is_silent(ddb, now):
    assert load_session(ddb, SESSIONS, "nope", now).silent_reason == "missing"

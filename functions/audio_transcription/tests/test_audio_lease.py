"""The stream worker lease on the Sessions row (moto DynamoDB)."""

from __future__ import annotations

from audio_transcription.stream_worker.lease import LeaseStore, lease_is_live
from audio_transcription.tests.conftest import SESSION

NOW = 1_700_000_000.0


def test_claim_activate_renew_release(world):
    world.put_session()
    leases = LeaseStore(world.sessions)
    assert leases.claim(SESSION, "a", NOW, grace=30)
    assert not leases.claim(SESSION, "b", NOW + 1, grace=30)  # one holder at a time
    state = leases.activate(SESSION, "a", NOW + 2, lease_seconds=30)
    assert state.generation == 1 and state.last_fed_sequence == -1 and state.source_language == "en-US"
    assert state.speaker_connection_id == "conn-speaker=" and not state.ended(NOW)
    renewed = leases.renew(SESSION, "a", NOW + 10, 30, position=7)
    assert renewed.last_fed_sequence == 7 and renewed.attempts == 0
    assert lease_is_live(world.session(), NOW + 39) and not lease_is_live(world.session(), NOW + 41)
    assert leases.release(SESSION, "a", position=9)
    row = world.session()
    assert "workerLeaseId" not in row and int(row["lastFedSequence"]) == 9
    assert leases.claim(SESSION, "c", NOW + 50, grace=30)
    assert leases.activate(SESSION, "c", NOW + 51, 30).generation == 2


def test_expired_lease_can_be_claimed_and_the_old_holder_loses_it(world):
    world.put_session()
    leases = LeaseStore(world.sessions)
    leases.claim(SESSION, "a", NOW, 30)
    leases.activate(SESSION, "a", NOW, 30)
    assert leases.claim(SESSION, "b", NOW + 31, 30)
    assert leases.renew(SESSION, "a", NOW + 32, 30) is None
    assert not leases.release(SESSION, "a", 3)
    assert not leases.hand_over(SESSION, "a", "x", NOW + 32, 30, 3)


def test_activation_needs_the_given_unexpired_lease(world):
    world.put_session()
    leases = LeaseStore(world.sessions)
    leases.claim(SESSION, "a", NOW, 30)
    assert leases.activate(SESSION, "z", NOW, 30) is None
    assert leases.activate(SESSION, "a", NOW + 31, 30) is None  # the invoke came too late


def test_hand_over_passes_lease_and_position(world):
    world.put_session()
    leases = LeaseStore(world.sessions)
    leases.claim(SESSION, "a", NOW, 30)
    leases.activate(SESSION, "a", NOW, 30)
    assert leases.hand_over(SESSION, "a", "b", NOW + 800, 30, position=1234)
    state = leases.activate(SESSION, "b", NOW + 801, 30)
    assert state.last_fed_sequence == 1234 and state.generation == 2


def test_abandon_and_back_off_hold(world):
    world.put_session()
    leases = LeaseStore(world.sessions)
    leases.claim(SESSION, "a", NOW, 30)
    assert leases.abandon(SESSION, "a") and not leases.abandon(SESSION, "a")
    leases.claim(SESSION, "b", NOW, 30)
    assert leases.release(SESSION, "b", 0, hold_until=NOW + 60)
    assert not leases.claim(SESSION, "c", NOW + 59, 30)
    assert leases.claim(SESSION, "c", NOW + 61, 30)


def test_attempts_count_activations_without_progress(world):
    world.put_session()
    leases = LeaseStore(world.sessions)
    for i, lease in enumerate("abc"):
        leases.claim(SESSION, lease, NOW + 100 * i, 30)
        state = leases.activate(SESSION, lease, NOW + 100 * i, 30)
    assert state.attempts == 3
    assert leases.skip_to(SESSION, "c", 5)
    assert int(world.session()["workerAttempts"]) == 0


def test_claim_needs_a_session_row(world):
    assert not LeaseStore(world.sessions).claim("nobody-home-1", "a", NOW, 30)

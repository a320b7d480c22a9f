"""The capacity model's arithmetic against a case computed by hand, and its reading of the stack config."""

from __future__ import annotations

import pytest

from scripts import capacity
from scripts.capacity import StackFacts, Workload, build_model

FACTS = StackFacts(stack="hand", audio_processor_memory_mb=512, stream_worker_memory_mb=512, translation_memory_mb=1024,
                   session_handler_memory_mb=256, translation_reserved_concurrency=10, broadcast_concurrency=64,
                   stage_rate_limit=500, audio_format="mp3")
# 1 session, 60 listeners, 1 language, a segment every 2 s, 200 ms chunks, half the translations cached.
HAND = Workload(sessions=1, listeners=60, languages=1, hours=1, segment_seconds=2.0, chunk_ms=200, cache_hit_rate=0.5)


def _item(model, service, what_starts):
    [item] = [i for i in model.items if i.service == service and i.what.startswith(what_starts)]
    return item


def test_speech_services_by_hand():
    m = build_model(HAND, FACTS)
    assert m.segments_per_hour == 1800  # 3600 / 2
    # 15 chars/s x 2 s = 30 chars a segment; x 1,800 segments x 1 language x (1 - 0.5 cached) = 27,000.
    assert _item(m, "Translate", "characters").quantity == pytest.approx(27_000)
    assert _item(m, "Translate", "characters").cost == pytest.approx(27_000 * 15 / 1e6)  # 0.405
    assert _item(m, "Polly", "neural").cost == pytest.approx(54_000 * 16 / 1e6)  # 0.864, never cached
    assert _item(m, "Transcribe", "streaming").cost == pytest.approx(60 * 0.024)  # 1.44


def test_api_gateway_and_dynamodb_by_hand():
    m = build_model(HAND, FACTS)
    # 2 s of mp3 at 6,000 B/s = 12,000 B -> 16,400 B of base64 + envelope: one audio part, so
    # caption + audio = 2 posts per listener per segment = 120 posts per segment.
    assert m.posts_per_segment == 120
    # Out: 1,800 x 120 posts + 60 listeners x 60 heartbeat replies = 219,600 messages.
    assert _item(m, "API Gateway", "messages out").quantity == 219_600
    assert _item(m, "API Gateway", "messages out").cost == pytest.approx(0.2196)
    # In: 18,000 chunks (6,400 B PCM -> 8,576 B JSON: one 32 KB unit) + 3,600 heartbeats.
    assert _item(m, "API Gateway", "messages in").quantity == 21_600
    assert _item(m, "API Gateway", "connection minutes").quantity == 61 * 60
    # A 6,400 B chunk + 120 B of attributes = 7 WRU to put and 7 to delete, + rate limit + gate = 16.
    assert _item(m, "DynamoDB", "audio chunk buffer + gate").quantity == 18_000 * 16
    assert _item(m, "DynamoDB", "audio chunk buffer + gate").cost == pytest.approx(0.18)


def test_lambda_by_hand():
    m = build_model(HAND, FACTS)
    # 0.02 reads + 0.15 Translate + max(0.30 Polly, 1 round of caption posts 0.025) + 1 round of audio posts 0.025.
    assert m.translation_duration_s == pytest.approx(0.495)
    assert _item(m, "Lambda", "TranslationProcessor GB-s").quantity == pytest.approx(1800 * 0.495 * 1.0)
    assert _item(m, "Lambda", "sendAudio handler requests").quantity == 18_000
    assert _item(m, "Lambda", "sendAudio handler GB-s").quantity == pytest.approx(18_000 * 0.02 * 0.5)


def test_quotas_by_hand():
    m = build_model(HAND, FACTS)
    quotas = {q.name.split(" (")[0]: q for q in m.quotas}
    # (21,600 in + 216,000 posts) / 3,600 s = 66 requests/s a session -> 151 sessions in 10,000.
    assert quotas["API Gateway requests/s"].per_session == pytest.approx(66.0)
    assert quotas["API Gateway requests/s"].max_sessions == 151
    # One synthesis every 2 s = 0.5 TPS -> 16 sessions in 8 TPS: Polly binds first.
    assert quotas["Polly neural SynthesizeSpeech TPS"].max_sessions == 16
    assert m.binding.name.startswith("Polly")
    # Total and per-segment figures are the sum of the items.
    assert m.total_cost == pytest.approx(sum(i.cost for i in m.items))
    assert m.cost_per_segment == pytest.approx(m.session_hour_cost / 1800)


def test_combined_delivery_halves_posts():
    combined = build_model(Workload(1, 60, 1, 1, segment_seconds=2.0, delivery="combined"), FACTS)
    assert combined.posts_per_segment == 60


def test_shards_add_invocations_but_not_reads():
    sharded = build_model(Workload(1, 2000, 1, 1), StackFacts(**{**FACTS.__dict__, "fanout_shard_listeners": 250}))
    flat = build_model(Workload(1, 2000, 1, 1), FACTS)
    # 2,000 listeners in shards of 250 = 8 invocations per segment instead of 1, each posting 250.
    assert _item(sharded, "Lambda", "TranslationProcessor requests").quantity == 8 * 2400
    assert sharded.translation_duration_s < flat.translation_duration_s


def test_reads_the_stack_config():
    facts = StackFacts.from_stack("dev")
    assert facts.translation_memory_mb == 1024 and facts.translation_reserved_concurrency == 0  # dev reserves nothing
    assert facts.stage_rate_limit == 500


def test_bad_workload_refused():
    with pytest.raises(ValueError):
        Workload(0, 10, 1, 1)
    with pytest.raises(SystemExit):
        capacity.main(["--sessions", "1", "--listeners", "10", "--languages", "0", "--hours", "1"])


def test_command_prints_the_binding_quota(capsys):
    assert capacity.main(["--sessions", "10", "--listeners", "500", "--languages", "2", "--hours", "1", "--stack", "dev"]) == 0
    out = capsys.readouterr().out
    assert "binds first: Polly neural" in out and "EXCEEDED" in out

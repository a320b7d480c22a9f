"""Settings from the environment."""

from __future__ import annotations

import pytest
from audio_transcription.settings import AudioProcessorSettings, StreamWorkerSettings
from common.settings import SettingsError

BASE = {"SESSIONS_TABLE": "s", "RATE_LIMITS_TABLE": "r", "AUDIO_CHUNKS_TABLE": "c",
        "WEBSOCKET_ENDPOINT": "https://x.execute-api.us-east-1.amazonaws.com/live", "STREAM_WORKER_FUNCTION": "w",
        "TRANSLATION_FUNCTION": "t", "FEATURE_FLAG_PARAMETER": "/f"}


def test_audio_processor_settings():
    s = AudioProcessorSettings.from_env({**BASE, "MAX_CHUNKS_PER_SECOND": "30"})
    assert (s.sessions_table, s.rate_limits_table, s.audio_chunks_table, s.max_chunks_per_second) == ("s", "r", "c", 30)
    assert s.worker_start_grace_seconds == 30.0 and s.chunk_ttl_seconds == 3600
    with pytest.raises(SettingsError, match="AUDIO_CHUNKS_TABLE"):
        AudioProcessorSettings.from_env({k: v for k, v in BASE.items() if k != "AUDIO_CHUNKS_TABLE"})
    with pytest.raises(SettingsError, match="MAX_CHUNKS_PER_SECOND"):
        AudioProcessorSettings.from_env({**BASE, "MAX_CHUNKS_PER_SECOND": "0"})


def test_stream_worker_settings():
    env = {**BASE, "AWS_REGION": "eu-west-1", "PARTIAL_RESULTS_STABILITY": "Medium", "MIN_STABILITY_THRESHOLD": "0.8",
           "SILENCE_TIMEOUT_SECONDS": "60", "POOR_SNR_DB": "12", "VOLUME_LOUD_THRESHOLD": "-12",
           "RATE_FAST_THRESHOLD": "200"}
    s = StreamWorkerSettings.from_env(env)
    assert s.region == "eu-west-1" and s.stability_level == "medium"
    assert s.processor.min_stability_threshold == 0.8 and s.poor_snr_db == 12.0
    assert s.dynamics.volume_loud == -12.0 and s.dynamics.rate_fast == 200.0
    assert s.translation_function == "t" and s.feature_flag_parameter == "/f"


@pytest.mark.parametrize(("key", "value"), [
    ("PARTIAL_RESULTS_STABILITY", "extreme"), ("STREAM_IDLE_SECONDS", "15"), ("HANDOVER_DEADLINE_SECONDS", "200"),
    ("WORKER_LEASE_SECONDS", "3"), ("SILENCE_TIMEOUT_SECONDS", "0"), ("MAX_BUFFER_TIMEOUT", "-1"),
    ("VOLUME_LOUD_THRESHOLD", "-40"),
])
def test_stream_worker_settings_reject(key, value):
    with pytest.raises(SettingsError):
        StreamWorkerSettings.from_env({**BASE, key: value})

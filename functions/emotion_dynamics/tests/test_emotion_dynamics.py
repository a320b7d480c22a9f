"""analyze_dynamics, Dynamics (de)serialisation, thresholds and settings."""

from __future__ import annotations

import json

import numpy as np
import pytest
from common.settings import SettingsError
from emotion_dynamics.dynamics import Dynamics, DynamicsThresholds, RateDynamics, VolumeDynamics, analyze_dynamics
from emotion_dynamics.settings import EmotionSettings, get_settings

SR = 16000
T = DynamicsThresholds()


def test_to_dict_has_exactly_the_contract_shape(train):
    d = analyze_dynamics(train(4.0, 3.0, level=0.3), SR, T).to_dict()
    assert set(d) == {"volume", "rate"}
    assert set(d["volume"]) == {"level", "dbfs", "clipping_ratio"}
    assert set(d["rate"]) == {"level", "wpm", "source"}
    json.dumps(d, allow_nan=False)  # finite, JSON-ready


def test_from_dict_round_trips(train):
    dyn = analyze_dynamics(train(4.0, 3.0, level=0.3), SR, T)
    assert Dynamics.from_dict(dyn.to_dict()) == dyn
    assert Dynamics.from_dict(json.loads(json.dumps(dyn.to_dict()))) == dyn


@pytest.mark.parametrize("bad", [
    {}, {"volume": {}, "rate": {}}, None, [],
    {"volume": {"level": "shouting", "dbfs": -5, "clipping_ratio": 0}, "rate": {"level": "fast", "wpm": 170, "source": "acoustic"}},
    {"volume": {"level": "loud", "dbfs": float("nan"), "clipping_ratio": 0}, "rate": {"level": "fast", "wpm": 170, "source": "acoustic"}},
    {"volume": {"level": "loud", "dbfs": -5, "clipping_ratio": 2}, "rate": {"level": "fast", "wpm": 170, "source": "acoustic"}},
    {"volume": {"level": "loud", "dbfs": -5, "clipping_ratio": 0}, "rate": {"level": "fast", "wpm": "170", "source": "acoustic"}},
    {"volume": {"level": "loud", "dbfs": -5, "clipping_ratio": 0}, "rate": {"level": "fast", "wpm": 170, "source": "guess"}},
])
def test_from_dict_rejects_malformed(bad):
    with pytest.raises(ValueError):
        Dynamics.from_dict(bad)


def test_levels_follow_the_thresholds(train):
    x = train(4.0, 3.0, level=0.3)
    dbfs = analyze_dynamics(x, SR, T).volume.dbfs
    assert analyze_dynamics(x, SR, DynamicsThresholds(volume_loud=dbfs - 1, volume_medium=dbfs - 2,
                                                      volume_soft=dbfs - 3)).volume.level == "loud"
    assert analyze_dynamics(x, SR, DynamicsThresholds(volume_loud=dbfs + 3, volume_medium=dbfs + 2,
                                                      volume_soft=dbfs + 1)).volume.level == "whisper"


def test_silence_is_a_result_not_an_error():
    d = analyze_dynamics(np.zeros(SR, np.float32), SR, T)
    assert d.volume == VolumeDynamics("silent", -120.0, 0.0)
    assert d.rate == RateDynamics("unknown", 0.0, "acoustic")


def test_word_timings_switch_the_source(train):
    x = train(4.0, 3.0, level=0.3)
    d = analyze_dynamics(x, SR, T, [(0.0, 0.4), (0.5, 0.9), (1.0, 1.2)])
    assert d.rate.source == "transcript"
    assert d.rate.wpm == pytest.approx(150.0)
    assert d.rate.level == "medium"
    assert analyze_dynamics(x, SR, T, []).rate.source == "acoustic"  # no words: nothing said about pace


def test_timings_are_reported(train):
    timings: dict[str, float] = {}
    analyze_dynamics(train(4.0, 1.0), SR, T, timings=timings)
    assert set(timings) == {"volume_ms", "rate_ms"}
    assert all(v >= 0 for v in timings.values())


def test_other_sample_rates_give_the_same_answer(train):
    at16 = analyze_dynamics(train(5.0, 3.0, level=0.3), SR, T)
    at48 = analyze_dynamics(train(5.0, 3.0, level=0.3, sample_rate=48000), 48000, T)
    assert at48.volume.dbfs == pytest.approx(at16.volume.dbfs, abs=0.3)
    assert at48.rate.wpm == pytest.approx(at16.rate.wpm, rel=0.1)


@pytest.mark.parametrize(("samples", "rate"), [
    (np.array([0.0, np.nan], np.float32), SR),
    (np.array([0.0, np.inf], np.float32), SR),
    (np.zeros((2, 100), np.float32), SR),
    (np.zeros(100, np.int16), SR),
    (np.zeros(100, np.float32), 0),
    (np.zeros(100, np.float32), 16000.5),
])
def test_invalid_input_raises_value_error(samples, rate):
    with pytest.raises(ValueError):
        analyze_dynamics(samples, rate, T)


def test_thresholds_validate_order_and_values():
    with pytest.raises(ValueError):
        DynamicsThresholds(volume_loud=-30.0, volume_medium=-20.0)
    with pytest.raises(ValueError):
        DynamicsThresholds(rate_slow=200.0)
    with pytest.raises(ValueError):
        DynamicsThresholds(volume_soft=float("nan"))
    assert T.typical_wpm == 145.0


def test_thresholds_from_settings_and_env():
    env = {"VOLUME_LOUD_THRESHOLD": "-8", "VOLUME_MEDIUM_THRESHOLD": "-18", "VOLUME_SOFT_THRESHOLD": "-28",
           "RATE_VERY_SLOW_THRESHOLD": "90", "RATE_SLOW_THRESHOLD": "120", "RATE_MEDIUM_THRESHOLD": "150",
           "RATE_FAST_THRESHOLD": "180"}
    expected = DynamicsThresholds(-8.0, -18.0, -28.0, 90.0, 120.0, 150.0, 180.0)
    assert DynamicsThresholds.from_settings(EmotionSettings.from_env(env)) == expected
    assert DynamicsThresholds.from_env(env) == expected
    assert DynamicsThresholds.from_settings(EmotionSettings()) == T


def test_settings_defaults_mirror_the_design():
    s = EmotionSettings.from_env({})
    assert (s.max_retries, s.retry_base_delay, s.retry_max_delay) == (3, 0.1, 2.0)
    assert (s.max_audio_duration_seconds, s.default_voice_id, s.polly_output_format) == (30.0, "Joanna", "mp3")


@pytest.mark.parametrize("env", [
    {"MAX_RETRIES": "many"}, {"MAX_RETRIES": "-1"}, {"RETRY_BASE_DELAY": "3", "RETRY_MAX_DELAY": "2"},
    {"VOLUME_LOUD_THRESHOLD": "-40"}, {"RATE_FAST_THRESHOLD": "50"}, {"POLLY_OUTPUT_FORMAT": "wav"},
    {"MAX_AUDIO_DURATION_SECONDS": "0"}, {"VOLUME_SOFT_THRESHOLD": "nan"}, {"DEFAULT_VOICE_ID": " "},
])
def test_bad_settings_name_the_variable(env):
    with pytest.raises(SettingsError):
        EmotionSettings.from_env(env)


def test_get_settings_reads_the_environment_once(monkeypatch):
    get_settings.cache_clear()
    monkeypatch.setenv("DEFAULT_VOICE_ID", "Matthew")
    try:
        assert get_settings().default_voice_id == "Matthew"
        monkeypatch.setenv("DEFAULT_VOICE_ID", "Joanna")
        assert get_settings().default_voice_id == "Matthew"
    finally:
        get_settings.cache_clear()


def test_dc_offset_is_not_sound(train):
    x = train(4.0, 3.0, level=0.2)
    with_dc = analyze_dynamics(x + np.float32(0.1), SR, T)
    plain = analyze_dynamics(x, SR, T)
    assert with_dc.volume.dbfs == pytest.approx(plain.volume.dbfs, abs=0.1)
    assert with_dc.rate.wpm == pytest.approx(plain.rate.wpm, rel=0.02)
    assert analyze_dynamics(np.full(SR, 0.2, np.float32), SR, T).volume.level == "silent"

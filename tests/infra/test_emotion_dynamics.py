"""Emotion dynamics on the live path, on every stack: no function of its own, its settings reach the
functions that run its code, and its alarms watch what those functions emit."""

from __future__ import annotations

import pytest

from tests.harness import STACKS

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@pytest.mark.parametrize("stack", STACKS)
def test_no_standalone_emotion_function(deployments, stack):
    names = [f.inputs["name"] for f in deployments[stack].of_type("aws:lambda/function:Function")]
    assert not [name for name in names if "emotion" in name]
    assert "emotion_function" not in deployments[stack].outputs


@pytest.mark.parametrize("stack", STACKS)
def test_thresholds_reach_the_worker_and_the_translation_processor(deployments, stack):
    for suffix in ("-audio-stream-worker", "-translation-processor"):
        variables = deployments[stack].function(suffix).inputs["environment"]["variables"]
        assert [variables[f"VOLUME_{level}_THRESHOLD"] for level in ("LOUD", "MEDIUM", "SOFT")] == ["-10.0", "-20.0", "-30.0"]
        assert [variables[f"RATE_{level}_THRESHOLD"] for level in ("VERY_SLOW", "SLOW", "MEDIUM", "FAST")] == \
            ["100.0", "130.0", "160.0", "190.0"]


@pytest.mark.parametrize("stack", STACKS)
def test_translation_retries_are_its_own_setting(deployments, stack):
    """MAX_RETRIES was set twice (emotion and translation); the translation setting is now the only one."""
    variables = deployments[stack].function("-translation-processor").inputs["environment"]["variables"]
    assert variables["MAX_RETRIES"] == "3"
    assert (variables["RETRY_BASE_DELAY"], variables["RETRY_MAX_DELAY"], variables["DEFAULT_VOICE_ID"]) == ("0.1", "2.0", "Joanna")


def test_a_variable_set_by_two_settings_groups_is_refused():
    from components.shared.lambda_function import merge_environment

    with pytest.raises(Exception, match=r"\['MAX_RETRIES'\] are set by two settings groups"):
        merge_environment({"MAX_RETRIES": "3", "A": "1"}, {"MAX_RETRIES": "5"})
    assert merge_environment({"A": "1"}, {"B": "2"}) == {"A": "1", "B": "2"}


@pytest.mark.parametrize("stack", STACKS)
def test_polly_policy_is_synthesize_speech_in_the_region_only(deployments, stack):
    statements = deployments[stack].policy_statements(deployments[stack].function("-translation-processor"))
    polly = [s for s in statements if any(a.startswith("polly:") for a in s["Action"])]
    assert [s["Action"] for s in polly] == [["polly:SynthesizeSpeech"], ["polly:DescribeVoices"]]
    assert polly[0]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
    worker = deployments[stack].policy_statements(deployments[stack].function("-audio-stream-worker"))
    assert not [s for s in worker if any(a.startswith("polly:") for a in s["Action"])]


@pytest.mark.parametrize("stack", STACKS)
def test_alarms_watch_the_live_path(deployments, stack):
    alarms = {a.name: a.inputs for a in deployments[stack].of_type(ALARM) if a.name.startswith("emotion-")}
    assert (alarms["emotion-latency"]["metricName"], alarms["emotion-latency"]["dimensions"]) == \
        ("EmotionExtractionLatency", {"service": "audio-transcription"})
    assert alarms["emotion-latency"]["threshold"] == 1000 and alarms["emotion-latency"]["extendedStatistic"] == "p95"
    assert (alarms["emotion-errors"]["metricName"], alarms["emotion-errors"]["dimensions"]) == \
        ("EmotionAnalysisFailures", {"service": "audio-transcription"})
    assert (alarms["emotion-fallbacks"]["metricName"], alarms["emotion-fallbacks"]["dimensions"]) == \
        ("FallbackCount", {"service": "translation-pipeline"})
    throttled = alarms["emotion-polly-throttled"]
    assert (throttled["metricName"], throttled["dimensions"], throttled["threshold"]) == \
        ("PollyThrottled", {"service": "translation-pipeline"}, 10)
    assert "Service Quotas" in throttled["alarmDescription"]
    assert deployments[stack].find(lambda r: r.type == "aws:cloudwatch/dashboard:Dashboard"
                                   and r.inputs["dashboardName"].endswith("emotion-dynamics-us-east-1"))


def test_thresholds_follow_config(tuned):
    assert tuned.function("-audio-stream-worker").inputs["environment"]["variables"]["VOLUME_LOUD_THRESHOLD"] == "-8.0"

"""Emotion dynamics infrastructure, on every stack."""

from __future__ import annotations

import pytest

from tests.harness import STACKS


def emotion_function(deployment):
    return deployment.function("-emotion-processor")


@pytest.mark.parametrize("stack", STACKS)
def test_function_settings_from_the_design(deployments, stack):
    function = emotion_function(deployments[stack])
    assert (function.inputs["memorySize"], function.inputs["timeout"]) == (1024, 15)
    assert function.inputs["ephemeralStorage"] == {"size": 1024}
    assert function.inputs["handler"] == "emotion_dynamics.handler.lambda_handler"
    variables = function.inputs["environment"]["variables"]
    assert [variables[f"VOLUME_{level}_THRESHOLD"] for level in ("LOUD", "MEDIUM", "SOFT")] == ["-10.0", "-20.0", "-30.0"]
    assert [variables[f"RATE_{level}_THRESHOLD"] for level in ("VERY_SLOW", "SLOW", "MEDIUM", "FAST")] == \
        ["100.0", "130.0", "160.0", "190.0"]


@pytest.mark.parametrize("stack", STACKS)
def test_layers_are_the_small_audio_layer_only(deployments, stack):
    function = emotion_function(deployments[stack])
    assert sorted(layer.rsplit(":", 2)[-2].rsplit("-", 1)[-1] for layer in function.inputs["layers"]) == ["audio", "common"]


@pytest.mark.parametrize("stack", STACKS)
def test_polly_policy_is_synthesize_speech_only(deployments, stack):
    statements = deployments[stack].policy_statements(emotion_function(deployments[stack]))
    polly = [s for s in statements if any(a.startswith("polly:") for a in s["Action"])]
    assert [s["Action"] for s in polly] == [["polly:SynthesizeSpeech"]]
    assert polly[0]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}


@pytest.mark.parametrize("stack", STACKS)
def test_alarms_of_the_design(deployments, stack):
    alarms = {a.inputs["metricName"]: a for a in deployments[stack].of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
              if a.inputs.get("dimensions") == {"service": "emotion-dynamics"}}
    assert alarms["EndToEndLatency"].inputs["threshold"] == 1000
    assert alarms["EndToEndLatency"].inputs["extendedStatistic"] == "p95"
    assert alarms["ErrorCount"].inputs["threshold"] == 10
    assert "FallbackCount" in alarms
    assert deployments[stack].find(lambda r: r.type == "aws:cloudwatch/dashboard:Dashboard"
                                   and r.inputs["dashboardName"].endswith("emotion-dynamics"))


def test_thresholds_follow_config(tuned):
    assert emotion_function(tuned).inputs["environment"]["variables"]["VOLUME_LOUD_THRESHOLD"] == "-8.0"

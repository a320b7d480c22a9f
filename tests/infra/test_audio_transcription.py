"""Audio transcription infrastructure, on every stack."""

from __future__ import annotations

import json

import pytest

from tests.harness import STACKS

FUNCTION = "aws:lambda/function:Function"


@pytest.mark.parametrize("stack", STACKS)
def test_partial_results_settings_reach_the_worker(deployments, stack):
    variables = deployments[stack].function("-audio-stream-worker").inputs["environment"]["variables"]
    expected = {"dev": ("1.0", "7.0", "10"), "staging": ("1.0", "5.0", "5"), "prod": ("1.0", "5.0", "5")}[stack]
    assert (variables["MIN_STABILITY_THRESHOLD"], variables["MAX_BUFFER_TIMEOUT"], variables["MAX_RATE_PER_SECOND"]) == expected
    assert (variables["PHRASE_MAX_WORDS"], variables["PHRASE_MIN_WORDS"], variables["PHRASE_MAX_WAIT"]) == ("6", "4", "1.1")
    assert variables["PHRASE_TAIL_WORDS"] == "1"
    assert (variables["PAUSE_THRESHOLD"], variables["ORPHAN_TIMEOUT"], variables["DEDUP_CACHE_TTL"]) == ("2.0", "15.0", "10")
    assert variables["PARTIAL_RESULTS_STABILITY"] == "high"


def test_config_set_reaches_the_processor_and_the_flag(tuned):
    variables = tuned.function("-audio-stream-worker").inputs["environment"]["variables"]
    assert variables["MIN_STABILITY_THRESHOLD"] == "0.9"
    [flag] = tuned.of_type("aws:ssm/parameter:Parameter")
    assert json.loads(flag.inputs["insecureValue"]) == {"partialResultsEnabled": False}


@pytest.mark.parametrize("stack", STACKS)
def test_worker_and_route_handler_limits(deployments, stack):
    deployment = deployments[stack]
    worker = deployment.function("-audio-stream-worker")
    processor = deployment.function("-audio-audio-processor")
    assert worker.inputs["timeout"] == 900 and processor.inputs["timeout"] <= 29
    assert processor.inputs["memorySize"] == 512
    [retries] = deployment.find(lambda r: r.type == "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
                                and r.name.startswith("audio-"))
    assert retries.inputs["maximumRetryAttempts"] == 0
    routes = {r.inputs["routeKey"] for r in deployment.of_type("aws:apigatewayv2/route:Route")}
    assert "sendAudio" in routes


@pytest.mark.parametrize("stack", STACKS)
def test_chunk_buffer_is_ordered_per_session(deployments, stack):
    [table] = deployments[stack].find(lambda r: r.type == "aws:dynamodb/table:Table"
                                      and r.inputs["name"].endswith("audio-chunks"))
    assert (table.inputs["hashKey"], table.inputs["rangeKey"]) == ("sessionId", "sequence")
    assert {"name": "sequence", "type": "N"} in table.inputs["attributes"]


@pytest.mark.parametrize("stack", STACKS)
def test_worker_permissions_are_scoped(deployments, stack):
    deployment = deployments[stack]
    worker = deployment.function("-audio-stream-worker")
    by_action = {action: s for s in deployment.policy_statements(worker) for action in s["Action"]}
    invoke = by_action["lambda:InvokeFunction"]["Resource"]
    # Only the `live` aliases: a rollback of the alias moves every invoke.
    assert sorted(arn.split(":function:", 1)[1] for arn in invoke) == sorted(
        [f"speech-translation-{stack}-audio-stream-worker:live", f"speech-translation-{stack}-translation-processor:live"])
    assert by_action["ssm:GetParameter"]["Resource"][0].startswith("arn:aws:ssm:")
    assert by_action["transcribe:StartStreamTranscription"]


@pytest.mark.parametrize("stack", STACKS)
def test_alarms_of_the_original_design(deployments, stack):
    alarms = {a.inputs["metricName"]: a.inputs for a in deployments[stack].of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
              if a.inputs.get("dimensions") == {"service": "audio-transcription"}}
    assert alarms["PartialResultProcessingLatency"]["threshold"] == 5000
    assert alarms["PartialResultsDropped"]["threshold"] == 100 and alarms["PartialResultsDropped"]["period"] == 60
    assert alarms["OrphanedResultsFlushed"]["threshold"] == 10
    assert alarms["TranscribeFallbackTriggered"]["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarms["TranscribeFallbackTriggered"]["threshold"] == 1
    assert alarms["AudioQualitySNR"]["comparisonOperator"] == "LessThanThreshold"
    assert "AudioQualityClipping" in alarms


@pytest.mark.parametrize("stack", STACKS)
def test_every_function_a_function_invokes_exists_in_the_same_stack(deployments, stack):
    """A comparable design invoked a function name the stack never created; here names come from the stack."""
    functions = deployments[stack].of_type(FUNCTION)
    aliases = {f"{a.inputs['functionName']}:{a.inputs['name']}" for a in deployments[stack].of_type("aws:lambda/alias:Alias")}
    referenced = {value for f in functions for key, value in f.inputs["environment"]["variables"].items()
                  if key.endswith("_FUNCTION")}
    # Each names a function of this stack with its `live` alias (lambda.invoke takes `name:alias`).
    assert referenced and referenced <= aliases, referenced - aliases
    assert {value.rsplit(":", 1)[1] for value in referenced} == {"live"}

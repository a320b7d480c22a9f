"""Translation pipeline infrastructure, on every stack."""

from __future__ import annotations

import pytest

from tests.harness import STACKS


def processor(deployment):
    return deployment.function("-translation-processor")


@pytest.mark.parametrize("stack", STACKS)
def test_processor_has_cache_reserved_concurrency_and_failure_destination(deployments, stack):
    deployment = deployments[stack]
    function = processor(deployment)
    # No reservation unless a stack asks for one (Lambda keeps 100 of the account's quota unreserved).
    expected_concurrency = {"dev": None, "staging": None, "prod": 100}[stack]
    assert function.inputs.get("reservedConcurrentExecutions") == expected_concurrency
    variables = function.inputs["environment"]["variables"]
    assert variables["TRANSLATION_CACHE_TABLE"] == f"speech-translation-{stack}-translation-cache"
    assert variables["WEBSOCKET_ENDPOINT"].startswith("https://") and variables["WEBSOCKET_ENDPOINT"].endswith("/live")
    [invoke_config] = deployment.find(lambda r: r.type == "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
                                      and r.name.startswith("translation-"))
    assert invoke_config.inputs["destinationConfig"]["onFailure"]["destination"].endswith(f"{stack}-translation-failures")


@pytest.mark.parametrize("stack", STACKS)
def test_least_privilege_statements(deployments, stack):
    deployment = deployments[stack]
    statements = deployment.policy_statements(processor(deployment))
    by_action = {action: s for s in statements for action in s["Action"]}
    assert by_action["translate:TranslateText"]
    assert by_action["polly:SynthesizeSpeech"]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
    manage = by_action["execute-api:ManageConnections"]["Resource"]
    assert manage.startswith("arn:aws:execute-api:us-east-1:123456789012:") and manage.endswith("/live/*/@connections/*")
    assert "dynamodb:Scan" not in by_action, "listeners come from the index, never a scan"


@pytest.mark.parametrize("stack", STACKS)
def test_alarms_of_the_design(deployments, stack):
    alarms = [a for a in deployments[stack].of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
              if a.name.startswith("translation-")]
    metrics = {a.inputs.get("metricName") for a in alarms}
    assert {"EndToEndLatency", "BroadcastFailures", "LanguageFailures", "ApproximateNumberOfMessagesVisible"} <= metrics
    [hit_rate] = [a for a in alarms if a.name == "translation-cache-hit-rate"]
    assert hit_rate.inputs["comparisonOperator"] == "LessThanThreshold"
    assert hit_rate.inputs["threshold"] == 0.2


def test_reserved_concurrency_follows_config(tuned):
    assert processor(tuned).inputs["reservedConcurrentExecutions"] == 33


@pytest.mark.parametrize("stack", STACKS)
def test_processor_may_invoke_itself_for_shards(deployments, stack):
    deployment = deployments[stack]
    function = processor(deployment)
    variables = function.inputs["environment"]["variables"]
    assert variables["FANOUT_SHARD_LISTENERS"] == "500" and variables["COMBINE_CAPTION_AUDIO"] == "true"
    statements = deployment.policy_statements(function)
    [invoke] = [s for s in statements if s["Action"] == ["lambda:InvokeFunction"]]
    own = f"arn:aws:lambda:us-east-1:123456789012:function:{function.inputs['name']}"
    assert invoke["Resource"] == [f"{own}:live"]  # itself through its alias, nothing else

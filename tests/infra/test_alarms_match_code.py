"""Every alarm watches something deployed code emits, with exactly those dimensions, and none fires
in normal operation."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.harness import STACKS, Deployment
from tests.infra.code_scan import emitted_metric_names
from tests.infra.policy_check import fake

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
FUNCTION = "aws:lambda/function:Function"
METRIC_NAME = re.compile(r"^[A-Z][A-Za-z0-9]+$")


def _emitters(deployment: Deployment) -> dict[tuple[str, str], set[str]]:
    """(namespace, service) -> metric names the functions with that Powertools namespace and service emit."""
    emitted: dict[tuple[str, str], set[str]] = {}
    for function in deployment.of_type(FUNCTION):
        variables = function.inputs["environment"]["variables"]
        key = (variables["POWERTOOLS_METRICS_NAMESPACE"], variables["POWERTOOLS_SERVICE_NAME"])
        names = {n for n in emitted_metric_names(function.inputs["handler"]) if METRIC_NAME.match(n)}
        emitted.setdefault(key, set()).update(names)
    return emitted


def _watched(alarm_inputs: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm reads: its own, or each metric of its metric math."""
    if alarm_inputs.get("metricName"):
        return [{"namespace": alarm_inputs["namespace"], "metricName": alarm_inputs["metricName"],
                 "dimensions": alarm_inputs.get("dimensions") or {}}]
    return [q["metric"] for q in alarm_inputs.get("metricQueries") or [] if q.get("metric")]


def unmatched_alarms(deployment: Deployment, alarms: list | None = None) -> list[str]:
    """Every alarm metric no deployed code or resource of the stack produces with exactly those dimensions."""
    emitted = _emitters(deployment)
    functions = {f.inputs["name"] for f in deployment.of_type(FUNCTION)}
    queues = {q.inputs["name"] for q in deployment.of_type("aws:sqs/queue:Queue")}
    problems = []
    for alarm in alarms if alarms is not None else deployment.of_type(ALARM):
        for metric in _watched(alarm.inputs):
            namespace, name, dimensions = metric["namespace"], metric["metricName"], metric["dimensions"]
            if namespace == "AWS/Lambda":
                ok = set(dimensions) == {"FunctionName"} and dimensions["FunctionName"] in functions
            elif namespace == "AWS/SQS":
                ok = set(dimensions) == {"QueueName"} and dimensions["QueueName"] in queues
            else:
                # Powertools publishes every metric with exactly the `service` dimension (its default).
                ok = set(dimensions) == {"service"} and name in emitted.get((namespace, dimensions["service"]), set())
            if not ok:
                problems.append(f"{alarm.name}: {namespace} {name} {dimensions}")
    return problems


@pytest.mark.parametrize("stack", STACKS)
def test_every_alarm_watches_an_emitted_metric(deployments, stack):
    deployment = deployments[stack]
    assert len(deployment.of_type(ALARM)) > 40
    assert unmatched_alarms(deployment) == []


def test_an_alarm_on_a_metric_nobody_emits_is_caught(deployments):
    """The alarms this replaced: the standalone emotion function's, and the right name under the wrong service."""
    deployment = deployments["dev"]
    namespace = "SpeechTranslation/dev"
    stale = [
        fake(ALARM, "emotion-fallbacks", namespace=namespace, metricName="FallbackCount", dimensions={"service": "emotion-dynamics"}),
        fake(ALARM, "made-up", namespace=namespace, metricName="NeverEmitted", dimensions={"service": "translation-pipeline"}),
        fake(ALARM, "extra-dimension", namespace=namespace, metricName="FallbackCount",
             dimensions={"service": "translation-pipeline", "Language": "fr"}),
        fake(ALARM, "gone-function", namespace="AWS/Lambda", metricName="Errors",
             dimensions={"FunctionName": "speech-translation-dev-emotion-processor"}),
    ]
    assert [p.split(":")[0] for p in unmatched_alarms(deployment, stale)] == [a.name for a in stale]


def test_the_scan_reads_names_from_literals_constants_and_tables():
    worker = emitted_metric_names("audio_transcription.stream_worker.handler.lambda_handler")
    assert {"TranscribeStreamInitLatency", "PartialResultsDropped", "EmotionExtractionLatency", "EmotionAnalysisFailures"} <= worker
    translation = emitted_metric_names("translation_pipeline.handler.lambda_handler")
    assert {"EndToEndLatency", "CacheHit", "LanguageFailures", "FallbackCount"} <= translation
    assert "SessionCreationLatency" not in translation


@pytest.mark.parametrize("stack", STACKS)
def test_worker_duration_alarm_sits_above_its_designed_run(deployments, stack):
    """A worker runs up to 860 s by design (handover 40 s before the 900 s timeout): that must not alarm."""
    from components.audio_transcription.component import WORKER_HANDOVER_DEADLINE_SECONDS, WORKER_TIMEOUT_SECONDS

    deployment = deployments[stack]
    worker = deployment.function("-audio-stream-worker")
    assert worker.inputs["environment"]["variables"]["HANDOVER_DEADLINE_SECONDS"] == str(WORKER_HANDOVER_DEADLINE_SECONDS)
    [alarm] = [a for a in deployment.of_type(ALARM) if a.inputs.get("metricName") == "Duration"
               and a.inputs["dimensions"] == {"FunctionName": worker.inputs["name"]}]
    designed_ms = (WORKER_TIMEOUT_SECONDS - WORKER_HANDOVER_DEADLINE_SECONDS) * 1000
    assert designed_ms < alarm.inputs["threshold"] < worker.inputs["timeout"] * 1000


def test_a_designed_run_at_or_over_the_timeout_is_refused():
    from components.shared.lambda_function import LambdaFunction, LambdaFunctionArgs

    args = LambdaFunctionArgs(platform=None, service="s", description="d", code_bundle="audio_transcription",
                              handler="h", timeout_seconds=900, designed_run_seconds=900, layers=())
    with pytest.raises(Exception, match="designed run time 900 s must be under its 900 s timeout"):
        LambdaFunction._check("worker", args)

"""What the Pulumi program deploys, read from a mocked run of the real ``__main__.py``.

Tables (with their keys, attribute types, indexes and TTL), every Lambda's handler, timeout,
environment, code zip, layers and async-invoke config, which function serves which WebSocket
route, the authorizer, the schedule's rules and targets, queues and the SSM parameters: the
local run and the end-to-end test build their systems from these, so they run what the stack
would deploy rather than a hand-written copy of it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.harness import Deployment, run_stack

_INVOKE_ARN_FUNCTION = ":function:"


def _function_of(invoke_uri: str) -> str:
    """The function name inside an API Gateway integration/authorizer URI."""
    return invoke_uri.split(_INVOKE_ARN_FUNCTION, 1)[1].split("/", 1)[0].split(":", 1)[0]


def function_name_of(reference: str) -> str:
    """The function name in a name, ``name:qualifier``, function ARN (qualified or not) or invoke URI."""
    if _INVOKE_ARN_FUNCTION in reference:
        return _function_of(reference)
    return reference.split(":", 1)[0]


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function as the stack declares it."""

    name: str
    handler: str
    timeout: float
    memory: int
    environment: dict[str, str]
    code_path: str = ""
    layers: tuple[str, ...] = ()
    reserved_concurrency: int | None = None

    def entry(self) -> Callable[[Any, Any], Any]:
        """The handler callable (``package.module.function``), imported like the Lambda runtime does."""
        module, _, attribute = self.handler.rpartition(".")
        return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class AsyncInvokeConfig:
    """Lambda's handling of a function's asynchronous invokes (defaults are Lambda's own)."""

    maximum_retry_attempts: int = 2
    maximum_event_age_seconds: int = 21600
    on_failure_destination: str | None = None


@dataclass(frozen=True)
class Schedule:
    """An EventBridge rule on a fixed rate and the functions it invokes."""

    rule: str
    every_seconds: float
    functions: tuple[str, ...] = field(default_factory=tuple)


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")


def rate_seconds(expression: str) -> float:
    """Seconds between firings of a ``rate(N unit)`` expression (cron is not supported locally)."""
    match = _RATE.match(expression.strip())
    if not match:
        raise ValueError(f"schedule {expression!r}: only rate(...) expressions run locally")
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit


@dataclass
class StackView:
    """The parts of one stack's deployment the system test needs."""

    deployment: Deployment

    @classmethod
    def load(cls, stack: str = "dev", overrides: dict[str, Any] | None = None) -> StackView:
        """Run the program for ``stack`` under mocks (``overrides``: as ``pulumi config set`` would)."""
        return cls(run_stack(stack, overrides))

    @property
    def stack(self) -> str:
        """The stack's name."""
        return self.deployment.stack

    @property
    def outputs(self) -> dict[str, Any]:
        """The stack outputs."""
        return self.deployment.outputs

    def tables(self) -> list[dict[str, Any]]:
        """Inputs of every ``aws:dynamodb/table:Table``."""
        return [r.inputs for r in self.deployment.of_type("aws:dynamodb/table:Table")]

    def functions(self) -> dict[str, FunctionSpec]:
        """Every Lambda function by name."""
        out = {}
        for r in self.deployment.of_type("aws:lambda/function:Function"):
            variables = (r.inputs.get("environment") or {}).get("variables") or {}
            code = r.inputs.get("code")
            reserved = r.inputs.get("reservedConcurrentExecutions")
            out[r.inputs["name"]] = FunctionSpec(
                r.inputs["name"], r.inputs["handler"], float(r.inputs.get("timeout", 3)),
                int(r.inputs.get("memorySize", 128)), {k: str(v) for k, v in variables.items()},
                code_path=str(getattr(code, "path", "") or ""), layers=tuple(r.inputs.get("layers") or ()),
                reserved_concurrency=int(reserved) if reserved is not None and reserved >= 0 else None)
        return out

    def layer_paths(self) -> dict[str, str]:
        """Layer version ARN -> the layer zip it deploys."""
        return {r.outputs["arn"]: str(getattr(r.inputs.get("code"), "path", "") or "")
                for r in self.deployment.of_type("aws:lambda/layerVersion:LayerVersion")}

    def async_configs(self) -> dict[str, AsyncInvokeConfig]:
        """Function name -> its asynchronous-invocation config (retries, event age, on-failure destination)."""
        out = {}
        for r in self.deployment.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"):
            on_failure = ((r.inputs.get("destinationConfig") or {}).get("onFailure") or {}).get("destination")
            name = function_name_of(r.inputs["functionName"])
            out[name] = AsyncInvokeConfig(
                maximum_retry_attempts=int(r.inputs.get("maximumRetryAttempts", 2)),
                maximum_event_age_seconds=int(r.inputs.get("maximumEventAgeInSeconds", 21600)),
                on_failure_destination=on_failure)
        return out

    def schedules(self) -> list[Schedule]:
        """Every scheduled rule with the functions it targets."""
        targets: dict[str, list[str]] = {}
        for target in self.deployment.of_type("aws:cloudwatch/eventTarget:EventTarget"):
            if _INVOKE_ARN_FUNCTION in str(target.inputs.get("arn", "")):
                targets.setdefault(str(target.inputs["rule"]), []).append(
                    function_name_of(str(target.inputs["arn"]).rsplit(_INVOKE_ARN_FUNCTION, 1)[1]))
        out = []
        for rule in self.deployment.of_type("aws:cloudwatch/eventRule:EventRule"):
            expression = rule.inputs.get("scheduleExpression")
            if expression and targets.get(rule.inputs["name"]):
                out.append(Schedule(rule.inputs["name"], rate_seconds(expression), tuple(targets[rule.inputs["name"]])))
        return out

    def queues(self) -> list[str]:
        """Names of every SQS queue (on-failure destinations among them)."""
        return [r.inputs.get("name") or r.outputs["name"] for r in self.deployment.of_type("aws:sqs/queue:Queue")]

    def region(self) -> str:
        """The region the program deploys to (from a function ARN it built)."""
        [function] = self.deployment.of_type("aws:lambda/function:Function")[:1]
        return function.outputs["arn"].split(":")[3]

    def routes(self) -> dict[str, str]:
        """WebSocket route key -> the function its integration invokes."""
        integrations = {f"integrations/{r.name}-id": _function_of(r.inputs["integrationUri"])
                        for r in self.deployment.of_type("aws:apigatewayv2/integration:Integration")}
        return {r.inputs["routeKey"]: integrations[r.inputs["target"]]
                for r in self.deployment.of_type("aws:apigatewayv2/route:Route")}

    def authorizer_function(self) -> str:
        """The function of the ``$connect`` REQUEST authorizer."""
        [authorizer] = self.deployment.of_type("aws:apigatewayv2/authorizer:Authorizer")
        assert authorizer.inputs["authorizerType"] == "REQUEST"
        return _function_of(authorizer.inputs["authorizerUri"])

    def scheduled_function(self) -> str:
        """The function the minute rule targets."""
        [target] = self.deployment.of_type("aws:cloudwatch/eventTarget:EventTarget")
        # The target may be the function's `live` alias (name:live).
        return function_name_of(target.inputs["arn"].rsplit(_INVOKE_ARN_FUNCTION, 1)[1])

    def stage(self) -> str:
        """The WebSocket stage name."""
        [stage] = self.deployment.of_type("aws:apigatewayv2/stage:Stage")
        return stage.inputs["name"]

    def parameters(self) -> list[dict[str, Any]]:
        """Inputs of every SSM parameter."""
        return [r.inputs for r in self.deployment.of_type("aws:ssm/parameter:Parameter")]


def create_table_request(spec: dict[str, Any]) -> dict[str, Any]:
    """A CreateTable request with the schema of a ``aws:dynamodb/table:Table``'s inputs (camelCase)."""
    def key_schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
        schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
        if range_key:
            schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
        return schema

    request: dict[str, Any] = {
        "TableName": spec["name"],
        "BillingMode": spec.get("billingMode", "PAY_PER_REQUEST"),
        "AttributeDefinitions": [{"AttributeName": a["name"], "AttributeType": a["type"]} for a in spec["attributes"]],
        "KeySchema": key_schema(spec["hashKey"], spec.get("rangeKey")),
    }
    indexes = []
    for index in spec.get("globalSecondaryIndexes") or []:
        projection: dict[str, Any] = {"ProjectionType": index.get("projectionType", "ALL")}
        if index.get("nonKeyAttributes"):
            projection["NonKeyAttributes"] = list(index["nonKeyAttributes"])
        indexes.append({"IndexName": index["name"], "KeySchema": key_schema(index["hashKey"], index.get("rangeKey")),
                        "Projection": projection})
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    if (spec.get("serverSideEncryption") or {}).get("enabled"):
        request["SSESpecification"] = {"Enabled": True}
    return request


def create_tables(dynamodb: Any, specs: list[dict[str, Any]]) -> None:
    """Create every table in (moto's) DynamoDB with the stack's schema, TTL included."""
    for spec in specs:
        dynamodb.create_table(**create_table_request(spec))
        ttl = spec.get("ttl") or {}
        if ttl.get("enabled"):
            dynamodb.update_time_to_live(TableName=spec["name"], TimeToLiveSpecification={
                "Enabled": True, "AttributeName": ttl["attributeName"]})


def create_parameters(ssm: Any, specs: list[dict[str, Any]]) -> None:
    """Create the stack's SSM parameters with their initial values."""
    for spec in specs:
        value = spec.get("value", spec.get("insecureValue"))
        ssm.put_parameter(Name=spec["name"], Value=str(value), Type=spec.get("type", "String"))

"""What the Pulumi program deploys, read from a mocked run of the real ``__main__.py``.

Tables (with their keys, attribute types, indexes and TTL), every Lambda's handler, timeout
and environment, which function serves which WebSocket route, the authorizer, the scheduled
sweep's target and the SSM parameters: the end-to-end test builds its system from these, so
it runs what the stack would deploy rather than a hand-written copy of it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.harness import Deployment, run_stack

_INVOKE_ARN_FUNCTION = ":function:"


def _function_of(invoke_uri: str) -> str:
    """The function name inside an API Gateway integration/authorizer URI."""
    return invoke_uri.split(_INVOKE_ARN_FUNCTION, 1)[1].split("/", 1)[0].split(":", 1)[0]


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function as the stack declares it."""

    name: str
    handler: str
    timeout: float
    memory: int
    environment: dict[str, str]

    def entry(self) -> Callable[[Any, Any], Any]:
        """The handler callable (``package.module.function``), imported like the Lambda runtime does."""
        module, _, attribute = self.handler.rpartition(".")
        return getattr(importlib.import_module(module), attribute)


@dataclass
class StackView:
    """The parts of one stack's deployment the system test needs."""

    deployment: Deployment

    @classmethod
    def load(cls, stack: str = "dev") -> StackView:
        """Run the program for ``stack`` under mocks."""
        return cls(run_stack(stack))

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
            out[r.inputs["name"]] = FunctionSpec(r.inputs["name"], r.inputs["handler"], float(r.inputs.get("timeout", 3)),
                                                 int(r.inputs.get("memorySize", 128)), {k: str(v) for k, v in variables.items()})
        return out

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
        # The target is the function's `live` alias (name:live).
        return target.inputs["arn"].rsplit(_INVOKE_ARN_FUNCTION, 1)[1].split(":", 1)[0]

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

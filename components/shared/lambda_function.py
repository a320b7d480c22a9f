"""LambdaFunction: a Lambda function with everything it needs, the one construct every component uses.

It owns the function's IAM role (inline least-privilege policy from the statements the owning
component passes, plus logs and X-Ray), its log group with retention from config, the function
(code bundle from the build, layers, tracing, environment, reserved concurrency), a published
version per deploy and the `live` alias every invoker calls (rollback: point `live` back), the
standard alarms (errors, throttles, duration p95 near the timeout or above the designed run
time) on the alerting topic, and the dashboard widgets it contributes to its component.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.shared import artifacts
from components.shared.alarms import AlarmSpec, create_alarm
from components.shared.dashboard import metric_widget
from components.shared.platform import Platform

# Lambda rejects these names in a function's environment (the deploy fails).
RESERVED_ENVIRONMENT_NAMES = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ",
})
RESERVED_ENVIRONMENT_PREFIXES = ("AWS_LAMBDA_",)

# API Gateway gives up on an integration after 29 s.
WEBSOCKET_INTEGRATION_TIMEOUT_SECONDS = 29

# Tag that marks WebSocket route handlers, so the policy pack can check their timeout.
WEBSOCKET_ROUTE_TAG = "websocket-route"

# Every invoker (routes, authorizer, schedule, async invokes) calls this alias, never $LATEST.
LIVE_ALIAS = "live"

# IAM's limit on a role name prefix (Pulumi appends a unique suffix, so regions never collide).
ROLE_NAME_PREFIX_MAX = 38


def assume_role_policy(principal: str) -> str:
    """Trust policy letting one AWS service principal assume a role."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}],
    })


def merge_environment(*parts: Mapping[str, pulumi.Input[str]]) -> dict[str, pulumi.Input[str]]:
    """One environment from several settings groups; a variable two groups both set is refused,
    because the later one would silently win."""
    merged: dict[str, pulumi.Input[str]] = {}
    for part in parts:
        clash = sorted(set(merged) & set(part))
        if clash:
            raise pulumi.RunError(f"environment variables {clash} are set by two settings groups; give them distinct names")
        merged.update(part)
    return merged


def is_reserved_environment_name(name: str) -> bool:
    """True for names Lambda reserves for its runtime."""
    return name in RESERVED_ENVIRONMENT_NAMES or name.startswith(RESERVED_ENVIRONMENT_PREFIXES)


@dataclass
class LambdaFunctionArgs:
    """What a component says about one of its functions."""

    platform: Platform
    service: str                      # the component's service name (metrics dimension, log field)
    description: str
    code_bundle: str                  # a key of artifacts.CODE_BUNDLES
    handler: str                      # e.g. "session_management.connect.handler.lambda_handler"
    memory_mb: int = 256
    timeout_seconds: int = 29
    policy_statements: Sequence[Mapping[str, Any]] = field(default_factory=list)
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    layers: Sequence[str] = ("common",)  # names of the platform's layers
    reserved_concurrency: Optional[int] = None
    ephemeral_storage_mb: Optional[int] = None
    websocket_route: bool = False     # invoked by an API Gateway WebSocket route (29 s limit)
    # Longest run the design intends (a worker that hands over before the timeout); the duration
    # alarm then sits between it and the timeout instead of at a share of the timeout.
    designed_run_seconds: Optional[int] = None


class LambdaFunction(pulumi.ComponentResource):
    """A Lambda function with its role, log group, alarms and dashboard widgets."""

    function: aws.lambda_.Function
    alias: aws.lambda_.Alias
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    alarms: list[aws.cloudwatch.MetricAlarm]
    widgets: list[pulumi.Input[dict]]

    def __init__(self, name: str, args: LambdaFunctionArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("speech-translation:shared:LambdaFunction", name, None, opts)
        platform = args.platform
        self.platform = platform
        cfg = platform.config
        self._check(name, args)
        function_name = platform.physical_name(name)
        code_zip = artifacts.require_artifact(artifacts.code_zip_path(args.code_bundle))
        child = pulumi.ResourceOptions(parent=self)

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=cfg.observability.logRetentionDays,
            opts=child,
        )
        # Role names are account-wide (IAM is global): a prefix plus a unique suffix lets the same
        # stack name deploy to two regions of one account.
        self.role = aws.iam.Role(
            f"{name}-role",
            name_prefix=f"{function_name[:ROLE_NAME_PREFIX_MAX - 1]}-",
            assume_role_policy=assume_role_policy(platform.service_principal("lambda")),
            description=f"Execution role of {function_name} in {platform.region}",
            tags={"function": function_name},
            opts=child,
        )
        own_statements = [
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": self.log_group.arn.apply(lambda arn: f"{arn}:*")},
            # X-Ray accepts no resource-level permissions; the actions stay specific.
            {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"},
        ]
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            name=f"{function_name}-inline",
            policy=pulumi.Output.json_dumps({"Version": "2012-10-17",
                                             "Statement": own_statements + list(args.policy_statements)}),
            opts=child,
        )
        environment = {
            "POWERTOOLS_SERVICE_NAME": args.service,
            "POWERTOOLS_METRICS_NAMESPACE": platform.metrics_namespace,
            "LOG_LEVEL": cfg.observability.logLevel,
            "STAGE": cfg.stack,
            **args.environment,
        }
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            description=args.description,
            runtime=artifacts.LAMBDA_RUNTIME,
            architectures=[artifacts.LAMBDA_ARCHITECTURE],
            handler=args.handler,
            code=pulumi.FileArchive(str(code_zip)),
            source_code_hash=artifacts.source_code_hash(code_zip),
            role=self.role.arn,
            memory_size=args.memory_mb,
            timeout=args.timeout_seconds,
            layers=[platform.layer_arns[layer] for layer in args.layers],
            reserved_concurrent_executions=args.reserved_concurrency,
            ephemeral_storage=({"size": args.ephemeral_storage_mb} if args.ephemeral_storage_mb else None),
            tracing_config={"mode": "Active"},
            environment={"variables": environment},
            tags={WEBSOCKET_ROUTE_TAG: "true"} if args.websocket_route else None,
            # Every deploy that changes code or configuration publishes a version for `live` to point at.
            publish=True,
            # The log group must exist first, or Lambda creates one without retention.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, self.policy]),
        )
        self.alias = aws.lambda_.Alias(
            f"{name}-live",
            name=LIVE_ALIAS,
            function_name=self.function.name,
            function_version=self.function.version,
            description="What every invoker calls; roll back with `aws lambda update-alias --name live --function-version <n>`",
            opts=child,
        )
        self.function_name = self.function.name
        # Invokers use the alias: its ARN, its API Gateway invoke ARN, and `name:live` for lambda.invoke.
        self.arn = self.alias.arn
        self.invoke_arn = self.alias.invoke_arn
        # From the alias's outputs, not the constant, so whatever names the alias (a permission, an async
        # config, a caller's environment) is created after the alias exists.
        self.qualifier: pulumi.Output[str] = self.alias.name
        self.qualified_name = pulumi.Output.concat(self.function.name, ":", self.alias.name)
        self.alarms = self._standard_alarms(name, function_name, args)
        self.widgets = [metric_widget(
            f"{name}: invocations, errors, throttles",
            [["AWS/Lambda", metric, "FunctionName", function_name] for metric in ("Invocations", "Errors", "Throttles")],
            region=platform.region,
        ), metric_widget(
            f"{name}: duration p95 (ms)",
            [["AWS/Lambda", "Duration", "FunctionName", function_name]],
            region=platform.region, stat="p95",
        )]
        self.register_outputs({"function_name": self.function.name, "arn": self.function.arn, "live_arn": self.alias.arn})

    @staticmethod
    def _check(name: str, args: LambdaFunctionArgs) -> None:
        """Refuse, before anything is deployed, what AWS would refuse at deploy time."""
        reserved = sorted(key for key in args.environment if is_reserved_environment_name(key))
        if reserved:
            raise pulumi.RunError(f"function '{name}': environment variables {reserved} are reserved by Lambda")
        if args.code_bundle not in artifacts.CODE_BUNDLES:
            raise pulumi.RunError(f"function '{name}': unknown code bundle '{args.code_bundle}'")
        unknown_layers = [layer for layer in args.layers if layer not in args.platform.layer_arns]
        if unknown_layers:
            raise pulumi.RunError(f"function '{name}': unknown layers {unknown_layers}")
        if args.websocket_route and args.timeout_seconds > WEBSOCKET_INTEGRATION_TIMEOUT_SECONDS:
            raise pulumi.RunError(f"function '{name}' handles a WebSocket route: timeout {args.timeout_seconds} s is over "
                                  f"API Gateway's {WEBSOCKET_INTEGRATION_TIMEOUT_SECONDS} s integration limit")
        if args.designed_run_seconds is not None and not 0 < args.designed_run_seconds < args.timeout_seconds:
            raise pulumi.RunError(f"function '{name}': designed run time {args.designed_run_seconds} s must be under "
                                  f"its {args.timeout_seconds} s timeout")

    @staticmethod
    def duration_alarm_ms(args: LambdaFunctionArgs) -> float:
        """Duration p95 that alarms: near the timeout, or, for a function designed to run long, halfway
        between its designed run time and the timeout (so a normal long run never fires it)."""
        if args.designed_run_seconds is not None:
            return (args.designed_run_seconds + args.timeout_seconds) / 2 * 1000
        return args.timeout_seconds * 1000 * args.platform.config.alarms.durationTimeoutRatio

    def _standard_alarms(self, name: str, function_name: str, args: LambdaFunctionArgs) -> list[aws.cloudwatch.MetricAlarm]:
        thresholds = args.platform.config.alarms
        # AWS/Lambda publishes FunctionName (all versions) besides Resource (name:alias); alarm on all.
        dimensions = {"FunctionName": function_name}
        specs = [
            AlarmSpec(f"{name}-errors", f"{function_name}: more than {thresholds.lambdaErrors:g} errors in 5 minutes",
                      "AWS/Lambda", "Errors", thresholds.lambdaErrors, dimensions),
            AlarmSpec(f"{name}-throttles", f"{function_name}: more than {thresholds.lambdaThrottles:g} throttles in 5 minutes",
                      "AWS/Lambda", "Throttles", thresholds.lambdaThrottles, dimensions),
            AlarmSpec(f"{name}-duration", f"{function_name}: duration p95 near the {args.timeout_seconds} s timeout",
                      "AWS/Lambda", "Duration", self.duration_alarm_ms(args), dimensions,
                      statistic=None, extended_statistic="p95", evaluation_periods=2),
        ]
        return [create_alarm(spec, f"{args.platform.config.name_prefix}-{spec.name}"[:255],
                             args.platform.alarm_topic_arn, self) for spec in specs]

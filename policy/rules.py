"""Deploy-time rules, each a validate function the policy pack runs and the tests call directly.

Every rule here stands for a deploy that failed, or would have: a reserved Lambda environment
variable, an EventBridge schedule under a minute, a WebSocket stage whose default route
settings left a throttling limit at 0, a wildcard IAM action, a Lambda without its own log
group and retention, an alarm that tells nobody, a WebSocket handler that outlives API
Gateway's 29 s integration timeout, a code asset that was never built, and an alarm topic of a
stack that must page someone (staging, prod) with nobody subscribed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Optional

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

FUNCTION = "aws:lambda/function:Function"
LAYER = "aws:lambda/layerVersion:LayerVersion"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
STAGE = "aws:apigatewayv2/stage:Stage"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
REQUIRE_SUBSCRIBER_TAG = "require-subscriber"
IAM_POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy",
                    "aws:iam/groupPolicy:GroupPolicy")

RESERVED_ENVIRONMENT_NAMES = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ",
})
RESERVED_ENVIRONMENT_PREFIX = "AWS_LAMBDA_"
WEBSOCKET_INTEGRATION_TIMEOUT_SECONDS = 29
WEBSOCKET_ROUTE_TAG = "websocket-route"
RATE_EXPRESSION = re.compile(r"^rate\(\s*(\d+)\s+(second|seconds|minute|minutes|hour|hours|day|days)\s*\)$")


def no_reserved_lambda_environment(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Lambda refuses functions that set a runtime-reserved environment variable (AWS_REGION, TZ, ...)."""
    if args.resource_type != FUNCTION:
        return
    variables = ((args.props.get("environment") or {}).get("variables")) or {}
    for name in sorted(variables):
        if name in RESERVED_ENVIRONMENT_NAMES or name.startswith(RESERVED_ENVIRONMENT_PREFIX):
            report_violation(f"environment variable '{name}' is reserved by the Lambda runtime; remove it", None)


def schedule_at_least_one_minute(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """EventBridge scheduled rules run at most once a minute; `rate(30 seconds)` fails the deploy."""
    if args.resource_type != EVENT_RULE:
        return
    expression = (args.props.get("scheduleExpression") or "").strip()
    if not expression or expression.startswith("cron("):
        return
    match = RATE_EXPRESSION.match(expression)
    if not match:
        report_violation(f"schedule expression '{expression}' is not rate(N unit) or cron(...)", None)
        return
    value, unit = int(match.group(1)), match.group(2)
    if unit.startswith("second") or value < 1:
        report_violation(f"schedule '{expression}' is under EventBridge's one-minute minimum", None)
    elif value == 1 and unit.endswith("s") or value > 1 and not unit.endswith("s"):
        report_violation(f"schedule '{expression}': use the singular unit for 1 and the plural otherwise", None)


def stage_throttling_complete(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A v2 stage's route settings without both throttling limits get 0 for the missing one: every request 429s."""
    if args.resource_type != STAGE:
        return
    settings: list[tuple[str, Mapping[str, Any]]] = []
    if args.props.get("defaultRouteSettings"):
        settings.append(("defaultRouteSettings", args.props["defaultRouteSettings"]))
    for route in args.props.get("routeSettings") or []:
        settings.append((f"routeSettings[{route.get('routeKey')}]", route))
    for where, values in settings:
        for limit in ("throttlingBurstLimit", "throttlingRateLimit"):
            if not values.get(limit):
                report_violation(f"{where} sets route settings without {limit}; API Gateway then throttles every request", None)


def _statements(document: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if not isinstance(document, Mapping):
        return []
    statements = document.get("Statement") or []
    return [statements] if isinstance(statements, Mapping) else statements


def no_wildcard_iam_actions(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Least privilege: no Allow statement grants `*` or `service:*`."""
    documents: list[Any] = []
    if args.resource_type in IAM_POLICY_TYPES:
        documents.append(args.props.get("policy"))
    elif args.resource_type == "aws:iam/role:Role":
        documents += [inline.get("policy") for inline in args.props.get("inlinePolicies") or []]
    for document in documents:
        for statement in _statements(document):
            if statement.get("Effect", "Allow") != "Allow":
                continue
            actions = statement.get("Action") or []
            for action in [actions] if isinstance(actions, str) else actions:
                if action == "*" or action.endswith(":*"):
                    report_violation(f"IAM statement allows wildcard action '{action}'; name the actions", None)


def no_managed_policy_attachments(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Functions get inline least-privilege policies only, never AWS-managed ones."""
    if args.resource_type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment" or (
            args.resource_type == "aws:iam/role:Role" and args.props.get("managedPolicyArns")):
        report_violation("attach no managed policies to roles; use an inline least-privilege policy", None)


def alarm_has_action(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """An alarm without an action tells nobody."""
    if args.resource_type == ALARM and not args.props.get("alarmActions"):
        report_violation("alarm has no alarm action; notify the alerting topic", None)


def websocket_handler_timeout(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """API Gateway abandons a WebSocket integration after 29 s, so its handler's timeout must fit."""
    if args.resource_type != FUNCTION:
        return
    tags = args.props.get("tags") or {}
    timeout = args.props.get("timeout") or 3
    if tags.get(WEBSOCKET_ROUTE_TAG) == "true" and timeout > WEBSOCKET_INTEGRATION_TIMEOUT_SECONDS:
        report_violation(f"WebSocket route handler timeout {timeout:g} s exceeds the "
                         f"{WEBSOCKET_INTEGRATION_TIMEOUT_SECONDS} s integration limit", None)


def _archive_path(archive: Any) -> Optional[str]:
    path = getattr(archive, "path", None)
    if path is None and isinstance(archive, Mapping):
        path = archive.get("path")
    return path


def code_assets_exist(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A function or layer whose zip was never built cannot deploy."""
    if args.resource_type not in (FUNCTION, LAYER):
        return
    archive = args.props.get("code")
    if archive is None:
        if args.resource_type == FUNCTION and not args.props.get("imageUri") and not args.props.get("s3Key"):
            report_violation("function has no code", None)
        return
    path = _archive_path(archive)
    if path is not None and not (os.path.isfile(path) and os.path.getsize(path) > 0):
        report_violation(f"code asset '{path}' does not exist; run the build first", None)


def lambda_log_group_with_retention(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every function has its own explicitly created log group with a retention period."""
    retention_by_name = {
        resource.props.get("name"): resource.props.get("retentionInDays")
        for resource in args.resources if resource.resource_type == LOG_GROUP
    }
    for resource in args.resources:
        if resource.resource_type != FUNCTION:
            continue
        function_name = resource.props.get("name")
        if not function_name:
            report_violation(f"function '{resource.name}' has no explicit name, so its log group cannot be declared", resource.urn)
            continue
        group = f"/aws/lambda/{function_name}"
        if group not in retention_by_name:
            report_violation(f"function '{function_name}' has no explicit log group '{group}'", resource.urn)
        elif not retention_by_name[group]:
            report_violation(f"log group '{group}' has no retention", resource.urn)


def alarm_topic_has_subscriber(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """A topic tagged `require-subscriber: true` (staging, prod) has a subscription with an endpoint: an alarm
    action on a topic nobody reads tells nobody."""
    subscribed = [r for r in args.resources if r.resource_type == SUBSCRIPTION and r.props.get("endpoint")]
    for resource in args.resources:
        if resource.resource_type == TOPIC and (resource.props.get("tags") or {}).get(REQUIRE_SUBSCRIBER_TAG) == "true" \
                and not subscribed:
            report_violation(f"alarm topic '{resource.props.get('name') or resource.name}' must reach a person: "
                             "set config key 'alerting:email'", resource.urn)


ResourceRule = Callable[[ResourceValidationArgs, ReportViolation], None]

RESOURCE_RULES: dict[str, tuple[str, ResourceRule]] = {
    "lambda-no-reserved-environment": ("No reserved Lambda environment variable names.", no_reserved_lambda_environment),
    "eventbridge-schedule-min-one-minute": ("EventBridge schedules run at most once a minute.", schedule_at_least_one_minute),
    "apigw-stage-throttling-complete": ("Stage route settings set both throttling limits.", stage_throttling_complete),
    "iam-no-wildcard-actions": ("No IAM statement allows '*' or 'service:*'.", no_wildcard_iam_actions),
    "iam-no-managed-policies": ("No managed policy attachments on roles.", no_managed_policy_attachments),
    "alarm-has-action": ("Every alarm notifies someone.", alarm_has_action),
    "websocket-handler-timeout": ("WebSocket route handlers time out within 29 s.", websocket_handler_timeout),
    "code-assets-exist": ("Every code asset has been built.", code_assets_exist),
}
STACK_RULES = {
    "lambda-log-group-retention": ("Every Lambda has an explicit log group with retention.", lambda_log_group_with_retention),
    "alarm-topic-has-subscriber": ("Staging and prod alarm topics have a subscriber.", alarm_topic_has_subscriber),
}

POLICIES = [
    ResourceValidationPolicy(name=name, description=description, validate=rule,
                             enforcement_level=EnforcementLevel.MANDATORY)
    for name, (description, rule) in RESOURCE_RULES.items()
] + [
    StackValidationPolicy(name=name, description=description, validate=rule,
                          enforcement_level=EnforcementLevel.MANDATORY)
    for name, (description, rule) in STACK_RULES.items()
]

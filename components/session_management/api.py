"""The WebSocket API and its stage: route selection on the body's action, JSON access logs, throttling.

Access logs need API Gateway's account-wide CloudWatch role (one setting per account and region).
Exactly one stack per account and region owns it (`api:manageAccountLoggingRole`); the role has
one name per account and region, so IAM itself refuses a second owner, its path names the owning
stack, and preview checks both ways: an owner finds no role owned by another stack, a non-owner
finds the role in place.
"""

from __future__ import annotations

import json
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.config import ConfigError
from components.shared.lambda_function import assume_role_policy
from components.shared.platform import Platform
from components.shared.websocket import WebSocketApiRef

# $context variables only: the query string (which carries the token) is never logged.
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "connectionId": "$context.connectionId",
    "sourceIp": "$context.identity.sourceIp",
    "status": "$context.status",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "errorMessage": "$context.error.message",
    "authorizerError": "$context.authorizer.error",
})

LOGGING_ROLE_README = "README, 'Account-wide API Gateway logging role'"


def account_logging_role_name(platform: Platform) -> str:
    """One name per project, account and region (not per stack): a second owner cannot create it."""
    return f"{platform.config.project}-apigw-cloudwatch-{platform.region}"[:64]


def account_logging_role_path(platform: Platform) -> str:
    """IAM path of the role: `/<project>/<owning stack>/`, so a lookup tells who owns it."""
    return f"/{platform.config.project}/{platform.config.stack}/"


def check_account_logging_role(platform: Platform) -> None:
    """Fail preview when access logs would have no role, or when a second stack would take the role over."""
    cfg = platform.config
    name = account_logging_role_name(platform)
    owner = _existing_role_owner(cfg.project, name)
    if cfg.api.manageAccountLoggingRole:
        if owner not in (None, "", cfg.stack):
            raise ConfigError(f"config key 'api:manageAccountLoggingRole' is true, but API Gateway's account logging role "
                              f"'{name}' belongs to stack '{owner}' in this account and region; set it to false here "
                              f"(exactly one stack per account and region owns it: {LOGGING_ROLE_README})")
    elif owner is None:
        raise ConfigError(f"API Gateway's account logging role '{name}' does not exist in this account and region, so the "
                          f"stage's access logs cannot be written: set config key 'api:manageAccountLoggingRole' to true in "
                          f"exactly one stack of this account and region and deploy it first ({LOGGING_ROLE_README})")


def _existing_role_owner(project: str, name: str) -> Optional[str]:
    """None when the role does not exist; else the stack its path names ("" when none).

    A list, not GetRole: GetRole fails the whole program when the role is missing."""
    found = aws.iam.get_roles(path_prefix=f"/{project}/", name_regex=f"^{name}$")
    for arn in found.arns or []:
        path = arn.split(":role/", 1)[-1].split("/")[:-1]  # ["<project>", "<stack>"]
        return path[1] if len(path) > 1 else ""
    return None


class WebSocketApi:
    """The API, its stage and access log group, created as children of `parent`; `ref` is what others use."""

    def __init__(self, name: str, platform: Platform, parent: pulumi.Resource) -> None:
        cfg = platform.config
        child = pulumi.ResourceOptions(parent=parent)
        self.api = aws.apigatewayv2.Api(
            f"{name}-api",
            name=platform.physical_name("websocket"),
            protocol_type="WEBSOCKET",
            route_selection_expression="$request.body.action",
            description="Speech translation: speakers stream audio, listeners receive translations",
            opts=child,
        )
        self.access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/{platform.physical_name('websocket')}",
            retention_in_days=cfg.observability.logRetentionDays,
            opts=child,
        )
        check_account_logging_role(platform)
        depends_on: list[pulumi.Resource] = []
        if cfg.api.manageAccountLoggingRole:
            depends_on.append(self._account_logging_role(name, platform, child))
        self.stage = aws.apigatewayv2.Stage(
            f"{name}-stage",
            api_id=self.api.id,
            name=cfg.api.stageName,
            auto_deploy=True,
            # Both limits, always: a missing one becomes 0 and every request gets 429.
            default_route_settings={
                "throttling_burst_limit": cfg.api.throttlingBurstLimit,
                "throttling_rate_limit": cfg.api.throttlingRateLimit,
                "data_trace_enabled": False,
                "detailed_metrics_enabled": True,
            },
            access_log_settings={"destination_arn": self.access_logs.arn, "format": ACCESS_LOG_FORMAT},
            opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on),
        )
        # The API's own endpoint (wss://{id}.execute-api.{region}.{dns suffix}): right in every partition.
        self.url = pulumi.Output.concat(self.api.api_endpoint, "/", cfg.api.stageName)
        management_base = self.api.api_endpoint.apply(lambda endpoint: "https://" + endpoint.split("://", 1)[-1])
        self.ref = WebSocketApiRef(
            api_id=self.api.id,
            execution_arn=self.api.execution_arn,
            stage_name=cfg.api.stageName,
            management_endpoint=pulumi.Output.concat(management_base, "/", cfg.api.stageName),
        )

    @staticmethod
    def _account_logging_role(name: str, platform: Platform, child: pulumi.ResourceOptions) -> aws.apigateway.Account:
        """API Gateway writes access logs only with an account-wide CloudWatch role."""
        role_name = account_logging_role_name(platform)
        role = aws.iam.Role(
            f"{name}-cloudwatch-role",
            name=role_name,
            path=account_logging_role_path(platform),
            assume_role_policy=assume_role_policy(platform.service_principal("apigateway")),
            description=f"API Gateway's account-wide CloudWatch Logs role in {platform.region}, owned by stack {platform.config.stack}",
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-cloudwatch-policy",
            role=role.id,
            name=role_name,
            policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups",
                           "logs:DescribeLogStreams", "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"],
                "Resource": "*",
            }]}),
            opts=child,
        )
        return aws.apigateway.Account(f"{name}-account", cloudwatch_role_arn=role.arn, opts=child)

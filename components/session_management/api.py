"""The WebSocket API and its stage: route selection on the body's action, JSON access logs, throttling."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

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

API_GATEWAY_ASSUME_ROLE_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})


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
        endpoint_host = pulumi.Output.concat(self.api.id, ".execute-api.", platform.region, ".amazonaws.com")
        self.url = pulumi.Output.concat("wss://", endpoint_host, "/", cfg.api.stageName)
        self.ref = WebSocketApiRef(
            api_id=self.api.id,
            execution_arn=self.api.execution_arn,
            stage_name=cfg.api.stageName,
            management_endpoint=pulumi.Output.concat("https://", endpoint_host, "/", cfg.api.stageName),
        )

    @staticmethod
    def _account_logging_role(name: str, platform: Platform, child: pulumi.ResourceOptions) -> aws.apigateway.Account:
        """API Gateway writes access logs only with an account-wide CloudWatch role."""
        role = aws.iam.Role(
            f"{name}-cloudwatch-role",
            name=platform.physical_name("apigw-cloudwatch"),
            assume_role_policy=API_GATEWAY_ASSUME_ROLE_POLICY,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-cloudwatch-policy",
            role=role.id,
            name=platform.physical_name("apigw-cloudwatch"),
            policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups",
                           "logs:DescribeLogStreams", "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"],
                "Resource": "*",
            }]}),
            opts=child,
        )
        return aws.apigateway.Account(f"{name}-account", cloudwatch_role_arn=role.arn, opts=child)

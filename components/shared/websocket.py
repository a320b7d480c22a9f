"""Wiring Lambda functions to routes of the WebSocket API, shared by every component that adds routes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.shared.lambda_function import LambdaFunction


@dataclass(frozen=True)
class WebSocketApiRef:
    """What a component needs to add routes to, or post to connections of, the WebSocket API."""

    api_id: pulumi.Input[str]
    execution_arn: pulumi.Input[str]
    stage_name: str
    management_endpoint: pulumi.Input[str]  # https://{api}.execute-api.{region}.{dns suffix}/{stage}

    def manage_connections_statement(self) -> dict[str, Any]:
        """IAM statement allowing posts to (and lookups/deletes of) this stage's connections only."""
        return {
            "Effect": "Allow",
            "Action": ["execute-api:ManageConnections"],
            "Resource": pulumi.Output.concat(self.execution_arn, "/", self.stage_name, "/*/@connections/*"),
        }


def add_route(name: str, api: WebSocketApiRef, route_key: str, handler: LambdaFunction, parent: pulumi.Resource,
              authorizer_id: Optional[pulumi.Input[str]] = None) -> aws.apigatewayv2.Route:
    """Route `route_key` to `handler`'s `live` alias: integration, route, and an invoke permission on the
    alias scoped to this API and route."""
    child = pulumi.ResourceOptions(parent=parent)
    integration = aws.apigatewayv2.Integration(
        f"{name}-integration",
        api_id=api.api_id,
        integration_type="AWS_PROXY",
        integration_method="POST",
        integration_uri=handler.invoke_arn,
        content_handling_strategy="CONVERT_TO_TEXT",
        opts=child,
    )
    route = aws.apigatewayv2.Route(
        f"{name}-route",
        api_id=api.api_id,
        route_key=route_key,
        target=integration.id.apply(lambda integration_id: f"integrations/{integration_id}"),
        authorization_type="CUSTOM" if authorizer_id is not None else "NONE",
        authorizer_id=authorizer_id,
        opts=child,
    )
    aws.lambda_.Permission(
        f"{name}-permission",
        action="lambda:InvokeFunction",
        function=handler.function_name,
        qualifier=handler.qualifier,
        principal=handler.platform.service_principal("apigateway"),
        # Only this API, and only this route, may invoke the handler.
        source_arn=pulumi.Output.concat(api.execution_arn, "/*/", route_key),
        opts=child,
    )
    return route

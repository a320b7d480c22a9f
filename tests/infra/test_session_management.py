"""Session management infrastructure, on every stack."""

from __future__ import annotations

import json

import pytest

from tests.harness import STACKS

ROUTE_KEYS = {"$connect", "$disconnect", "$default", "createSession", "joinSession", "leaveSession", "heartbeat",
              "refreshConnection", "getSessionStatus", "speakerControl", "listenerControl"}


@pytest.mark.parametrize("stack", STACKS)
def test_tables_are_on_demand_with_ttl_and_the_listeners_index(deployments, stack):
    tables = {t.inputs["name"]: t for t in deployments[stack].of_type("aws:dynamodb/table:Table")}
    prefix = f"speech-translation-{stack}"
    for short in ("sessions", "connections", "rate-limits"):
        table = tables[f"{prefix}-{short}"]
        assert table.inputs["billingMode"] == "PAY_PER_REQUEST"
        assert table.inputs["ttl"] == {"attributeName": "expiresAt", "enabled": True}
    [index] = tables[f"{prefix}-connections"].inputs["globalSecondaryIndexes"]
    assert (index["name"], index["hashKey"], index["rangeKey"]) == ("BySessionLanguage", "sessionId", "targetLanguage")
    assert tables[f"{prefix}-sessions"].inputs["pointInTimeRecovery"]["enabled"] is (stack != "dev")


@pytest.mark.parametrize("stack", STACKS)
def test_websocket_api_routes_on_the_body_action_with_every_route(deployments, stack):
    deployment = deployments[stack]
    [api] = deployment.of_type("aws:apigatewayv2/api:Api")
    assert api.inputs["protocolType"] == "WEBSOCKET"
    assert api.inputs["routeSelectionExpression"] == "$request.body.action"
    routes = {r.inputs["routeKey"]: r for r in deployment.of_type("aws:apigatewayv2/route:Route")}
    assert ROUTE_KEYS <= set(routes)
    assert routes["$connect"].inputs["authorizationType"] == "CUSTOM"
    assert all(r.inputs.get("authorizationType") == "NONE" for k, r in routes.items() if k != "$connect")
    [authorizer] = deployment.of_type("aws:apigatewayv2/authorizer:Authorizer")
    assert authorizer.inputs["authorizerType"] == "REQUEST"


@pytest.mark.parametrize("stack", STACKS)
def test_stage_throttles_explicitly_and_never_logs_the_query_string(deployments, stack):
    [stage] = deployments[stack].of_type("aws:apigatewayv2/stage:Stage")
    settings = stage.inputs["defaultRouteSettings"]
    assert (settings["throttlingBurstLimit"], settings["throttlingRateLimit"]) == (1000, 500)
    log_format = stage.inputs["accessLogSettings"]["format"]
    json.loads(log_format)
    assert "querystring" not in log_format.lower() and "token" not in log_format.lower()


def test_throttling_follows_config(tuned):
    [stage] = tuned.of_type("aws:apigatewayv2/stage:Stage")
    assert (stage.inputs["defaultRouteSettings"]["throttlingBurstLimit"],
            stage.inputs["defaultRouteSettings"]["throttlingRateLimit"]) == (400, 200)


@pytest.mark.parametrize("stack", STACKS)
def test_every_invoke_permission_is_scoped_to_this_api_or_rule(deployments, stack):
    deployment = deployments[stack]
    [api] = deployment.of_type("aws:apigatewayv2/api:Api")
    execution_arn = f"arn:aws:execute-api:us-east-1:123456789012:{api.name}"
    for permission in deployment.of_type("aws:lambda/permission:Permission"):
        if permission.inputs["principal"] == "apigateway.amazonaws.com":
            assert permission.inputs["sourceArn"].startswith(execution_arn + "/"), permission.name
        else:
            assert permission.inputs["principal"] == "events.amazonaws.com"
            assert permission.inputs["sourceArn"].startswith("arn:aws:cloudwatch:")


@pytest.mark.parametrize("stack", STACKS)
def test_status_and_sweep_run_every_minute(deployments, stack):
    [rule] = deployments[stack].find(lambda r: r.type == "aws:cloudwatch/eventRule:EventRule"
                                     and r.inputs["name"].endswith("session-status"))
    assert rule.inputs["scheduleExpression"] == "rate(1 minute)"


def test_user_pool_is_created_unless_config_names_one(deployments, tuned):
    assert deployments["staging"].of_type("aws:cognito/userPool:UserPool")
    existing = tuned
    assert not existing.of_type("aws:cognito/userPool:UserPool")
    [authorizer] = existing.find(lambda r: r.type == "aws:lambda/function:Function" and r.inputs["name"].endswith("authorizer"))
    assert authorizer.inputs["environment"]["variables"]["COGNITO_USER_POOL_ID"] == "us-east-1_abc"


@pytest.mark.parametrize("stack", STACKS)
def test_session_alarms_notify_the_topic(deployments, stack):
    alarms = {a.inputs["metricName"]: a for a in deployments[stack].of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
              if a.inputs.get("dimensions") == {"service": "session-management"}}
    assert alarms["SessionCreationLatency"].inputs["extendedStatistic"] == "p95"
    assert alarms["SessionCreationLatency"].inputs["namespace"] == f"SpeechTranslation/{stack}"
    assert "ConnectionErrors" in alarms


def test_listener_cap_and_rate_limits_reach_the_handlers(tuned):
    changed = tuned
    [join] = changed.find(lambda r: r.type == "aws:lambda/function:Function" and r.inputs["name"].endswith("join-session"))
    variables = join.inputs["environment"]["variables"]
    assert (variables["MAX_LISTENERS"], variables["RATE_LISTENER_JOINS_PER_MINUTE"]) == ("250", "3")

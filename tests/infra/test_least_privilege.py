"""Each function's role grants only what its own code calls; nothing names the partition or DNS suffix."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tests.harness import PROJECT_ROOT, STACKS, RecordingMocks, run_stack
from tests.infra.code_scan import attribute_calls, client_operations, method_table_operations

FUNCTION = "aws:lambda/function:Function"

# IAM action -> the boto3 operations that need it.
ACTION_CALLS = {
    "dynamodb:GetItem": {"get_item"}, "dynamodb:PutItem": {"put_item"}, "dynamodb:UpdateItem": {"update_item"},
    "dynamodb:DeleteItem": {"delete_item"}, "dynamodb:Query": {"query"}, "dynamodb:Scan": {"scan"},
    "dynamodb:BatchWriteItem": {"batch_writer", "batch_write_item"}, "dynamodb:BatchGetItem": {"batch_get_item"},
    "lambda:InvokeFunction": {"invoke"}, "transcribe:StartStreamTranscription": {"start_stream_transcription"},
    "ssm:GetParameter": {"get_parameter"},
    "execute-api:ManageConnections": {"post_to_connection", "delete_connection", "get_connection"},
    "translate:TranslateText": {"translate_text"}, "polly:SynthesizeSpeech": {"synthesize_speech"},
    "polly:DescribeVoices": {"describe_voices"},
}
# Used on the function's behalf, not by its code: the runtime's logs, the X-Ray daemon, and Lambda
# sending a failed async event to the on-failure destination with the function's role.
USED_BY_LAMBDA_ITSELF = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
DESTINATION_SEND = "sqs:SendMessage"

TABLE_ACTIONS = {"get_item": "GetItem", "put_item": "PutItem", "update_item": "UpdateItem", "delete_item": "DeleteItem",
                 "query": "Query", "scan": "Scan"}
REPOSITORIES = {"sessions": ("session_management.sessions", "SessionRepository", "sessions"),
                "connections": ("session_management.connections", "ConnectionRepository", "connections"),
                "rate_limiter": ("session_management.rate_limits", "RateLimiter", "rate-limits")}


def _granted(deployment, function) -> dict[str, list[str]]:
    """Action -> resources over the function's inline policy."""
    granted: dict[str, list[str]] = {}
    for statement in deployment.policy_statements(function):
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in statement["Action"]:
            granted.setdefault(action, []).extend(resources)
    return granted


@pytest.mark.parametrize("stack", STACKS)
def test_every_granted_action_is_called_by_the_functions_code(deployments, stack):
    deployment = deployments[stack]
    destinations = {c.inputs["functionName"] for c in deployment.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
                    if (c.inputs.get("destinationConfig") or {}).get("onFailure")}
    every_operation = set().union(*ACTION_CALLS.values())
    for function in deployment.of_type(FUNCTION):
        called = client_operations(function.inputs["handler"], every_operation)
        for action in _granted(deployment, function):
            if action in USED_BY_LAMBDA_ITSELF or (action == DESTINATION_SEND and function.inputs["name"] in destinations):
                continue
            assert action in ACTION_CALLS, f"{function.inputs['name']}: {action} is not known to this test"
            assert ACTION_CALLS[action] & called, f"{function.inputs['name']} is granted {action} but its code never calls it"


def _session_table_needs(handler: str) -> dict[str, set[str]]:
    """Table (or the listeners index) -> DynamoDB actions, from the repository methods the handler's code calls."""
    needs: dict[str, set[str]] = {}
    for receiver, method in attribute_calls(handler, set(REPOSITORIES)):
        module, cls, table = REPOSITORIES[receiver]
        for operation in method_table_operations(module, cls).get(method, set()):
            # Listener lookups query the BySessionLanguage index, not the table.
            where = f"{table}/index" if operation == "query" else table
            needs.setdefault(where, set()).add(TABLE_ACTIONS[operation])
    return needs


def _session_table_grants(deployment, function, stack: str) -> dict[str, set[str]]:
    grants: dict[str, set[str]] = {}
    prefix = f"speech-translation-{stack}-"
    for action, resources in _granted(deployment, function).items():
        if not action.startswith("dynamodb:"):
            continue
        for arn in resources:
            table = arn.rsplit(":", 1)[-1].removeprefix(prefix)
            where = table.split("/index/")[0] + "/index" if "/index/" in table else table
            grants.setdefault(where, set()).add(action.split(":", 1)[1])
    return grants


@pytest.mark.parametrize("stack", STACKS)
def test_each_session_function_gets_exactly_the_table_actions_its_code_calls(deployments, stack):
    deployment = deployments[stack]
    functions = [f for f in deployment.of_type(FUNCTION) if f.inputs["handler"].startswith("session_management.")]
    assert len(functions) == 12
    for function in functions:
        assert _session_table_grants(deployment, function, stack) == _session_table_needs(function.inputs["handler"]), \
            function.inputs["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_no_union_policy_and_no_unused_grants_from_the_review(deployments, stack):
    deployment = deployments[stack]
    default_route = _granted(deployment, deployment.function("-session-default-route"))
    # $default writes no session and no new row: its only PutItem puts back a connection row that its
    # Gone clean-up removed when the session's count could not be updated (a rollback).
    assert [arn.rsplit("-", 1)[-1] for arn in default_route["dynamodb:PutItem"]] == ["connections"]
    scheduled = _granted(deployment, deployment.function("-session-scheduled"))
    assert [arn.rsplit("-", 1)[-1] for arn in scheduled["dynamodb:Scan"]] == ["sessions"]
    worker = _granted(deployment, deployment.function("-audio-stream-worker"))
    assert "dynamodb:DeleteItem" not in worker
    policies = [json.dumps(deployment.policy_statements(f), sort_keys=True) for f in deployment.of_type(FUNCTION)]
    assert len(set(policies)) == len(policies), "no two functions share one policy"


def test_the_scan_sees_batch_writes_as_batch_writes():
    worker = client_operations("audio_transcription.stream_worker.handler.lambda_handler",
                               {"delete_item", "batch_writer", "query", "invoke"})
    assert worker == {"batch_writer", "query", "invoke"}


# -- partition and DNS suffix --------------------------------------------------------------------

def _program_strings() -> list[tuple[Path, str]]:
    files = [PROJECT_ROOT / "__main__.py", *sorted((PROJECT_ROOT / "components").rglob("*.py"))]
    return [(path, node.value) for path in files for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_the_program_writes_no_partition_or_dns_suffix():
    found = [(str(path.relative_to(PROJECT_ROOT)), text) for path, text in _program_strings()
             if "arn:aws:" in text or "amazonaws.com" in text]
    assert found == []


def test_a_china_region_deploy_uses_that_partition_throughout(built_artifacts, monkeypatch):
    answers = {
        "aws:index/getPartition:getPartition": lambda args: {"partition": "aws-cn", "dnsSuffix": "amazonaws.com.cn", "id": "aws-cn"},
        "aws:index/getServicePrincipal:getServicePrincipal": lambda args: {
            "name": f"{args['serviceName']}.amazonaws.com.cn", "serviceName": args["serviceName"], "suffix": "amazonaws.com.cn",
            "region": args.get("region"), "id": args["serviceName"]},
    }
    monkeypatch.setattr(RecordingMocks, "call_answers", answers)
    deployment = run_stack("prod", {"aws:region": "cn-north-1"})
    worker = deployment.function("-audio-stream-worker")
    [invoke] = [s for s in deployment.policy_statements(worker) if s["Action"] == ["lambda:InvokeFunction"]]
    assert invoke["Resource"][0].startswith("arn:aws-cn:lambda:cn-north-1:123456789012:function:")
    for role in deployment.of_type("aws:iam/role:Role"):
        [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Principal"]["Service"].endswith(".amazonaws.com.cn"), role.name
    for permission in deployment.of_type("aws:lambda/permission:Permission"):
        assert permission.inputs["principal"].endswith(".amazonaws.com.cn")
    [api] = deployment.of_type("aws:apigatewayv2/api:Api")
    assert deployment.outputs["websocket_url"] == api.outputs["apiEndpoint"] + "/live"


@pytest.mark.parametrize("stack", STACKS)
def test_account_wide_names_carry_the_region(deployments, stack):
    """IAM roles and CloudWatch dashboards are account-wide: a prefix or the region keeps two regions apart."""
    deployment = deployments[stack]
    for dashboard in deployment.of_type("aws:cloudwatch/dashboard:Dashboard"):
        assert dashboard.inputs["dashboardName"].endswith("-us-east-1"), dashboard.name
    for role in deployment.of_type("aws:iam/role:Role"):
        assert role.inputs.get("namePrefix") or role.inputs["name"].endswith("-us-east-1"), role.name

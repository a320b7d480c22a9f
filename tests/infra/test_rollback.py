"""Rollback: every function publishes a version per deploy and every invoker calls its `live` alias, so
pointing `live` back moves all traffic; the partial-results flag switches without a deploy."""

from __future__ import annotations

import json
import re

import boto3
import pytest
from moto import mock_aws

from tests.harness import PROJECT_ROOT, STACKS

FUNCTION = "aws:lambda/function:Function"
ALIAS = "aws:lambda/alias:Alias"
LIVE_INVOKE_URI = re.compile(r":function:(?P<name>[^:/]+):live/invocations$")


@pytest.mark.parametrize("stack", STACKS)
def test_every_function_publishes_and_has_a_live_alias_on_its_new_version(deployments, stack):
    deployment = deployments[stack]
    functions = {f.inputs["name"]: f for f in deployment.of_type(FUNCTION)}
    aliases = {a.inputs["functionName"]: a for a in deployment.of_type(ALIAS)}
    assert len(functions) == 15 and set(aliases) == set(functions)
    for name, function in functions.items():
        assert function.inputs["publish"] is True, name
        assert aliases[name].inputs["name"] == "live"
        # The version this deploy published (the mocks answer "1"), not $LATEST.
        assert aliases[name].inputs["functionVersion"] == function.outputs["version"] == "1"


@pytest.mark.parametrize("stack", STACKS)
def test_routes_and_the_authorizer_invoke_the_alias(deployments, stack):
    deployment = deployments[stack]
    uris = [i.inputs["integrationUri"] for i in deployment.of_type("aws:apigatewayv2/integration:Integration")]
    [authorizer] = deployment.of_type("aws:apigatewayv2/authorizer:Authorizer")
    for uri in [*uris, authorizer.inputs["authorizerUri"]]:
        assert LIVE_INVOKE_URI.search(uri), uri
    assert len(uris) == 12


@pytest.mark.parametrize("stack", STACKS)
def test_schedule_async_invokes_and_self_invocation_use_the_alias(deployments, stack):
    deployment = deployments[stack]
    [target] = deployment.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert target.inputs["arn"].endswith("-session-scheduled:live")
    configs = deployment.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert len(configs) == 2 and {c.inputs["qualifier"] for c in configs} == {"live"}
    worker = deployment.function("-audio-stream-worker").inputs["environment"]["variables"]
    processor = deployment.function("-audio-audio-processor").inputs["environment"]["variables"]
    prefix = f"speech-translation-{stack}"
    assert worker["STREAM_WORKER_FUNCTION"] == processor["STREAM_WORKER_FUNCTION"] == f"{prefix}-audio-stream-worker:live"
    assert worker["TRANSLATION_FUNCTION"] == f"{prefix}-translation-processor:live"
    for function in deployment.of_type(FUNCTION):
        for statement in deployment.policy_statements(function):
            if "lambda:InvokeFunction" in statement["Action"]:
                assert all(arn.endswith(":live") for arn in statement["Resource"]), function.name


@pytest.mark.parametrize("stack", STACKS)
def test_invoke_permissions_are_on_the_alias(deployments, stack):
    permissions = deployments[stack].of_type("aws:lambda/permission:Permission")
    assert len(permissions) == 14  # 12 routes, the authorizer, the schedule
    assert {p.inputs["qualifier"] for p in permissions} == {"live"}


def _readme_section(title: str) -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    return readme.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_readme_rollback_commands_name_what_the_stack_deploys(deployments):
    """The procedure's commands, with `<stack>` and `<function>` filled in, address real resources."""
    section = _readme_section("Rollback")
    update = re.search(r"aws lambda update-alias --function-name (\S+) --name (\S+) --function-version", section)
    assert update, "README gives the update-alias command"
    name_pattern, alias = update.groups()
    assert alias == "live"
    for stack, deployment in deployments.items():
        names = {f.inputs["name"] for f in deployment.of_type(FUNCTION)}
        for name in names:
            short = name.removeprefix(f"speech-translation-{stack}-")
            assert name_pattern.replace("<stack>", stack).replace("<function>", short) == name
    flag = re.search(r"aws ssm put-parameter --name (\S+) --type String --overwrite --value '([^']+)'", section)
    assert flag, "README gives the feature-flag command"
    for stack, deployment in deployments.items():
        [parameter] = deployment.of_type("aws:ssm/parameter:Parameter")
        assert flag.group(1).replace("<stack>", stack) == parameter.inputs["name"]


def test_feature_flag_switch_reaches_the_worker_without_a_deploy(deployments):
    """The parameter as prod deploys it, switched with the README's command, read by the worker's flag reader."""
    from audio_transcription.feature_flag import FeatureFlag

    section = _readme_section("Rollback")
    _, value = re.search(r"aws ssm put-parameter --name (\S+) --type String --overwrite --value '([^']+)'", section).groups()
    deployment = deployments["prod"]
    [parameter] = deployment.of_type("aws:ssm/parameter:Parameter")
    worker_env = deployment.function("-audio-stream-worker").inputs["environment"]["variables"]
    assert worker_env["FEATURE_FLAG_PARAMETER"] == parameter.inputs["name"]
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name=parameter.inputs["name"], Type=parameter.inputs["type"], Value=parameter.inputs["insecureValue"])
        clock = [0.0]
        flag = FeatureFlag(ssm, worker_env["FEATURE_FLAG_PARAMETER"], ttl=30, clock=lambda: clock[0])
        assert flag.partial_results_enabled() is True
        ssm.put_parameter(Name=parameter.inputs["name"], Type="String", Overwrite=True, Value=value)
        clock[0] += 61
        assert flag.partial_results_enabled() is json.loads(value)["partialResultsEnabled"] is False


def test_rolling_back_the_alias_moves_every_invoke(deployments):
    """Under moto's Lambda: publish two versions, point `live` at the new one as `pulumi up` does, roll back with
    the README's update-alias, and the name:live every invoker uses resolves to the old version."""
    deployment = deployments["prod"]
    name = deployment.function("-translation-processor").inputs["name"]
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        client = boto3.client("lambda", region_name="us-east-1")
        import io
        import zipfile
        versions = []
        for body in ("def lambda_handler(e, c):\n    return 1\n", "def lambda_handler(e, c):\n    return 2\n"):
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("handler.py", body)
            if not versions:
                client.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="handler.lambda_handler",
                                       Code={"ZipFile": buffer.getvalue()}, Publish=True)
                versions.append("1")
            else:
                client.update_function_code(FunctionName=name, ZipFile=buffer.getvalue())
                versions.append(client.publish_version(FunctionName=name)["Version"])
        client.create_alias(FunctionName=name, Name="live", FunctionVersion=versions[-1])
        client.update_alias(FunctionName=name, Name="live", FunctionVersion=versions[0])
        assert client.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == versions[0]
        qualified = deployment.function("-audio-stream-worker").inputs["environment"]["variables"]["TRANSLATION_FUNCTION"]
        function, _, qualifier = qualified.partition(":")
        assert client.get_function(FunctionName=function, Qualifier=qualifier)["Configuration"]["Version"] == versions[0]

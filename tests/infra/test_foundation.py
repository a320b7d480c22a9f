"""Foundation: every stack builds, every function is complete, policies hold, config reaches resources."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from components.config import ConfigError, all_keys
from tests.conftest import CONSTRUCT_PROGRAM
from tests.harness import PROJECT_ROOT, STACKS, run_stack, stack_config
from tests.infra.policy_check import deployment_violations, fake, violations_of

FUNCTION = "aws:lambda/function:Function"
# Names unique only within their parent (a stage within its API), not account-wide.
NAMES_SCOPED_TO_A_PARENT = {"aws:apigatewayv2/stage:Stage", "aws:lambda/alias:Alias"}
# One per account and region by design, owned by one stack (README, 'Account-wide API Gateway logging role').
ACCOUNT_WIDE_NAMES = ("speech-translation-apigw-cloudwatch-",)


def all_runs(deployments, construct_runs):
    return [*deployments.values(), *construct_runs.values()]


def test_every_stack_builds_with_its_own_config(deployments):
    for stack, deployment in deployments.items():
        assert deployment.of_type("aws:sns/topic:Topic"), stack
        assert deployment.outputs["alarm_topic_arn"].endswith(f"{stack}-alarms")


def test_every_stack_file_sets_every_key_the_loader_reads():
    expected = {f"{namespace}:{key}" for namespace, key, _ in all_keys()}
    for stack in STACKS:
        declared = set(yaml.safe_load((PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"])
        assert expected <= declared, f"Pulumi.{stack}.yaml lacks {sorted(expected - declared)}"
        assert declared - expected <= {"aws:region"}, f"Pulumi.{stack}.yaml has unknown keys {sorted(declared - expected - {'aws:region'})}"


def test_stacks_differ_where_the_design_says():
    dev, staging, prod = (stack_config(s) for s in STACKS)
    assert (dev["transcription:minStabilityThreshold"], dev["transcription:maxBufferTimeout"], dev["transcription:maxRatePerSecond"]) == ("1.0", "7.0", "10")
    for other in (staging, prod):
        assert (other["transcription:minStabilityThreshold"], other["transcription:maxBufferTimeout"], other["transcription:maxRatePerSecond"]) == ("1.0", "5.0", "5")


def test_every_function_has_role_log_group_and_alarms(deployments, construct_runs):
    for deployment in all_runs(deployments, construct_runs):
        log_groups = {r.inputs["name"]: r for r in deployment.of_type("aws:cloudwatch/logGroup:LogGroup")}
        roles = {r.outputs["arn"]: r for r in deployment.of_type("aws:iam/role:Role")}
        alarms = deployment.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        functions = deployment.of_type(FUNCTION)
        assert len({f.inputs["role"] for f in functions}) == len(functions), "each function has its own role"
        for function in functions:
            name = function.inputs["name"]
            assert f"/aws/lambda/{name}" in log_groups, name
            assert log_groups[f"/aws/lambda/{name}"].inputs["retentionInDays"] > 0
            role = roles[function.inputs["role"]]
            # A prefix (IAM adds a unique suffix): the same stack name in two regions never collides.
            assert "name" not in role.inputs and name.startswith(role.inputs["namePrefix"][:-1]), name
            assert len(role.inputs["namePrefix"]) <= 38
            watched = {a.inputs.get("metricName") for a in alarms if a.inputs.get("dimensions", {}).get("FunctionName") == name}
            assert {"Errors", "Throttles", "Duration"} <= watched, name
            assert function.inputs["tracingConfig"]["mode"] == "Active"


def test_construct_probe_covers_every_code_bundle(construct_runs):
    from components.shared.artifacts import CODE_BUNDLES
    assert len(construct_runs["dev"].of_type(FUNCTION)) == len(CODE_BUNDLES)


def test_every_alarm_notifies_the_alerting_topic(deployments, construct_runs):
    for deployment in all_runs(deployments, construct_runs):
        topic_arn = f"arn:aws:sns:us-east-1:123456789012:speech-translation-{deployment.stack}-alarms"
        for alarm in deployment.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
            assert alarm.inputs["alarmActions"] == [topic_arn], alarm.name


def test_alarm_topic_denies_publishing_without_tls(deployments):
    policy = json.loads(deployments["prod"].of_type("aws:sns/topicPolicy:TopicPolicy")[0].inputs["policy"])
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny[0]["Action"] == "sns:Publish"


def test_email_subscription_only_when_configured(deployments, tuned):
    assert not deployments["dev"].of_type("aws:sns/topicSubscription:TopicSubscription")
    [subscription] = tuned.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs["endpoint"] == "oncall@example.com"


def test_physical_names_carry_the_stack_and_never_collide(deployments, construct_runs):
    names_by_stack = {}
    for stack, deployment in {**{f"main-{k}": v for k, v in deployments.items()},
                              **{f"probe-{k}": v for k, v in construct_runs.items()}}.items():
        names = [(r.type, r.physical_name) for r in deployment.resources
                 if r.physical_name and r.type not in NAMES_SCOPED_TO_A_PARENT
                 and not r.physical_name.startswith(ACCOUNT_WIDE_NAMES)]
        for _, name in names:
            assert re.search(rf"(^|[-/]){deployment.stack}($|[-/.])", name), f"{name} lacks the stack name"
        assert len(names) == len(set(names)), f"two resources of one type share a name in {stack}"
        names_by_stack[stack] = {name for _, name in names}
    for kind in ("main", "probe"):
        for a in STACKS:
            for b in STACKS:
                if a < b:
                    assert not names_by_stack[f"{kind}-{a}"] & names_by_stack[f"{kind}-{b}"]


def test_every_policy_passes_on_every_stack(deployments, construct_runs):
    for deployment in all_runs(deployments, construct_runs):
        assert deployment_violations(deployment) == [], deployment.stack


def test_config_set_changes_the_deployed_resource(deployments, tuned):
    """`pulumi config set observability:logRetentionDays 14` reaches every log group, and so on."""
    before, after = deployments["staging"], tuned
    assert {g.inputs["retentionInDays"] for g in before.of_type("aws:cloudwatch/logGroup:LogGroup")} == {30}
    assert {g.inputs["retentionInDays"] for g in after.of_type("aws:cloudwatch/logGroup:LogGroup")} == {14}
    errors = [a for a in after.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if a.inputs.get("metricName") == "Errors"]
    assert errors and {a.inputs["threshold"] for a in errors} == {7}


@pytest.mark.parametrize("key, value, expected", [
    ("transcription:minStabilityThreshold", "1.5", "'transcription:minStabilityThreshold' must be a number between 0 and 1, got '1.5'"),
    ("session:maxListeners", "lots", "'session:maxListeners' must be an integer between 1 and 5000, got 'lots'"),
    ("observability:logRetentionDays", "10", "'observability:logRetentionDays' must be an integer, one of 1, 3, 5"),
    ("transcription:stabilityLevel", "max", "'transcription:stabilityLevel' must be a string, one of low, medium, high"),
    ("session:allowAnonymousListeners", "yes", "'session:allowAnonymousListeners' must be a boolean"),
    ("session:warningMinutes", "95", "'session:refreshMinutes' < 'session:warningMinutes' < 120"),
    ("transcription:pauseThreshold", "", "'transcription:pauseThreshold' is required"),
    ("transcription:phraseMinWords", "7", "'transcription:phraseMinWords' must not exceed 'transcription:phraseMaxWords'"),
    # EventBridge runs schedules at most once a minute: a sub-minute status push cannot be configured.
    ("session:statusIntervalMinutes", "0.5", "'session:statusIntervalMinutes' must be an integer between 1 and 60, got '0.5'"),
])
def test_bad_config_fails_preview_naming_the_key_and_range(built_artifacts, key, value, expected):
    with pytest.raises(ConfigError) as raised:
        run_stack("dev", {key: value})
    assert expected in str(raised.value)


def test_reserved_environment_variable_is_refused_before_deploy(built_artifacts):
    """The first staging deploy of the CDK design failed on AWS_REGION; here preview fails."""
    with pytest.raises(Exception, match=r"\['AWS_REGION'\] are reserved by Lambda"):
        run_stack("dev", {"construct-test:environment": {"AWS_REGION": "us-east-1"}}, main=CONSTRUCT_PROGRAM)


def test_websocket_handler_timeout_over_29_s_is_refused(built_artifacts):
    with pytest.raises(Exception, match="over API Gateway's 29 s integration limit"):
        run_stack("dev", {"construct-test:timeout": 60}, main=CONSTRUCT_PROGRAM)


def test_missing_build_output_fails_with_the_build_command(built_artifacts, tmp_path, monkeypatch):
    from components.shared import artifacts
    monkeypatch.setattr(artifacts, "BUILD_DIR", tmp_path / "nothing-built")
    with pytest.raises(Exception, match=r"is missing; run `python scripts/build_artifacts.py` before `pulumi up`"):
        run_stack("dev")


# Each rule of the policy pack fails on a resource that breaks it.
BROKEN = {
    "lambda-no-reserved-environment": fake(FUNCTION, environment={"variables": {"AWS_REGION": "us-east-1"}}),
    "eventbridge-schedule-min-one-minute": fake("aws:cloudwatch/eventRule:EventRule", scheduleExpression="rate(30 seconds)"),
    "apigw-stage-throttling-complete": fake("aws:apigatewayv2/stage:Stage", defaultRouteSettings={"throttlingBurstLimit": 100}),
    "iam-no-wildcard-actions": fake("aws:iam/rolePolicy:RolePolicy", policy=json.dumps(
        {"Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]})),
    "iam-no-managed-policies": fake("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                                    policyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
    "alarm-has-action": fake("aws:cloudwatch/metricAlarm:MetricAlarm", alarmActions=[]),
    "websocket-handler-timeout": fake(FUNCTION, timeout=60, tags={"websocket-route": "true"}),
    "code-assets-exist": fake(FUNCTION, code={"path": "build/functions/never-built.zip"}),
    "lambda-log-group-retention": fake(FUNCTION, name="speech-translation-dev-orphan"),
    "alarm-topic-has-subscriber": fake("aws:sns/topic:Topic", name="speech-translation-prod-alarms",
                                       tags={"require-subscriber": "true"}),
}


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_each_policy_fails_on_a_resource_that_breaks_it(rule):
    assert violations_of([BROKEN[rule]], only=rule), rule


@pytest.mark.parametrize("expression, ok", [
    ("rate(1 minute)", True), ("rate(5 minutes)", True), ("cron(0/1 * * * ? *)", True),
    ("rate(30 seconds)", False), ("rate(1 second)", False), ("rate(0 minutes)", False), ("every minute", False),
])
def test_schedule_rule(expression, ok):
    rule = fake("aws:cloudwatch/eventRule:EventRule", scheduleExpression=expression)
    assert (violations_of([rule], only="eventbridge-schedule-min-one-minute") == []) is ok


def test_stage_with_both_limits_and_log_group_with_retention_pass():
    stage = fake("aws:apigatewayv2/stage:Stage", defaultRouteSettings={"throttlingBurstLimit": 100, "throttlingRateLimit": 50})
    function = fake(FUNCTION, name="f-dev")
    group = fake("aws:cloudwatch/logGroup:LogGroup", "g", name="/aws/lambda/f-dev", retentionInDays=7)
    assert violations_of([stage], only="apigw-stage-throttling-complete") == []
    assert violations_of([function, group], only="lambda-log-group-retention") == []
    assert violations_of([function, fake("aws:cloudwatch/logGroup:LogGroup", "g", name="/aws/lambda/f-dev")],
                         only="lambda-log-group-retention")


def test_every_handler_exists_in_its_code_zip(deployments):
    """The asset path and handler of every function resolve to real code (the CDK design's first failure)."""
    import ast
    import zipfile

    for deployment in deployments.values():
        for function in deployment.of_type(FUNCTION):
            module, _, attribute = function.inputs["handler"].rpartition(".")
            with zipfile.ZipFile(function.inputs["code"].path) as archive:
                names = set(archive.namelist())
                path = module.replace(".", "/") + ".py"
                assert path in names, f"{function.inputs['name']}: {path} is not in {function.inputs['code'].path}"
                tree = ast.parse(archive.read(path))
            defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
            defined |= {target.id for node in tree.body if isinstance(node, ast.Assign) for target in node.targets
                        if isinstance(target, ast.Name)}
            assert attribute in defined, f"{function.inputs['name']}: {module} defines no {attribute}"


def test_readme_config_reference_is_current():
    """Every key, with each stack's value, as `python scripts/config_reference.py` writes it."""
    from scripts.config_reference import BEGIN, END, reference

    readme = (PROJECT_ROOT / "README.md").read_text()
    assert readme.split(BEGIN)[1].split(END)[0].strip() == reference().strip(), \
        "README config reference is stale: run python scripts/config_reference.py"

"""What the stacks need from the account: Lambda concurrency, API Gateway's account-wide logging role,
and an alarm subscriber where alarms must reach a person."""

from __future__ import annotations

import pytest
import yaml

from components.config import ConfigError
from tests.harness import PROJECT_ROOT, STACKS, RecordingMocks, run_stack, stack_config
from tests.infra.policy_check import violations_of

FUNCTION = "aws:lambda/function:Function"
ACCOUNT = "aws:apigateway/account:Account"
GET_ROLES = "aws:iam/getRoles:getRoles"
LOGGING_ROLE = "speech-translation-apigw-cloudwatch-us-east-1"


# -- Lambda concurrency ----------------------------------------------------------------------

def test_dev_reserves_no_concurrency(deployments):
    assert all(f.inputs.get("reservedConcurrentExecutions") is None for f in deployments["dev"].of_type(FUNCTION))


@pytest.mark.parametrize("stack", STACKS)
def test_every_reservation_leaves_100_unreserved_of_the_stated_quota(deployments, stack):
    config = stack_config(stack)
    reserved = sum(f.inputs.get("reservedConcurrentExecutions") or 0 for f in deployments[stack].of_type(FUNCTION))
    assert reserved == 0 or reserved <= int(config["account:lambdaConcurrencyQuota"]) - 100


def test_a_reservation_the_account_cannot_hold_fails_preview(built_artifacts):
    with pytest.raises(ConfigError, match=r"'translation:reservedConcurrency' 10 needs an account Lambda concurrency quota of "
                                          r"at least 110 \('account:lambdaConcurrencyQuota' is 10\)"):
        run_stack("dev", {"translation:reservedConcurrency": 10})


# -- API Gateway's account-wide CloudWatch role ------------------------------------------------

def test_exactly_one_stack_file_owns_the_logging_role_per_region():
    owners: dict[str, list[str]] = {}
    for stack in STACKS:
        config = stack_config(stack)
        if config["api:manageAccountLoggingRole"] == "true":
            owners.setdefault(config["aws:region"], []).append(stack)
    assert owners == {"us-east-1": ["prod"]}
    project = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())
    assert project["config"]["api:manageAccountLoggingRole"]["value"] == "false", "a new stack never takes the role over"


def test_only_the_owner_deploys_the_role_named_for_account_and_region(deployments):
    for stack, deployment in deployments.items():
        accounts = deployment.of_type(ACCOUNT)
        roles = [r for r in deployment.of_type("aws:iam/role:Role") if r.inputs.get("name") == LOGGING_ROLE]
        if stack == "prod":
            assert len(accounts) == 1 and len(roles) == 1
            assert roles[0].inputs["path"] == "/speech-translation/prod/"
        else:
            assert not accounts and not roles, stack


@pytest.fixture
def account_roles(monkeypatch):
    """The account's roles (name -> IAM path) as IAM ListRoles would answer the program's lookup."""
    roles: dict[str, str] = {}

    def get_roles(args):
        name = args["nameRegex"].strip("^$")
        found = [f"arn:aws:iam::123456789012:role{roles[name]}{name}"] \
            if name in roles and roles[name].startswith(args["pathPrefix"]) else []
        return {"arns": found, "names": [name] if found else [], "id": "roles"}

    monkeypatch.setattr(RecordingMocks, "call_answers", {GET_ROLES: get_roles})
    return roles


def test_access_logs_without_an_owner_fail_preview(built_artifacts, account_roles):
    with pytest.raises(ConfigError, match=rf"role '{LOGGING_ROLE}' does not exist in this account and region.*"
                                          r"set config key 'api:manageAccountLoggingRole' to true in exactly one stack"):
        run_stack("dev")


def test_a_second_owner_fails_preview(built_artifacts, account_roles):
    account_roles[LOGGING_ROLE] = "/speech-translation/prod/"
    with pytest.raises(ConfigError, match=r"'api:manageAccountLoggingRole' is true, but .* belongs to stack 'prod'"):
        run_stack("staging", {"api:manageAccountLoggingRole": True})


def test_the_owner_deploys_into_a_new_account_and_non_owners_follow(built_artifacts, account_roles):
    first = run_stack("prod")
    assert first.of_type(ACCOUNT)
    account_roles[LOGGING_ROLE] = "/speech-translation/prod/"
    assert run_stack("prod").of_type(ACCOUNT), "the owner's next deploy keeps its role"
    assert not run_stack("dev").of_type(ACCOUNT)


# -- alarms reach a person -----------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_staging_and_prod_preview_fails_without_a_subscriber(built_artifacts, stack):
    with pytest.raises(ConfigError, match=r"config key 'alerting:email' is required when 'alerting:requireSubscriber' is true"):
        run_stack(stack, {"alerting:email": ""})


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_staging_and_prod_subscribe_the_team_address(deployments, stack):
    [subscription] = deployments[stack].of_type("aws:sns/topicSubscription:TopicSubscription")
    assert (subscription.inputs["protocol"], subscription.inputs["endpoint"]) == ("email", "ops-alerts@example.com")
    assert stack_config(stack)["alerting:requireSubscriber"] == "true"


def test_dev_may_run_without_a_subscriber(deployments):
    assert stack_config("dev")["alerting:requireSubscriber"] == "false"
    assert not deployments["dev"].of_type("aws:sns/topicSubscription:TopicSubscription")


def test_a_malformed_address_fails_preview(built_artifacts):
    with pytest.raises(ConfigError, match=r"'alerting:email' must be an email address, got 'ops-alerts'"):
        run_stack("dev", {"alerting:email": "ops-alerts"})


def test_policy_pack_checks_the_subscriber(deployments):
    """The policy passes on staging as deployed and fails once its subscription is taken away."""
    resources = deployments["staging"].resources
    assert violations_of(resources, only="alarm-topic-has-subscriber") == []
    without = [r for r in resources if r.type != "aws:sns/topicSubscription:TopicSubscription"]
    assert violations_of(without, only="alarm-topic-has-subscriber")
    dev_without = [r for r in deployments["dev"].resources]
    assert violations_of(dev_without, only="alarm-topic-has-subscriber") == []

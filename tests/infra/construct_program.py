"""A small Pulumi program that uses the shared construct on its own, for the foundation tests.

It builds what `__main__.py` builds for every component (alerting, layers, platform) and one
LambdaFunction per code bundle, so the construct is checked before any component uses it.
"""

import pulumi
import pulumi_aws as aws

from components.alerting import Alerting, AlertingArgs
from components.config import load_stack_config
from components.layers import LambdaLayers, LambdaLayersArgs
from components.shared import artifacts
from components.shared.lambda_function import LambdaFunction, LambdaFunctionArgs
from components.shared.platform import Platform

config = load_stack_config()
account_id = aws.get_caller_identity_output().account_id
alerting = Alerting("alerting", AlertingArgs(config=config, account_id=account_id, region=aws.config.region))
layers = LambdaLayers("layers", LambdaLayersArgs(config=config))
partition = aws.get_partition()
platform = Platform(config=config, region=aws.config.region, account_id=account_id, alarm_topic_arn=alerting.topic_arn,
                    layer_arns=layers.arns, partition=partition.partition, dns_suffix=partition.dns_suffix)
extra_environment = pulumi.Config("construct-test").get_object("environment") or {}
for bundle in artifacts.CODE_BUNDLES:
    LambdaFunction(f"probe-{bundle.replace('_', '-')}", LambdaFunctionArgs(
        platform=platform, service="probe", description="construct probe", code_bundle=bundle,
        handler=f"{bundle}.handler.lambda_handler",
        policy_statements=[{"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "arn:aws:sqs:us-east-1:1:q"}],
        environment={"EXAMPLE": "1", **extra_environment},
        websocket_route=bundle == "session_management",
        timeout_seconds=pulumi.Config("construct-test").get_int("timeout") or 20,
    ))

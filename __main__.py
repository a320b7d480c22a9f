"""The speech translation backend: reads the stack config, builds the components, exports outputs."""

import pulumi
import pulumi_aws as aws

from components.alerting import Alerting, AlertingArgs
from components.config import load_stack_config
from components.layers import LambdaLayers, LambdaLayersArgs
from components.shared.platform import Platform

config = load_stack_config()
region = aws.config.region
if not region:
    raise pulumi.RunError("config key 'aws:region' is required; set it with `pulumi config set aws:region <region>`")
account_id = aws.get_caller_identity_output().account_id

alerting = Alerting("alerting", AlertingArgs(config=config, account_id=account_id))
layers = LambdaLayers("layers", LambdaLayersArgs(config=config))
platform = Platform(config=config, region=region, alarm_topic_arn=alerting.topic_arn, layer_arns=layers.arns)

pulumi.export("alarm_topic_arn", alerting.topic_arn)

"""Alerting component: one SNS topic for every alarm, TLS-only, the email subscription config names.

`alerting:requireSubscriber` (true in staging and prod) makes `alerting:email` required, so those
stacks' alarms always reach a person; the topic carries the requirement as a tag for the policy pack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.config import StackConfig
from components.shared.platform import service_principal

# Topic tag the policy pack reads: "true" means the stack must subscribe someone to it.
REQUIRE_SUBSCRIBER_TAG = "require-subscriber"


@dataclass
class AlertingArgs:
    """Stack config (name prefix, email), the account (topic policy) and region (service principal)."""

    config: StackConfig
    account_id: pulumi.Input[str]
    region: str


class Alerting(pulumi.ComponentResource):
    """The alarm topic; `topic_arn` is what every alarm notifies."""

    def __init__(self, name: str, args: AlertingArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("speech-translation:alerting:Alerting", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            f"{name}-topic", name=f"{args.config.name_prefix}-alarms",
            tags={REQUIRE_SUBSCRIBER_TAG: str(args.config.alerting.requireSubscriber).lower()}, opts=child)
        self.topic_policy = aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.json_dumps({
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AllowCloudWatchAlarms",
                        "Effect": "Allow",
                        "Principal": {"Service": service_principal("cloudwatch", args.region)},
                        "Action": "sns:Publish",
                        "Resource": self.topic.arn,
                        "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}},
                    },
                    {
                        # Nothing may publish over plain HTTP, whoever it is.
                        "Sid": "DenyPublishWithoutTls",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "sns:Publish",
                        "Resource": self.topic.arn,
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            }),
            opts=child,
        )
        self.subscription = None
        if args.config.alerting.email:
            self.subscription = aws.sns.TopicSubscription(
                f"{name}-email", topic=self.topic.arn, protocol="email",
                endpoint=args.config.alerting.email, opts=child)
        self.topic_arn = self.topic.arn
        self.register_outputs({"topic_arn": self.topic.arn})

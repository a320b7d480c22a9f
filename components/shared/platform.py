"""What the program hands every component: validated config, the alarm topic and the layers."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import StackConfig


@dataclass(frozen=True)
class Platform:
    """Shared inputs of every component of one stack."""

    config: StackConfig
    region: str
    account_id: pulumi.Input[str]
    alarm_topic_arn: pulumi.Input[str]
    layer_arns: Mapping[str, pulumi.Input[str]]
    # From aws.get_partition(): "aws", "aws-cn", "aws-us-gov"; never written into the program.
    partition: str
    # The partition's DNS suffix (from the same call), for service URLs such as Cognito's issuer.
    dns_suffix: str

    @property
    def metrics_namespace(self) -> str:
        """CloudWatch namespace of the custom (EMF) metrics; per stack so dev never pollutes prod."""
        return f"SpeechTranslation/{self.config.stack}"

    def function_arn(self, name: str, qualifier: str | None = None) -> pulumi.Output[str]:
        """ARN of a function of this stack from its short name (with `:qualifier` for an alias), for policies
        that must not depend on the function."""
        arn = pulumi.Output.concat("arn:", self.partition, ":lambda:", self.region, ":", self.account_id,
                                   ":function:", self.physical_name(name))
        return pulumi.Output.concat(arn, ":", qualifier) if qualifier else arn

    def physical_name(self, name: str, max_length: int = 64) -> str:
        """A physical resource name that carries project and stack, checked against AWS's length limit."""
        full = f"{self.config.name_prefix}-{name}"
        if len(full) > max_length:
            raise pulumi.RunError(f"resource name '{full}' is longer than {max_length} characters; shorten the stack name")
        return full

    def global_name(self, name: str, max_length: int = 255) -> str:
        """A physical name for an account-wide (not regional) resource, such as a CloudWatch dashboard or an
        IAM role: it carries the region too, so the same stack name in two regions never collides."""
        return self.physical_name(f"{name}-{self.region}", max_length)

    def service_principal(self, service: str) -> str:
        """The IAM principal of an AWS service (`lambda`, `apigateway` ...) in this partition and region."""
        return service_principal(service, self.region)


@functools.cache
def service_principal(service: str, region: str) -> str:
    """The provider's principal for `service` in `region`, right in every partition (China included)."""
    return aws.get_service_principal(service_name=service, region=region).name

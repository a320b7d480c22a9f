"""What the program hands every component: validated config, the alarm topic and the layers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from components.config import StackConfig


@dataclass(frozen=True)
class Platform:
    """Shared inputs of every component of one stack."""

    config: StackConfig
    region: str
    account_id: pulumi.Input[str]
    alarm_topic_arn: pulumi.Input[str]
    layer_arns: Mapping[str, pulumi.Input[str]]

    @property
    def metrics_namespace(self) -> str:
        """CloudWatch namespace of the custom (EMF) metrics; per stack so dev never pollutes prod."""
        return f"SpeechTranslation/{self.config.stack}"

    def function_arn(self, name: str) -> pulumi.Output[str]:
        """ARN of a function of this stack from its short name, for policies that must not depend on the function."""
        return pulumi.Output.concat("arn:aws:lambda:", self.region, ":", self.account_id, ":function:", self.physical_name(name))

    def physical_name(self, name: str, max_length: int = 64) -> str:
        """A physical resource name that carries project and stack, checked against AWS's length limit."""
        full = f"{self.config.name_prefix}-{name}"
        if len(full) > max_length:
            raise pulumi.RunError(f"resource name '{full}' is longer than {max_length} characters; shorten the stack name")
        return full

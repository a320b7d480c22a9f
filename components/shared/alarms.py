"""CloudWatch alarms that always notify the alerting topic."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm on one metric; `statistic` or `extended_statistic` (e.g. "p95")."""

    name: str
    description: str
    namespace: str
    metric_name: str
    threshold: pulumi.Input[float]
    dimensions: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    comparison: str = "GreaterThanThreshold"
    statistic: Optional[str] = "Sum"
    extended_statistic: Optional[str] = None
    period_seconds: int = 300
    evaluation_periods: int = 1


def create_alarm(spec: AlarmSpec, alarm_name: str, topic_arn: pulumi.Input[str],
                 parent: pulumi.Resource) -> aws.cloudwatch.MetricAlarm:
    """Create the alarm as a child of `parent`; it notifies `topic_arn` on alarm and on recovery."""
    return aws.cloudwatch.MetricAlarm(
        spec.name,
        name=alarm_name,
        alarm_description=spec.description,
        namespace=spec.namespace,
        metric_name=spec.metric_name,
        dimensions=dict(spec.dimensions),
        statistic=None if spec.extended_statistic else spec.statistic,
        extended_statistic=spec.extended_statistic,
        comparison_operator=spec.comparison,
        threshold=spec.threshold,
        period=spec.period_seconds,
        evaluation_periods=spec.evaluation_periods,
        # No data means no traffic, not a failure.
        treat_missing_data="notBreaching",
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        opts=pulumi.ResourceOptions(parent=parent),
    )

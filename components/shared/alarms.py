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


def create_ratio_alarm(name: str, alarm_name: str, description: str, namespace: str,
                       numerator: str, denominator_extra: str, dimensions: Mapping[str, pulumi.Input[str]],
                       minimum: pulumi.Input[float], topic_arn: pulumi.Input[str], parent: pulumi.Resource,
                       period_seconds: int = 3600) -> aws.cloudwatch.MetricAlarm:
    """Alarm when numerator / (numerator + denominator_extra) falls below `minimum` (e.g. a cache hit rate).

    With no traffic the ratio has no data points, which is not an alarm.
    """
    def query(query_id: str, metric_name: str) -> dict:
        return {"id": query_id, "return_data": False, "metric": {
            "namespace": namespace, "metric_name": metric_name, "dimensions": dict(dimensions),
            "period": period_seconds, "stat": "Sum"}}

    return aws.cloudwatch.MetricAlarm(
        name,
        name=alarm_name,
        alarm_description=description,
        comparison_operator="LessThanThreshold",
        threshold=minimum,
        evaluation_periods=1,
        metric_queries=[query("hits", numerator), query("misses", denominator_extra),
                        {"id": "ratio", "expression": "hits / (hits + misses)", "label": "ratio", "return_data": True}],
        treat_missing_data="notBreaching",
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        opts=pulumi.ResourceOptions(parent=parent),
    )


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

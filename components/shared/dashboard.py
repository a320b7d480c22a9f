"""CloudWatch dashboards built from the widgets each function and component contributes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

Widget = Mapping[str, Any]

WIDGET_WIDTH = 12
WIDGET_HEIGHT = 6


def metric_widget(title: str, metrics: Sequence[Sequence[Any]], region: str, stat: str = "Sum",
                  period: int = 60) -> dict[str, Any]:
    """A time-series widget; `metrics` rows use CloudWatch's `[namespace, name, dim, value, ...]` form."""
    return {
        "type": "metric",
        "properties": {"title": title, "metrics": [list(m) for m in metrics], "region": region,
                       "stat": stat, "period": period, "view": "timeSeries"},
    }


def service_metrics(namespace: str, service: str, *names: str) -> list[list[str]]:
    """Widget metric rows of a component's EMF metrics (dimension `service`, as Powertools publishes them)."""
    return [[namespace, name, "service", service] for name in names]


def create_dashboard(resource_name: str, dashboard_name: str, widgets: Sequence[pulumi.Input[Widget]],
                     parent: pulumi.Resource) -> aws.cloudwatch.Dashboard:
    """Lay the widgets out two per row and create the dashboard as a child of `parent`."""
    def layout(resolved: list[Widget]) -> str:
        placed = []
        for index, widget in enumerate(resolved):
            placed.append({**widget, "x": (index % 2) * WIDGET_WIDTH, "y": (index // 2) * WIDGET_HEIGHT,
                           "width": WIDGET_WIDTH, "height": WIDGET_HEIGHT})
        return json.dumps({"widgets": placed})

    body = pulumi.Output.all(*widgets).apply(lambda resolved: layout(list(resolved)))
    return aws.cloudwatch.Dashboard(
        resource_name,
        dashboard_name=dashboard_name,
        dashboard_body=body,
        opts=pulumi.ResourceOptions(parent=parent),
    )

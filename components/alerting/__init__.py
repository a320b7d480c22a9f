"""Alerting: the SNS topic every alarm notifies."""

from components.alerting.alerting import Alerting, AlertingArgs

__all__ = ["Alerting", "AlertingArgs"]

"""Building blocks every component uses: the Lambda construct, alarms, dashboards, artifacts."""

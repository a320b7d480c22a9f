"""What the Pulumi program deploys, read from a mocked run (moved to ``local.stack``, which the local run shares)."""

from local.stack import FunctionSpec, StackView, create_parameters, create_table_request, create_tables

__all__ = ["FunctionSpec", "StackView", "create_parameters", "create_table_request", "create_tables"]

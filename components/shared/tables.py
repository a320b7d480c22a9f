"""On-demand DynamoDB tables with TTL and encryption, the one way every component creates a table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

TTL_ATTRIBUTE = "expiresAt"


def create_table(resource_name: str, physical_name: str, hash_key: str, parent: pulumi.Resource,
                 extra_attributes: Sequence[str] = (), indexes: Sequence[dict[str, Any]] = (),
                 point_in_time_recovery: bool = False) -> aws.dynamodb.Table:
    """A PAY_PER_REQUEST table keyed by a string `hash_key`, TTL on `expiresAt` (reads must still filter it)."""
    return aws.dynamodb.Table(
        resource_name,
        name=physical_name,
        billing_mode="PAY_PER_REQUEST",
        hash_key=hash_key,
        attributes=[{"name": attribute, "type": "S"} for attribute in (hash_key, *extra_attributes)],
        global_secondary_indexes=list(indexes) or None,
        ttl={"attribute_name": TTL_ATTRIBUTE, "enabled": True},
        point_in_time_recovery={"enabled": point_in_time_recovery},
        server_side_encryption={"enabled": True},
        opts=pulumi.ResourceOptions(parent=parent),
    )

"""On-demand DynamoDB tables with TTL and encryption, the one way every component creates a table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

TTL_ATTRIBUTE = "expiresAt"


def create_table(resource_name: str, physical_name: str, hash_key: str, parent: pulumi.Resource,
                 extra_attributes: Sequence[str] = (), indexes: Sequence[dict[str, Any]] = (),
                 point_in_time_recovery: bool = False, range_key: str | None = None,
                 numeric_attributes: Sequence[str] = ()) -> aws.dynamodb.Table:
    """A PAY_PER_REQUEST table keyed by `hash_key` (and `range_key`), TTL on `expiresAt` (reads must still filter it).

    Key and index attributes are strings unless named in `numeric_attributes`.
    """
    keys = [hash_key, *([range_key] if range_key else []), *extra_attributes]
    return aws.dynamodb.Table(
        resource_name,
        name=physical_name,
        billing_mode="PAY_PER_REQUEST",
        hash_key=hash_key,
        range_key=range_key,
        attributes=[{"name": key, "type": "N" if key in numeric_attributes else "S"} for key in keys],
        global_secondary_indexes=list(indexes) or None,
        ttl={"attribute_name": TTL_ATTRIBUTE, "enabled": True},
        point_in_time_recovery={"enabled": point_in_time_recovery},
        server_side_encryption={"enabled": True},
        opts=pulumi.ResourceOptions(parent=parent),
    )

"""Fault injection for the session handlers: a DynamoDB resource whose tables raise on chosen calls.

``FaultyDynamoDB(real).fail(table, method, when=..., times=n)`` makes the next ``n`` matching calls
raise a botocore ``ClientError`` (as a timed-out or throttled call surfaces after the SDK's
retries); every other call reaches the real (moto) table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError as AwsClientError


def outage(operation: str) -> AwsClientError:
    """What a DynamoDB call that exhausted its retries raises."""
    return AwsClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"},
                           "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)


@dataclass
class Fault:
    table: str
    method: str
    when: Callable[[dict[str, Any]], bool]
    times: int
    fired: int = 0


class FaultyTable:
    """Proxies a boto3 Table, raising for matching calls."""

    def __init__(self, table: Any, name: str, faults: list[Fault]) -> None:
        self._table, self._name, self._faults = table, name, faults

    def __getattr__(self, method: str) -> Any:
        real = getattr(self._table, method)
        if not callable(real):
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            for fault in self._faults:
                if fault.table == self._name and fault.method == method and fault.fired < fault.times and fault.when(kwargs):
                    fault.fired += 1
                    raise outage(method)
            return real(*args, **kwargs)
        return call


class FaultyDynamoDB:
    """A DynamoDB service resource whose tables can be made to fail."""

    def __init__(self, resource: Any) -> None:
        self._resource = resource
        self.faults: list[Fault] = []

    def Table(self, name: str) -> FaultyTable:  # noqa: N802 - boto3's name
        return FaultyTable(self._resource.Table(name), name, self.faults)

    def fail(self, table: str, method: str, when: Callable[[dict[str, Any]], bool] = lambda kw: True,
             times: int = 1) -> Fault:
        fault = Fault(table, method, when, times)
        self.faults.append(fault)
        return fault


def decrements(kwargs: dict[str, Any]) -> bool:
    """An UpdateItem that takes one listener off a session's count."""
    return ":minusOne" in kwargs.get("ExpressionAttributeValues", {})


def joins_row(kwargs: dict[str, Any]) -> bool:
    """An UpdateItem that puts a connection row into a session."""
    return str(kwargs.get("UpdateExpression", "")).startswith("SET sessionId = :session")

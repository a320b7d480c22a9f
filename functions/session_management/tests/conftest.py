"""Fixtures of the session-management tests (helpers live in support.py)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from common.observability import metrics
from moto import mock_aws

from session_management import clients
from session_management.settings import get_settings
from session_management.tests.support import BASE_ENV, REGION, FakeManagementApi, World, create_tables


@pytest.fixture(scope="module")
def aws_backend() -> Any:
    """One moto backend with the three tables per test module (creating tables costs ~1 s);
    each test starts from empty tables (``world``). Module scope: nothing leaks into other packages' tests."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in BASE_ENV.items():
            patch.setenv(name, value)
        with mock_aws():
            dynamodb = boto3.resource("dynamodb", region_name=REGION)
            create_tables(dynamodb)
            yield dynamodb


@pytest.fixture(autouse=True)
def observability(monkeypatch: pytest.MonkeyPatch) -> None:
    """Powertools reads namespace and service when common.observability is first imported,
    which may happen before any fixture runs: set them on the shared Metrics object."""
    monkeypatch.setattr(metrics, "namespace", BASE_ENV["POWERTOOLS_METRICS_NAMESPACE"])
    monkeypatch.setattr(metrics, "service", BASE_ENV["POWERTOOLS_SERVICE_NAME"])


@pytest.fixture
def env(aws_backend: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment the component sets, with test table names and MAX_LISTENERS=5."""
    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield BASE_ENV
    get_settings.cache_clear()


def _empty(table: Any, key: str) -> None:
    scan: dict[str, Any] = {"ProjectionExpression": "#k", "ExpressionAttributeNames": {"#k": key}}
    with table.batch_writer() as batch:
        while True:
            page = table.scan(**scan)
            for item in page["Items"]:
                batch.delete_item(Key={key: item[key]})
            if "LastEvaluatedKey" not in page:
                break
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def world(env: dict[str, str], aws_backend: Any, monkeypatch: pytest.MonkeyPatch) -> World:
    """Empty moto tables and a fake @connections client, wired into the handlers, at time START."""
    dynamodb = aws_backend
    state = World(dynamodb, FakeManagementApi())
    for table, key in ((state.sessions, "sessionId"), (state.connections, "connectionId"), (state.rate_limits, "limitKey")):
        _empty(table, key)

    def factory(endpoint: str) -> FakeManagementApi:
        state.api.endpoints.append(endpoint)
        return state.api

    clients.reset()
    clients.override(dynamodb_resource=dynamodb, management_factory=factory)
    monkeypatch.setattr("session_management.deps.now_epoch", lambda: state.now)
    yield state
    clients.reset()

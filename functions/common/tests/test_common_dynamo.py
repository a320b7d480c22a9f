"""common.dynamo: a failed ConditionExpression is None, success is the response, other errors raise (moto)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError as AwsClientError
from moto import mock_aws

from common.dynamo import conditional, is_condition_failure

REGION = "us-east-1"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Any:
    """An empty moto table keyed by ``pk``."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        yield dynamodb.create_table(
            TableName="Items",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )


def test_condition_failure_returns_none(table: Any) -> None:
    table.put_item(Item={"pk": "a", "n": 1})

    assert conditional(table.put_item, Item={"pk": "a", "n": 2}, ConditionExpression="attribute_not_exists(pk)") is None
    assert conditional(table.update_item, Key={"pk": "a"}, UpdateExpression="SET n = :n", ConditionExpression="n > :n",
                       ExpressionAttributeValues={":n": 5}) is None
    assert conditional(table.delete_item, Key={"pk": "missing"}, ConditionExpression="attribute_exists(pk)") is None
    assert table.get_item(Key={"pk": "a"})["Item"]["n"] == 1


def test_success_returns_the_response(table: Any) -> None:
    response = conditional(table.update_item, Key={"pk": "a"}, UpdateExpression="SET n = :n",
                           ConditionExpression="attribute_not_exists(pk)", ExpressionAttributeValues={":n": 7},
                           ReturnValues="ALL_NEW")

    assert response is not None
    assert response["Attributes"] == {"pk": "a", "n": 7}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    deleted = conditional(table.delete_item, Key={"pk": "a"}, ConditionExpression="attribute_exists(pk)", ReturnValues="ALL_OLD")
    assert deleted is not None and deleted["Attributes"]["n"] == 7


def test_other_errors_raise(table: Any) -> None:
    with pytest.raises(AwsClientError) as caught:
        # An invalid expression is a ValidationException, not a refused condition.
        conditional(table.update_item, Key={"pk": "a"}, UpdateExpression="SET n = :missing",
                    ConditionExpression="attribute_not_exists(pk)")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert not is_condition_failure(caught.value)

    def broken(**_: Any) -> dict[str, Any]:
        raise TimeoutError("no answer")

    with pytest.raises(TimeoutError):
        conditional(broken, Key={"pk": "a"})


def test_is_condition_failure() -> None:
    refused = AwsClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "refused"}}, "PutItem")
    throttled = AwsClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, "PutItem")

    assert is_condition_failure(refused)
    assert not is_condition_failure(throttled)
    assert not is_condition_failure(AwsClientError({}, "PutItem"))
    assert not is_condition_failure(ValueError("ConditionalCheckFailedException"))

"""The local Lambda service with real containers (subprocesses): per-function environments, errors,
timeouts, async retries and the on-failure destination, and the Invoke API boto3 calls."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

import pytest

from local.lambda_service import LambdaService
from local.stack import AsyncInvokeConfig, FunctionSpec

HANDLERS = '''
import os, time

SEEN_AT_IMPORT = os.environ["GREETING"]
CALLS = []


def echo(event, context):
    CALLS.append(event)
    return {"greeting": SEEN_AT_IMPORT, "event": event, "calls": len(CALLS),
            "remainingMs": context.get_remaining_time_in_millis(), "name": context.function_name}


def fail(event, context):
    raise ValueError("bad input: " + str(event.get("n")))


def slow(event, context):
    time.sleep(event.get("sleep", 5))
    return "done"
'''


class RecordingDestinations:
    """Collects destination records instead of sending them to moto."""

    def __init__(self) -> None:
        self.records: list[tuple[str, dict[str, Any]]] = []

    async def deliver(self, arn: str, record: dict[str, Any], lambdas: Any) -> None:
        self.records.append((arn, record))


def _service(tmp_path: Path, destinations: RecordingDestinations) -> LambdaService:
    code = tmp_path / "code"
    code.mkdir()
    (code / "sample.py").write_text(textwrap.dedent(HANDLERS))
    specs = {
        "hello-en": FunctionSpec("hello-en", "sample.echo", 5, 128, {"GREETING": "hello"}),
        "hello-es": FunctionSpec("hello-es", "sample.echo", 5, 128, {"GREETING": "hola"}),
        "failing": FunctionSpec("failing", "sample.fail", 5, 128, {"GREETING": "x"}),
        "slow": FunctionSpec("slow", "sample.slow", 1, 128, {"GREETING": "x"}),
    }
    import os

    environments = {name: {"PATH": os.environ["PATH"], **spec.environment} for name, spec in specs.items()}
    return LambdaService(specs, environments, {name: [str(code)] for name in specs}, tmp_path / "logs", "us-east-1",
                         "123456789012", {"failing": AsyncInvokeConfig(2, 3600, "arn:aws:sqs:us-east-1:123456789012:dlq")},
                         destinations, retry_delays=(0.05, 0.05))


def test_each_function_runs_with_its_own_environment_and_keeps_its_container(tmp_path: Path) -> None:
    async def scenario() -> None:
        service = _service(tmp_path, RecordingDestinations())
        try:
            first = await service.invoke("hello-en", {"n": 1})
            second = await service.invoke("hello-en", {"n": 2})
            spanish = await service.invoke("hello-es", {"n": 3})
        finally:
            await service.close()
        assert first.payload["greeting"] == "hello" and spanish.payload["greeting"] == "hola"
        assert second.payload["calls"] == 2, "a warm container is reused between invocations"
        assert spanish.payload["calls"] == 1
        assert 0 < first.payload["remainingMs"] <= 5000 and first.payload["name"] == "hello-en"
    asyncio.run(scenario())


def test_function_error_has_lambdas_shape(tmp_path: Path) -> None:
    async def scenario() -> None:
        service = _service(tmp_path, RecordingDestinations())
        try:
            result = await service.invoke("failing", {"n": 7})
        finally:
            await service.close()
        assert result.error["errorType"] == "ValueError" and result.error["errorMessage"] == "bad input: 7"
        assert result.error["stackTrace"]
    asyncio.run(scenario())


def test_timeout_kills_the_container_and_the_next_invoke_gets_a_fresh_one(tmp_path: Path) -> None:
    async def scenario() -> None:
        service = _service(tmp_path, RecordingDestinations())
        try:
            timed_out = await service.invoke("slow", {"sleep": 5})
            quick = await service.invoke("slow", {"sleep": 0})
        finally:
            await service.close()
        assert timed_out.error["errorType"] == "Sandbox.Timedout"
        assert quick.payload == "done"
    asyncio.run(scenario())


def test_async_invoke_retries_twice_then_sends_the_destination_record(tmp_path: Path) -> None:
    destinations = RecordingDestinations()

    async def scenario() -> None:
        service = _service(tmp_path, destinations)
        try:
            request_id = service.invoke_async(service.resolve("failing:live"), {"n": 9})
            for _ in range(200):
                if destinations.records:
                    break
                await asyncio.sleep(0.05)
        finally:
            await service.close()
        [(arn, record)] = destinations.records
        assert arn.endswith(":dlq")
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 3
        assert record["requestContext"]["requestId"] == request_id
        assert record["requestPayload"] == {"n": 9}
        assert record["responsePayload"]["errorType"] == "ValueError"
    asyncio.run(scenario())


@pytest.mark.parametrize("reference", ["hello-en", "hello-en:live", "arn:aws:lambda:us-east-1:123456789012:function:hello-en",
                                       "arn:aws:lambda:us-east-1:123456789012:function:hello-en:live"])
def test_names_qualified_names_and_arns_resolve(tmp_path: Path, reference: str) -> None:
    service = _service(tmp_path, RecordingDestinations())
    assert service.resolve(reference) == "hello-en"
    assert service.resolve("nope") is None

"""Lambda, locally: one subprocess per execution environment, pools per function, sync and async invokes.

Why subprocesses: a function's configuration is its environment, and the deployed code reads it
once per container (settings objects, boto3 clients, Powertools' service name). Environment
variables are process-global, so two functions cannot share a process without one seeing the
other's values; a process per container gives each function its own environment and its own
module state, exactly as Lambda's execution environments do. A container runs one invocation at
a time; a function scales out to more containers, up to its reserved concurrency (or a local cap).

Asynchronous invokes (``InvocationType=Event``: the stream worker starting itself, segments to
the TranslationProcessor, the schedule) follow Lambda's semantics: 202 at once, the event runs
later, a failed run is retried ``maximumRetryAttempts`` times (default 2) after delays (Lambda's
are about 1 and 2 minutes; configurable here), events older than ``maximumEventAgeInSeconds``
are dropped, and an event that finally fails goes to the on-failure destination (SQS, SNS or
another function) as Lambda's destination record.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import datetime
import itertools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from local.lambda_runtime.wire import HEADER, decode_length, encode
from local.stack import AsyncInvokeConfig, FunctionSpec, function_name_of

log = logging.getLogger("local.lambda")

BOOTSTRAP = Path(__file__).resolve().parent / "lambda_runtime" / "bootstrap.py"
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
INIT_TIMEOUT_SECONDS = 60.0
DEFAULT_RETRY_DELAYS = (60.0, 120.0)
# Scale-out caps: on a small machine more containers of a short function only thrash the CPU (and
# time out), so invocations queue for a free one instead; a function that holds its container for
# minutes (the stream worker: one per live session) gets a larger cap so sessions never wait on each other.
LONG_RUNNING_SECONDS = 300


@dataclass
class InvokeResult:
    """What an invocation returned: a payload, or Lambda's error shape."""

    payload: Any = None
    error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """No function error."""
        return self.error is None


def _die_with_parent() -> None:
    # Containers must not outlive the local run, even if it is killed with SIGKILL.
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Container:
    """One execution environment: a bootstrap subprocess holding the function's imported code."""

    def __init__(self, spec: FunctionSpec, process: subprocess.Popen, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.spec = spec
        self.process = process
        self._reader = reader
        self._writer = writer

    @classmethod
    async def start(cls, spec: FunctionSpec, code_dirs: list[str], env: dict[str, str], log_file: Path,
                    extra_args: list[str]) -> Container:
        """Spawn, import the handler, wait for ready; raises RuntimeError with the init error."""
        parent, child = socket.socketpair()
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(log_file, "ab") as output:
            process = subprocess.Popen(
                [sys.executable, str(BOOTSTRAP), "--fd", str(child.fileno()), "--handler", spec.handler,
                 "--code", os.pathsep.join(code_dirs), *extra_args],
                env=env, pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent)  # noqa: PLW1509 - prctl only
        child.close()
        reader, writer = await asyncio.open_connection(sock=parent)
        container = cls(spec, process, reader, writer)
        try:
            hello = await asyncio.wait_for(container._read(), INIT_TIMEOUT_SECONDS)
        except (TimeoutError, asyncio.IncompleteReadError):
            container.kill()
            raise RuntimeError(f"{spec.name}: the container did not start (see {log_file})") from None
        if "initError" in hello:
            container.kill()
            error = hello["initError"]
            raise RuntimeError(f"{spec.name}: Runtime.ImportModuleError: {error['errorType']}: {error['errorMessage']}")
        return container

    async def _read(self) -> dict[str, Any]:
        length = decode_length(await self._reader.readexactly(HEADER.size))
        return json.loads(await self._reader.readexactly(length))

    @property
    def alive(self) -> bool:
        """The process still runs."""
        return self.process.poll() is None

    async def invoke(self, event: Any, context: dict[str, Any]) -> InvokeResult:
        """Run one invocation; on timeout the container is killed (as Lambda does) and an error returned."""
        self._writer.write(encode({"event": event, "context": context}))
        await self._writer.drain()
        try:
            reply = await asyncio.wait_for(self._read(), self.spec.timeout)
        except TimeoutError:
            self.kill()
            return InvokeResult(error={"errorType": "Sandbox.Timedout",
                                       "errorMessage": f"Task timed out after {self.spec.timeout:.2f} seconds"})
        except (asyncio.IncompleteReadError, ConnectionError):
            self.kill()
            return InvokeResult(error={"errorType": "Runtime.ExitError",
                                       "errorMessage": f"RequestId: {context['requestId']} Error: Runtime exited"})
        if "error" in reply:
            return InvokeResult(error=reply["error"])
        return InvokeResult(payload=reply.get("result"))

    def kill(self) -> None:
        """Stop the process now and reap it."""
        with contextlib.suppress(Exception):
            self._writer.close()
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.wait(timeout=5)


class FunctionPool:
    """A function's containers: reuse an idle one, else start another up to ``max_containers``."""

    def __init__(self, spec: FunctionSpec, code_dirs: list[str], env: dict[str, str], log_file: Path,
                 max_containers: int, extra_args: list[str], arn: str) -> None:
        self.spec = spec
        self.arn = arn
        self._code_dirs = code_dirs
        self._env = env
        self._log_file = log_file
        self._extra_args = extra_args
        self._idle: collections.deque[Container] = collections.deque()
        self._all: set[Container] = set()
        self._slots = asyncio.Semaphore(max_containers)
        self.invocations = 0

    async def warm(self) -> None:
        """Start one container ahead of the first invoke (a cold start paid at startup)."""
        container = await Container.start(self.spec, self._code_dirs, self._env, self._log_file, self._extra_args)
        self._all.add(container)
        self._idle.append(container)

    async def invoke(self, event: Any) -> InvokeResult:
        """One synchronous invocation (waits for a free slot when the function is at its concurrency)."""
        async with self._slots:
            container = None
            while self._idle and container is None:
                candidate = self._idle.pop()
                if candidate.alive:
                    container = candidate
                else:
                    self._all.discard(candidate)
            if container is None:
                try:
                    container = await Container.start(self.spec, self._code_dirs, self._env, self._log_file,
                                                      self._extra_args)
                except RuntimeError as error:
                    return InvokeResult(error={"errorType": "Runtime.ImportModuleError", "errorMessage": str(error)})
                self._all.add(container)
            self.invocations += 1
            timeout_ms = int(self.spec.timeout * 1000)
            context = {"functionName": self.spec.name, "invokedFunctionArn": self.arn, "requestId": str(uuid.uuid4()),
                       "memoryLimitInMB": self.spec.memory, "deadlineMs": int(time.time() * 1000) + timeout_ms}
            result = await container.invoke(event, context)
            if container.alive:
                self._idle.append(container)
            else:
                self._all.discard(container)
            return result

    def close(self) -> None:
        """Kill every container."""
        for container in list(self._all):
            container.kill()
        self._all.clear()
        self._idle.clear()


def extract_zip(zip_path: str, destination: Path) -> str:
    """Unpack a code or layer zip once per run; returns the directory."""
    destination.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(destination)
    return str(destination)


class LambdaService:
    """Every function of the stack, invokable by name, qualified name or ARN."""

    def __init__(self, functions: dict[str, FunctionSpec], environments: dict[str, dict[str, str]],
                 code_dirs: dict[str, list[str]], logs_dir: Path, region: str, account: str,
                 async_configs: dict[str, AsyncInvokeConfig], destinations: Any, max_containers: int = 8,
                 max_long_containers: int = 64,
                 retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
                 extra_args: dict[str, list[str]] | None = None) -> None:
        self.region = region
        self.account = account
        self.async_configs = async_configs
        self.retry_delays = retry_delays
        self._destinations = destinations
        self.pools = {
            name: FunctionPool(spec, code_dirs[name], environments[name], logs_dir / f"{name}.log",
                               spec.reserved_concurrency
                               or (max_long_containers if spec.timeout >= LONG_RUNNING_SECONDS else max_containers),
                               (extra_args or {}).get(name, []), self.arn(name))
            for name, spec in functions.items()}
        self._tasks: set[asyncio.Task] = set()
        self.async_outcomes: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def arn(self, name: str) -> str:
        """The function's unqualified ARN."""
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"

    def resolve(self, reference: str) -> str | None:
        """The function a name, ``name:qualifier`` or ARN refers to (None when the stack has none)."""
        name = function_name_of(reference)
        return name if name in self.pools else None

    async def warm(self) -> None:
        """One warm container per function, started together."""
        await asyncio.gather(*(pool.warm() for pool in self.pools.values()))

    async def invoke(self, name: str, event: Any) -> InvokeResult:
        """A synchronous invocation (``RequestResponse``)."""
        result = await self.pools[name].invoke(event)
        if not result.ok:
            log.warning("%s failed: %s: %s", name, result.error.get("errorType"), result.error.get("errorMessage"))
        return result

    def invoke_async(self, name: str, event: Any) -> str:
        """Queue an ``Event`` invocation; returns its request id at once (Lambda's 202)."""
        request_id = str(uuid.uuid4())
        task = asyncio.get_running_loop().create_task(self._run_async(name, event, request_id, time.monotonic()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return request_id

    async def _run_async(self, name: str, event: Any, request_id: str, queued_at: float) -> None:
        config = self.async_configs.get(name, AsyncInvokeConfig())
        attempts = 0
        condition = "RetriesExhausted"
        result = InvokeResult()
        while True:
            attempts += 1
            result = await self.invoke(name, event)
            if result.ok:
                self.async_outcomes.append({"function": name, "requestId": request_id, "attempts": attempts, "ok": True})
                return
            if attempts > config.maximum_retry_attempts:
                break
            delay = self.retry_delays[min(attempts - 1, len(self.retry_delays) - 1)] if self.retry_delays else 0.0
            if time.monotonic() + delay - queued_at > config.maximum_event_age_seconds:
                condition = "EventAgeExceeded"
                break
            await asyncio.sleep(delay)
        self.async_outcomes.append({"function": name, "requestId": request_id, "attempts": attempts, "ok": False,
                                    "condition": condition})
        log.warning("async invoke of %s failed after %d attempt(s) (%s)", name, attempts, condition)
        if config.on_failure_destination:
            record = {
                "version": "1.0",
                "timestamp": datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z"),
                "requestContext": {"requestId": request_id, "functionArn": f"{self.arn(name)}:$LATEST",
                                   "condition": condition, "approximateInvokeCount": attempts},
                "requestPayload": event,
                "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
                "responsePayload": result.error,
            }
            try:
                await self._destinations.deliver(config.on_failure_destination, record, self)
            except Exception:
                log.exception("on-failure destination %s failed", config.on_failure_destination)

    async def close(self) -> None:
        """Cancel queued async work and kill every container."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for pool in self.pools.values():
            pool.close()

    # -- the Invoke API, for boto3's lambda client (AWS_ENDPOINT_URL_LAMBDA) ----------------

    def routes(self, prefix: str) -> list[web.RouteDef]:
        """``POST {prefix}/2015-03-31/functions/{name}/invocations``."""
        return [web.post(prefix + "/2015-03-31/functions/{name}/invocations", self._handle_invoke)]

    def _not_found(self, reference: str) -> web.Response:
        return web.json_response({"Type": "User", "message": f"Function not found: {reference}"}, status=404,
                                 headers={"x-amzn-ErrorType": "ResourceNotFoundException"})

    async def _handle_invoke(self, request: web.Request) -> web.Response:
        reference = request.match_info["name"]
        name = self.resolve(reference)
        if name is None:
            return self._not_found(reference)
        kind = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        body = await request.read()
        limit = ASYNC_PAYLOAD_LIMIT if kind == "Event" else SYNC_PAYLOAD_LIMIT
        if len(body) > limit:
            return web.json_response({"Type": "User", "message": f"Request must be smaller than {limit} bytes"},
                                     status=413, headers={"x-amzn-ErrorType": "RequestEntityTooLargeException"})
        try:
            event = json.loads(body) if body else {}
        except ValueError:
            return web.json_response({"Type": "User", "message": "Could not parse request body into json"},
                                     status=400, headers={"x-amzn-ErrorType": "InvalidRequestContentException"})
        if kind == "DryRun":
            return web.Response(status=204)
        if kind == "Event":
            request_id = self.invoke_async(name, event)
            return web.Response(status=202, headers={"x-amzn-RequestId": request_id})
        result = await self.invoke(name, event)
        headers = {"X-Amz-Executed-Version": "$LATEST"}
        if not result.ok:
            headers["X-Amz-Function-Error"] = "Unhandled"
            return web.Response(status=200, body=encode(result.error)[HEADER.size:], headers=headers,
                                content_type="application/json")
        return web.Response(status=200, body=encode(result.payload)[HEADER.size:], headers=headers,
                            content_type="application/json")


class Destinations:
    """Where a finally-failed async event goes: an SQS queue or SNS topic in moto, or another function."""

    def __init__(self, aws: Any) -> None:
        self._aws = aws

    async def deliver(self, arn: str, record: dict[str, Any], lambdas: LambdaService) -> None:
        """Send Lambda's destination record to ``arn``."""
        service = arn.split(":")[2]
        body = json.dumps(record, default=str)
        if service == "sqs":
            sqs = self._aws.client("sqs")
            url = (await asyncio.to_thread(sqs.get_queue_url, QueueName=arn.rsplit(":", 1)[1]))["QueueUrl"]
            await asyncio.to_thread(sqs.send_message, QueueUrl=url, MessageBody=body)
        elif service == "sns":
            await asyncio.to_thread(self._aws.client("sns").publish, TopicArn=arn, Message=body)
        elif service == "lambda":
            name = lambdas.resolve(arn)
            if name:
                lambdas.invoke_async(name, record)
        else:
            log.warning("destination %s is not emulated locally; record dropped: %s", arn, body[:200])

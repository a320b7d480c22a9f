"""EventBridge's scheduled rules, locally: each ``rate(...)`` rule async-invokes its targets with the
``Scheduled Event`` shape, as EventBridge does (so Lambda's async retries apply)."""

from __future__ import annotations

import asyncio
import datetime
import uuid

from local.lambda_service import LambdaService
from local.stack import Schedule


class Scheduler:
    """Fires every rule on its rate (or on ``every_seconds`` when the local run overrides it)."""

    def __init__(self, lambdas: LambdaService, schedules: list[Schedule], region: str, account: str,
                 every_seconds: float | None = None) -> None:
        self._lambdas = lambdas
        self._schedules = schedules
        self._region = region
        self._account = account
        self._every = every_seconds
        self._tasks: list[asyncio.Task] = []
        self.fired = 0

    def start(self) -> None:
        """One timer task per rule."""
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._run(schedule)) for schedule in self._schedules]

    def event(self, schedule: Schedule) -> dict:
        """The event EventBridge sends a scheduled rule's target."""
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                "account": self._account, "time": now, "region": self._region, "detail": {},
                "resources": [f"arn:aws:events:{self._region}:{self._account}:rule/{schedule.rule}"]}

    async def _run(self, schedule: Schedule) -> None:
        period = self._every or schedule.every_seconds
        while True:
            await asyncio.sleep(period)
            for function in schedule.functions:
                if self._lambdas.resolve(function):
                    self._lambdas.invoke_async(function, self.event(schedule))
            self.fired += 1

    async def close(self) -> None:
        """Stop the timers."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

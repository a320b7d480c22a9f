"""``--state DIR`` keeps the run's AWS state: a session created before a restart can be joined after it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from tests.local.conftest import port_is_free, start_local_run
from tests.local.test_local_run import connect, token


def test_a_session_survives_a_restart_with_the_same_state_dir(tmp_path: Path) -> None:
    async def create(run) -> str:
        async with aiohttp.ClientSession() as http:
            speaker = await connect(http, run, "speaker", await token(http, run))
            await speaker.send({"action": "createSession", "sourceLanguage": "en-US"})
            session_id = (await speaker.wait_for(lambda m: m.get("type") == "sessionCreated"))["sessionId"]
            await speaker.close()
            return session_id

    async def join(run, session_id: str) -> dict:
        async with aiohttp.ClientSession() as http:
            listener = await connect(http, run, "listener")
            await listener.send({"action": "joinSession", "sessionId": session_id, "targetLanguage": "es"})
            reply = await listener.wait_for(lambda m: m.get("type") in ("sessionJoined", "error"))
            await listener.close()
            return reply

    first = start_local_run(tmp_path)
    try:
        session_id = asyncio.run(create(first))
    finally:
        assert first.stop() == 0
    assert port_is_free(first.port)
    assert (tmp_path / "aws-requests.jsonl").stat().st_size > 0
    assert list((tmp_path / "logs").glob("*.log")), "logs are kept in the state folder"

    second = start_local_run(tmp_path)
    try:
        reply = asyncio.run(join(second, session_id))
    finally:
        assert second.stop() == 0
    assert reply["type"] == "sessionJoined" and reply["sessionId"] == session_id

"""The local run started the way the README says (``bash scripts/local.sh``), as a subprocess on a free port."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"^READY (ws://127\.0\.0\.1:(\d+)/ws)$")
START_TIMEOUT = 600.0


def free_port() -> int:
    """A TCP port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Nothing accepts connections on the port."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@dataclass
class LocalRun:
    """A running local backend."""

    process: subprocess.Popen
    port: int
    state: Path
    output: list[str]

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def log(self, function_suffix: str) -> str:
        """The log of the one function whose name ends with ``function_suffix``."""
        [path] = [p for p in (self.state / "logs").glob("*.log") if p.stem.endswith(function_suffix)]
        return path.read_text()

    def stop(self) -> int:
        """Ctrl-C, as a user would; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise


def start_local_run(state: Path, *extra: str, engine: str = "scripted") -> LocalRun:
    """``bash scripts/local.sh --engine <engine> --port <free> --state <state> ...``, waited on until READY."""
    port = free_port()
    command = ["bash", "scripts/local.sh", "--engine", engine, "--port", str(port), "--state", str(state), *extra]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True, bufsize=1)
    output: list[str] = []
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:
        # Read everything it prints, always, so the server never blocks on a full pipe.
        for line in process.stdout:
            output.append(line.rstrip("\n"))
            lines.put(line.strip())
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1.0)
        except queue.Empty:
            continue
        if line is None:
            break
        match = READY.match(line)
        if match:
            assert int(match.group(2)) == port
            return LocalRun(process, port, state, output)
    process.kill()
    raise AssertionError("the local run did not get ready:\n" + "\n".join(output[-40:]))


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    """One local run per test module; stopped with Ctrl-C afterwards, with nothing left behind."""
    state = tmp_path_factory.mktemp("local-state")
    run = start_local_run(state, "--schedule-seconds", "2", "--retry-delays", "0.2,0.4")
    try:
        yield run
    finally:
        code = run.stop()
        assert code == 0, "\n".join(run.output[-20:])
        assert port_is_free(run.port)
        leftovers = subprocess.run(["pgrep", "-f", str(state)], capture_output=True, text=True).stdout.split()
        assert leftovers == [], f"processes left behind: {leftovers}"

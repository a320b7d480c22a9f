"""Fixtures for the web client tests: local mode as a subprocess, a speech file for the fake
microphone, and headless Chromium driven by Playwright.

Local mode is started the README way (`bash scripts/local.sh --engine scripted ...`) on a free
port, once per test session; set LOCAL_MODE_URL to use one that is already running instead.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "build" / "screenshots"
# Small enough that a third listener finds the session full (the rest of the tests use two).
MAX_LISTENERS = 2
READY_TIMEOUT_SECONDS = 600  # local.sh may install packages first
SPEECH = ("Good morning everyone and welcome. Today we talk about the weather, the trains and the plans "
          "for the coming week. Thank you for listening.")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def local_url() -> Iterator[str]:
    """Base URL of a running local mode (scripted engines; session:maxListeners=2)."""
    given = os.environ.get("LOCAL_MODE_URL")
    if given:
        yield given.rstrip("/")
        return
    port = _free_port()
    command = ["bash", str(ROOT / "scripts" / "local.sh"), "--engine", "scripted", "--port", str(port),
               "--config", f"session:maxListeners={MAX_LISTENERS}"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    try:
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("local mode printed no READY line:\n" + "".join(seen[-40:])) from None
            seen.append(line)
            if line.startswith("READY "):
                break
            if process.poll() is not None and lines.empty():
                raise AssertionError(f"local mode exited with {process.returncode}:\n" + "".join(seen[-40:]))
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory) -> Path:
    """A WAV of speech for Chromium's fake microphone (espeak-ng; a voiced synthetic signal without it)."""
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), SPEECH], check=True, capture_output=True)
        return path
    rate = 16000
    t = np.arange(rate * 8) / rate
    syllables = 0.5 * (1 - np.cos(2 * np.pi * 4 * t)) * (np.sin(2 * np.pi * 0.25 * t) > -0.7)
    signal_ = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((140, 280, 420, 560), start=1)) * syllables
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((signal_ / np.abs(signal_).max() * 0.5 * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def browser(speech_wav):
    """Headless Debian Chromium with a fake microphone playing `speech_wav` and autoplay allowed.

    Per module, not per session: Playwright's sync API holds an event loop in this thread while it
    runs, and tests elsewhere in the suite call asyncio.run()."""
    with chromium(speech_wav, "--autoplay-policy=no-user-gesture-required") as browser:
        yield browser


@contextmanager
def chromium(microphone_wav: Path, *extra_args: str):
    """Headless Debian Chromium whose fake microphone plays ``microphone_wav`` (skips the test when
    Playwright or Chromium is missing)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    playwright = playwright_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream", f"--use-file-for-fake-audio-capture={microphone_wav}",
            *extra_args,
        ])
        yield browser
        browser.close()
    finally:
        playwright.stop()


@contextmanager
def serve_web(handler: type[SimpleHTTPRequestHandler] = SimpleHTTPRequestHandler) -> Iterator[str]:
    """The web/ folder over HTTP on a free loopback port (ES modules do not load from file://); yields its URL."""
    quiet = type(f"Quiet{handler.__name__}", (handler,), {"log_message": lambda *args: None})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(quiet, directory=str(ROOT / "web")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def static_url():
    """web/ as it is in the repository, without a config.json (pages that only need the modules)."""
    with serve_web() as url:
        yield url


# Waits, not speed checks: generous, since the machine running the tests may be busy.
PAGE_TIMEOUT_MS = 90_000


def new_page(browser, **context_options):
    """A page in its own browser context (its own storage: one person per page)."""
    context = browser.new_context(**context_options)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    return context.new_page()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the tests keep their screenshots (test artifacts)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS

"""A local ``@connections`` stand-in for the benchmarks: answers every POST after a fixed delay.

Two forms, each meant to run in its own process so the figures measured are the client's alone:

- ``serve`` / ``start``: ``http.server`` threads, HTTP/1.1 keep-alive as API Gateway does; can
  refuse unsigned requests (403) so a client that forgets SigV4 cannot look fast.
- ``serve_asyncio``: asyncio, several processes sharing one port, as little CPU per request as
  possible so on a small machine the figures are the client's and not this stand-in's.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class SlowConnections(BaseHTTPRequestHandler):
    """Answers every POST with 200 after ``delay`` seconds (403 at once if ``check_signature`` and unsigned)."""

    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway does
    delay = 0.025
    check_signature = False

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.check_signature and not self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 Credential="):
            self.send_response(403)
        else:
            time.sleep(self.delay)
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args) -> None:
        pass


def serve(port_queue: multiprocessing.Queue, delay: float, check_signature: bool = False,
          request_queue_size: int | None = None) -> None:
    """Serve on a free loopback port, put that port on ``port_queue``, then serve forever.

    ``request_queue_size`` raises the listen backlog (socketserver's default is 5) when many
    connections open at once."""
    SlowConnections.delay = delay
    SlowConnections.check_signature = check_signature
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowConnections, bind_and_activate=False)
    if request_queue_size is not None:
        server.request_queue_size = request_queue_size
    server.server_bind()
    server.server_activate()  # listens with request_queue_size, so it must be set before
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


def start(delay: float, check_signature: bool = False,
          request_queue_size: int | None = None) -> tuple[multiprocessing.Process, str]:
    """Start ``serve`` in a daemon process; answers (the process, its ``http://127.0.0.1:<port>/dev`` endpoint).
    The caller ends it with ``terminate()`` and ``join()``."""
    ports: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=serve, args=(ports, delay, check_signature, request_queue_size),
                                      daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{ports.get(timeout=30)}/dev"


async def _connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """One keep-alive connection: read a POST, wait ``delay``, answer 200."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            await asyncio.sleep(delay)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def serve_asyncio(port: int, delay: float) -> None:
    """Serve on ``port`` (``SO_REUSEPORT``, so several processes can share it) until terminated."""
    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: _connection(r, w, delay), "127.0.0.1", port,
                                            reuse_port=True, backlog=1024)
        await server.serve_forever()
    asyncio.run(main())

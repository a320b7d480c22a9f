"""Inside one function container: import the handler as Lambda's runtime does, then run invocations.

    python bootstrap.py --fd N --handler pkg.module.function --code DIR[:DIR...] [--transcribe HOST:PORT]

The container's environment is the function's own (set by the local Lambda service), so config
objects that read the environment once per container read this function's values. The code
directories (the function's extracted zip, then any layers) go first on ``sys.path``. One
invocation at a time, as in a Lambda execution environment; frames from ``wire``.
Standard library only until the handler is imported.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import socket
import sys
import time
import traceback
from typing import Any

from wire import HEADER, decode_length, encode


class LambdaContext:
    """The ``context`` argument: names, request id and remaining time."""

    def __init__(self, meta: dict[str, Any]) -> None:
        self.function_name = meta["functionName"]
        self.function_version = meta.get("functionVersion", "$LATEST")
        self.invoked_function_arn = meta["invokedFunctionArn"]
        self.memory_limit_in_mb = int(meta.get("memoryLimitInMB", 128))
        self.aws_request_id = meta["requestId"]
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = meta.get("logStreamName", "local")
        self.identity = None
        self.client_context = None
        self._deadline_ms = int(meta["deadlineMs"])

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until the invocation's timeout."""
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _install_transcribe(module: Any, address: str) -> None:
    """The stream worker's Transcribe seam: its own deps, with the local endpoint's stream factory."""
    from audio_transcription.settings import StreamWorkerSettings
    from transcribe_client import RemoteTranscribeStreamFactory

    settings = StreamWorkerSettings.from_env()
    deps = module.build_deps(settings)
    module.configure(settings, dataclasses.replace(deps, transcribe=RemoteTranscribeStreamFactory(address)))


# Handler module -> how its existing seam takes a local stand-in (configuration, not code changes).
SEAMS = {"audio_transcription.stream_worker.handler": ("transcribe", _install_transcribe)}


def _recv(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


def _error(error: BaseException) -> dict[str, Any]:
    return {"errorType": type(error).__name__, "errorMessage": str(error),
            "stackTrace": traceback.format_tb(error.__traceback__)}


def main() -> None:
    """Import the handler, report ready (or the init error), then serve invocations until EOF."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--handler", required=True)
    parser.add_argument("--code", required=True)
    parser.add_argument("--transcribe", default="")
    args = parser.parse_args()
    sock = socket.socket(fileno=args.fd)
    for directory in reversed(args.code.split(os.pathsep)):
        sys.path.insert(0, directory)
    module_name, _, function_name = args.handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        handler = getattr(module, function_name)
        seam = SEAMS.get(module_name)
        if seam and getattr(args, seam[0]):
            seam[1](module, getattr(args, seam[0]))
    except BaseException as error:  # noqa: BLE001 - reported as Runtime.ImportModuleError, as Lambda does
        traceback.print_exc()
        sock.sendall(encode({"initError": _error(error)}))
        return
    sock.sendall(encode({"ready": True}))
    while True:
        try:
            request = json.loads(_recv(sock, decode_length(_recv(sock, HEADER.size))))
        except EOFError:
            return
        context = LambdaContext(request["context"])
        print(f"START RequestId: {context.aws_request_id}", flush=True)
        started = time.monotonic()
        try:
            reply = {"result": handler(request["event"], context)}
            frame = encode(reply)
        except Exception as error:  # noqa: BLE001 - a function error, returned to the caller as Lambda does
            traceback.print_exc()
            frame = encode({"error": _error(error)})
        sys.stdout.flush()
        sys.stderr.flush()
        print(f"END RequestId: {context.aws_request_id} Duration: {(time.monotonic() - started) * 1000:.1f} ms", flush=True)
        sock.sendall(frame)


if __name__ == "__main__":
    main()

"""Reference clients of the WebSocket API, written from docs/protocol.md only.

``python -m clients.speaker`` streams a WAV/FLAC file as a speaker; ``python -m clients.listener``
joins a session and prints captions with their latency. Both work against the local run
(``bash scripts/local.sh``) and against a deployed stack (its ``pulumi stack output --json``).
"""

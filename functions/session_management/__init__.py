"""Session management: WebSocket connections, sessions, listeners, controls and rate limits.

Handlers live in one folder per Lambda function (``connect/``, ``join_session/`` ...) and stay
thin: they parse the API Gateway event and call the plain modules of this package
(``sessions``, ``connections``, ``membership``, ``rate_limits`` ...), which the tests drive
directly. The wire protocol is docs/protocol.md; the table schema is docs/data-model.md.
"""

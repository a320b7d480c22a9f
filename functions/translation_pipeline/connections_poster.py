"""A lean ``@connections`` poster: SigV4-signed POSTs over pooled keep-alive connections.

botocore spends about 1 ms of CPU per ``post_to_connection`` (serializers, event hooks, the
retry handler, the signer rebuilding its key) where a post is one small HTTP request. This
module does only what that request needs: a signing key derived once per day, region and
secret (``SigV4Signer``), a canonical request built from three headers, and an
``http.client`` connection taken from a pool and put back for the next post.

``ConnectionsPoster.post_to_connection(ConnectionId=..., Data=...)`` has the botocore
client's shape and raises what botocore raises: ``ClientError`` with the service's error code
and HTTP status (410 ``GoneException``, 429 ``LimitExceededException``, 413
``PayloadTooLargeException``, 403 ...) and a ``BotoCoreError`` when the endpoint cannot be
reached or does not answer in time. So ``broadcast.Broadcaster`` keeps its per-connection
handling unchanged: 410 removes the connection, 429 and 5xx back off and retry, others fail
that connection only.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import queue
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError

SERVICE = "execute-api"
_ALGORITHM = "AWS4-HMAC-SHA256"
# Status codes without an x-amzn-ErrorType header still get the code the service documents.
_CODES_BY_STATUS = {400: "BadRequestException", 403: "ForbiddenException", 410: "GoneException",
                    413: "PayloadTooLargeException", 429: "LimitExceededException",
                    500: "InternalServerErrorException", 503: "ServiceUnavailable"}


@dataclass(frozen=True)
class Credentials:
    """One set of AWS credentials (the token only for temporary ones, as in Lambda)."""

    access_key: str
    secret_key: str
    token: str | None = None


def botocore_credentials() -> Callable[[], Credentials]:
    """The Lambda environment's credentials through botocore's provider chain, resolved once.

    The chain is built once per container; each call asks the resolved object for its current
    values, which refreshes temporary credentials when they near expiry and is otherwise a
    lock and a clock check."""
    import botocore.session

    resolved = botocore.session.get_session().get_credentials()
    if resolved is None:
        raise NoCredentialsError()

    def current() -> Credentials:
        frozen = resolved.get_frozen_credentials()
        return Credentials(frozen.access_key, frozen.secret_key, frozen.token)
    return current


class SigV4Signer:
    """AWS Signature Version 4 for one region and service, with the signing key cached.

    The key depends only on the secret, the UTC date, the region and the service, so it is
    derived once a day (or when credentials rotate) instead of four HMACs per request."""

    def __init__(self, region: str, service: str = SERVICE) -> None:
        self.region = region
        self.service = service
        self._key_for: tuple[str, str] | None = None
        self._key = b""
        self._lock = threading.Lock()

    def signing_key(self, secret_key: str, date: str) -> bytes:
        """The derived key for ``date`` (YYYYMMDD)."""
        with self._lock:
            if self._key_for != (secret_key, date):
                k = hmac.new(f"AWS4{secret_key}".encode(), date.encode(), hashlib.sha256).digest()
                for part in (self.region, self.service, "aws4_request"):
                    k = hmac.new(k, part.encode(), hashlib.sha256).digest()
                self._key_for, self._key = (secret_key, date), k
            return self._key

    def authorization(self, credentials: Credentials, method: str, canonical_path: str, headers: dict[str, str],
                      body: bytes, amz_date: str, query: str = "") -> str:
        """The ``Authorization`` header for a request whose signed headers are ``headers``
        (lower-case names, values as sent; must include host and x-amz-date)."""
        names = sorted(headers)
        canonical_headers = "".join(f"{n}:{' '.join(headers[n].split())}\n" for n in names)
        signed = ";".join(names)
        canonical = "\n".join((method, canonical_path, query, canonical_headers, signed, hashlib.sha256(body).hexdigest()))
        date = amz_date[:8]
        scope = f"{date}/{self.region}/{self.service}/aws4_request"
        to_sign = f"{_ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self.signing_key(credentials.secret_key, date), to_sign.encode(), hashlib.sha256).hexdigest()
        return f"{_ALGORITHM} Credential={credentials.access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"


def region_of(endpoint: str, default: str | None = None) -> str:
    """The region of an ``https://{id}.execute-api.{region}.amazonaws.com/{stage}`` endpoint, else the
    Lambda environment's region (custom domains, local stand-ins)."""
    host = urlsplit(endpoint).hostname or ""
    parts = host.split(".")
    if len(parts) >= 4 and parts[1] == SERVICE:
        return parts[2]
    return default or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


class _OneWriteConnection(http.client.HTTPConnection):
    """Writes headers and body in one ``send`` with Nagle off.

    ``http.client`` sends a request's headers and its body in two writes; with Nagle's
    algorithm on, the body of a small POST can then wait for the peer's delayed ACK of the
    headers, and every post pays a second system call."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send_output(self, message_body: Any = None, encode_chunked: bool = False) -> None:
        if isinstance(message_body, bytes) and not encode_chunked:
            self._buffer.extend((b"", message_body))  # the blank line, then the body, in one write
            message = b"\r\n".join(self._buffer)
            del self._buffer[:]
            self.send(message)
            return
        super()._send_output(message_body, encode_chunked)


class _OneWriteHTTPSConnection(_OneWriteConnection, http.client.HTTPSConnection):
    """The same over TLS."""


class _ConnectionPool:
    """Keep-alive connections to one origin; a post takes one and puts it back when the response is read."""

    def __init__(self, scheme: str, host: str, port: int | None, size: int, timeout: float,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._scheme, self._host, self._port = scheme, host, port
        self._timeout = timeout
        self._idle: queue.LifoQueue[http.client.HTTPConnection] = queue.LifoQueue(maxsize=size)
        self._ssl = (ssl_context or ssl.create_default_context()) if scheme == "https" else None

    def take(self) -> tuple[http.client.HTTPConnection, bool]:
        """A connection and whether it was used before (a reused one may have been closed by the server)."""
        try:
            return self._idle.get_nowait(), True
        except queue.Empty:
            if self._ssl is not None:
                return _OneWriteHTTPSConnection(self._host, self._port, timeout=self._timeout, context=self._ssl), False
            return _OneWriteConnection(self._host, self._port, timeout=self._timeout), False

    def give_back(self, connection: http.client.HTTPConnection) -> None:
        """Keep it for the next post, or close it when the pool is full."""
        try:
            self._idle.put_nowait(connection)
        except queue.Full:
            connection.close()

    def close(self) -> None:
        """Close every idle connection."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


class ConnectionsPoster:
    """``post_to_connection`` for an API Gateway WebSocket stage, without botocore's per-call machinery.

    Thread-safe: every worker thread of the broadcaster posts through one instance. ``pool_size``
    should be at least the number of threads posting at once, or connections are reopened."""

    def __init__(self, endpoint: str, *, region: str | None = None,
                 credentials: Callable[[], Credentials] | None = None, pool_size: int = 64,
                 timeout: float = 3.0, clock: Callable[[], float] = time.time,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"endpoint must be an http(s) URL, got {endpoint!r}")
        self.endpoint = endpoint
        self._prefix = parts.path.rstrip("/")
        # As botocore sends it: the port only when it is not the scheme's default.
        default_port = 443 if parts.scheme == "https" else 80
        self._host_header = parts.hostname if parts.port in (None, default_port) else f"{parts.hostname}:{parts.port}"
        self._signer = SigV4Signer(region_of(endpoint, region))
        self._credentials = credentials
        self._credentials_lock = threading.Lock()
        # The system's trust store unless told otherwise (tests trust their own certificate).
        self._pool = _ConnectionPool(parts.scheme, parts.hostname, parts.port, pool_size, timeout, ssl_context)
        self._clock = clock

    @property
    def region(self) -> str:
        """The region requests are signed for."""
        return self._signer.region

    def request_path(self, connection_id: str) -> str:
        """The path posted to (the id percent-encoded as botocore encodes a URI label)."""
        return f"{self._prefix}/@connections/{quote(connection_id, safe='')}"

    def signed_headers(self, connection_id: str, data: bytes) -> dict[str, str]:
        """Every header of the POST for ``connection_id``, Authorization included."""
        credentials = self._current_credentials()
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self._clock()))
        headers = {"host": self._host_header, "x-amz-date": amz_date}
        if credentials.token:
            headers["x-amz-security-token"] = credentials.token
        # Services other than S3 sign the path URI-encoded once more (as botocore does).
        canonical_path = quote(self.request_path(connection_id), safe="/~")
        headers["authorization"] = self._signer.authorization(credentials, "POST", canonical_path, headers, data, amz_date)
        return headers

    def post_to_connection(self, *, ConnectionId: str, Data: bytes | str) -> dict[str, Any]:  # noqa: N803 (botocore's names)
        """Send ``Data`` to one connection; raises ``ClientError`` / ``BotoCoreError`` like botocore's client."""
        data = Data.encode("utf-8") if isinstance(Data, str) else bytes(Data)
        path = self.request_path(ConnectionId)
        headers = self.signed_headers(ConnectionId, data)
        headers["content-length"] = str(len(data))
        status, response_headers, body = self._send(path, headers, data)
        if status < 300:
            return {"ResponseMetadata": {"HTTPStatusCode": status}}
        raise _client_error(status, response_headers, body)

    def close(self) -> None:
        """Close idle connections (tests and benchmarks)."""
        self._pool.close()

    def _current_credentials(self) -> Credentials:
        if self._credentials is None:
            with self._credentials_lock:
                if self._credentials is None:
                    self._credentials = botocore_credentials()
        return self._credentials()

    def _send(self, path: str, headers: dict[str, str], data: bytes) -> tuple[int, http.client.HTTPMessage, bytes]:
        while True:
            connection, reused = self._pool.take()
            try:
                connection.request("POST", path, body=data, headers=headers)
                response = connection.getresponse()
                body = response.read()  # the whole answer, or the connection cannot be reused
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                connection.close()
                if reused:
                    continue  # the server closed an idle keep-alive connection: once more on a fresh one
                raise EndpointConnectionError(endpoint_url=self.endpoint, error=exc) from exc
            except TimeoutError as exc:  # connect or read: either way no answer in time
                connection.close()
                raise ReadTimeoutError(endpoint_url=self.endpoint, error=exc) from exc
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                raise EndpointConnectionError(endpoint_url=self.endpoint, error=exc) from exc
            if response.will_close:
                connection.close()
            else:
                self._pool.give_back(connection)
            return response.status, response.headers, body


def _client_error(status: int, headers: http.client.HTTPMessage, body: bytes) -> ClientError:
    code = (headers.get("x-amzn-ErrorType") or "").split(":", 1)[0].strip()
    message = ""
    try:
        parsed = json.loads(body) if body else {}
        if isinstance(parsed, dict):
            message = str(parsed.get("message") or parsed.get("Message") or "")
            code = code or str(parsed.get("__type") or "").rsplit("#", 1)[-1]
    except ValueError:
        message = body[:200].decode("utf-8", "replace")
    code = code or _CODES_BY_STATUS.get(status) or ("InternalServerErrorException" if status >= 500 else f"HTTP{status}")
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {k.lower(): v for k, v in headers.items()}}},
                       "PostToConnection")

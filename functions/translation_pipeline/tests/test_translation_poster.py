"""The lean @connections poster: SigV4 identical to botocore's, keep-alive, and the broadcaster's error semantics over real sockets."""

from __future__ import annotations

import datetime
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import BotoCoreError, ClientError

from translation_pipeline.broadcast import Broadcaster
from translation_pipeline.connections_poster import ConnectionsPoster, Credentials, SigV4Signer, region_of

FIXED = datetime.datetime(2026, 11, 30, 8, 15, 30)
FIXED_EPOCH = FIXED.replace(tzinfo=datetime.UTC).timestamp()
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-value")


def _botocore_authorization(url: str, data: bytes, creds: Credentials, region: str) -> str:
    """What botocore's pure-Python SigV4 signer puts in Authorization for the same POST at the same instant."""
    request = AWSRequest(method="POST", url=url, data=data)
    with mock.patch("botocore.auth.get_current_datetime", return_value=FIXED):
        SigV4Auth(BotoCredentials(creds.access_key, creds.secret_key, creds.token), "execute-api", region).add_auth(request)
    return request.headers["Authorization"]


@pytest.mark.parametrize("endpoint,connection_id", [
    ("https://abc123.execute-api.eu-west-1.amazonaws.com/live", "L0SM9cOFvHcCIhw="),
    ("https://abc123.execute-api.us-east-1.amazonaws.com/dev", "Mx2kq8b-AvHc_CJdA"),
    ("http://127.0.0.1:8787/ws", "local-connection+1/2="),
])
@pytest.mark.parametrize("token", ["session-token-value", None])
def test_poster_signature_matches_botocore(endpoint, connection_id, token):
    creds = Credentials(CREDS.access_key, CREDS.secret_key, token)
    poster = ConnectionsPoster(endpoint, credentials=lambda: creds, clock=lambda: FIXED_EPOCH, region="us-east-1")
    data = b'{"type":"caption","text":"hola \xc2\xbfqu\xc3\xa9 tal?"}'
    headers = poster.signed_headers(connection_id, data)
    url = endpoint.split("/", 3)
    url = f"{url[0]}//{url[2]}{poster.request_path(connection_id)}"
    assert headers["authorization"] == _botocore_authorization(url, data, creds, poster.region)
    assert headers["x-amz-date"] == "20261130T081530Z"
    assert ("x-amz-security-token" in headers) == bool(token)


def test_poster_region_from_endpoint_or_environment(monkeypatch):
    assert region_of("https://abc.execute-api.ap-south-1.amazonaws.com/prod") == "ap-south-1"
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert region_of("http://127.0.0.1:8787/ws") == "eu-central-1"
    with pytest.raises(ValueError):
        ConnectionsPoster("ftp://example.com/x", credentials=lambda: CREDS)


def test_poster_signing_key_derived_once_per_day():
    signer = SigV4Signer("us-east-1")
    with mock.patch("translation_pipeline.connections_poster.hmac.new", wraps=__import__("hmac").new) as hmac_new:
        signer.signing_key("secret", "20261130")
        signer.signing_key("secret", "20261130")
        assert hmac_new.call_count == 4  # date, region, service, aws4_request: once
        signer.signing_key("secret", "20261201")
        assert hmac_new.call_count == 8  # a new day, a new key
        signer.signing_key("rotated", "20261201")
        assert hmac_new.call_count == 12  # new credentials, a new key


class _ManagementApi(BaseHTTPRequestHandler):
    """@connections stand-in: the connection id decides the answer; every request's signature is checked."""

    protocol_version = "HTTP/1.1"
    state: dict = {}

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        state = self.state
        with state["lock"]:
            state["requests"].append((self.path, body))
            # The client's address and port name a TCP connection (an object id can be reused once a socket is freed).
            state["sockets"].add(tuple(self.client_address))
            count = state["seen"][self.path] = state["seen"].get(self.path, 0) + 1
        signed_ok = self.headers["Authorization"] == _botocore_authorization(
            f"http://{self.headers['Host']}{self.path}", body, CREDS, "us-east-1")
        connection_id = self.path.rsplit("/", 1)[1]
        status, error = 200, None
        if not signed_ok:
            status, error = 403, "ForbiddenException"
        elif connection_id.startswith("gone"):
            status, error = 410, "GoneException"
        elif connection_id.startswith("busy") and count == 1:
            status, error = 429, "LimitExceededException"
        elif connection_id.startswith("flaky") and count == 1:
            status, error = 500, "InternalServerErrorException"
        elif connection_id.startswith("big"):
            status, error = 413, "PayloadTooLargeException"
        elif connection_id.startswith("denied"):
            status, error = 403, "ForbiddenException"
        payload = b'{"message":"nope"}' if error else b""
        self.send_response(status)
        if error:
            self.send_header("x-amzn-ErrorType", f"{error}:http://internal.amazon.com/coral/")
        if connection_id.startswith("closing"):
            self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def management_api():
    _ManagementApi.state = {"lock": threading.Lock(), "requests": [], "sockets": set(), "seen": {}}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ManagementApi)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/dev", _ManagementApi.state
    server.shutdown()
    server.server_close()


class _Cleaner:
    def __init__(self):
        self.removed = []

    def remove(self, connection_id, session_id):
        self.removed.append((connection_id, session_id))
        return True


def _poster(endpoint):
    return ConnectionsPoster(endpoint, credentials=lambda: CREDS, clock=lambda: FIXED_EPOCH, region="us-east-1", pool_size=4)


def test_poster_delivers_over_one_keep_alive_connection(management_api):
    endpoint, state = management_api
    poster = _poster(endpoint)
    for i in range(20):
        assert poster.post_to_connection(ConnectionId=f"ok-{i}=", Data=f"message {i}")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert len(state["sockets"]) == 1
    assert state["requests"][0] == ("/dev/@connections/ok-0%3D", b"message 0")
    # A server that closes after answering: the next post opens a new connection by itself.
    poster.post_to_connection(ConnectionId="closing-1", Data=b"x")
    poster.post_to_connection(ConnectionId="ok-after", Data=b"y")
    assert len(state["sockets"]) == 2
    poster.close()


def test_poster_errors_have_botocore_shape(management_api):
    endpoint, _ = management_api
    poster = _poster(endpoint)
    for connection_id, code, status in [("gone-1", "GoneException", 410), ("big-1", "PayloadTooLargeException", 413),
                                        ("denied-1", "ForbiddenException", 403), ("busy-x", "LimitExceededException", 429)]:
        with pytest.raises(ClientError) as raised:
            poster.post_to_connection(ConnectionId=connection_id, Data=b"x")
        assert raised.value.response["Error"]["Code"] == code
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    # A wrong secret is refused by the signature check, as API Gateway would.
    wrong = ConnectionsPoster(endpoint, credentials=lambda: Credentials(CREDS.access_key, "other", CREDS.token),
                              clock=lambda: FIXED_EPOCH, region="us-east-1")
    with pytest.raises(ClientError) as raised:
        wrong.post_to_connection(ConnectionId="ok-1", Data=b"x")
    assert raised.value.response["Error"]["Code"] == "ForbiddenException"


def test_poster_unreachable_endpoint_is_a_botocore_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    poster = ConnectionsPoster(f"http://127.0.0.1:{port}/dev", credentials=lambda: CREDS, timeout=1)
    with pytest.raises(BotoCoreError):
        poster.post_to_connection(ConnectionId="any", Data=b"x")


def test_poster_through_broadcaster_keeps_todays_semantics(management_api):
    """410 removes the connection and stops its messages; 429 and 5xx back off and deliver; 413 and 403
    fail that connection only; every other connection gets every message in order."""
    endpoint, state = management_api
    cleaner, sleeps = _Cleaner(), []
    broadcaster = Broadcaster(_poster(endpoint), cleaner, concurrency=4, max_retries=3, base_delay=0.01, max_delay=0.05,
                              sleep=sleeps.append, rng=lambda: 0.5)
    connections = ["ok-1", "gone-1", "busy-1", "flaky-1", "big-1", "denied-1", "ok-2"]
    result = broadcaster.broadcast("session-1", connections, [b"part-1", b"part-2"])
    broadcaster.shutdown()
    assert sorted(result.delivered) == ["busy-1", "flaky-1", "ok-1", "ok-2"]
    assert result.gone == ["gone-1"] and cleaner.removed == [("gone-1", "session-1")]
    assert sorted(result.failed) == ["big-1", "denied-1"]
    assert result.failure_codes == {"PayloadTooLargeException": 1, "ForbiddenException": 1}
    assert result.retries == 2 and len(sleeps) == 2
    bodies = {}
    for path, body in state["requests"]:
        bodies.setdefault(path.rsplit("/", 1)[1], []).append(body)
    assert bodies["ok-1"] == [b"part-1", b"part-2"]
    assert bodies["gone-1"] == [b"part-1"]  # nothing more after Gone
    assert bodies["busy-1"] == [b"part-1", b"part-1", b"part-2"]  # the retry, then in order


@pytest.fixture
def tls_management_api(tmp_path, management_api):
    """The same stand-in behind TLS with a certificate made for 127.0.0.1, as API Gateway is reached (https)."""
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ManagementApi)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}/dev", ssl.create_default_context(cafile=str(cert_file))
    server.shutdown()
    server.server_close()


def test_poster_over_tls_keeps_one_connection(tls_management_api, management_api):
    endpoint, trust = tls_management_api
    state = management_api[1]
    poster = ConnectionsPoster(endpoint, credentials=lambda: CREDS, clock=lambda: FIXED_EPOCH, region="us-east-1",
                               ssl_context=trust)
    for i in range(5):
        poster.post_to_connection(ConnectionId=f"ok-{i}", Data=b"over tls")
    with pytest.raises(ClientError) as raised:
        poster.post_to_connection(ConnectionId="gone-tls", Data=b"x")
    assert raised.value.response["Error"]["Code"] == "GoneException"
    assert len(state["sockets"]) == 1 and state["requests"][0] == ("/dev/@connections/ok-0", b"over tls")
    # The system trust store does not know this certificate: refused, as a bad certificate must be.
    untrusted = ConnectionsPoster(endpoint, credentials=lambda: CREDS, region="us-east-1")
    with pytest.raises(BotoCoreError):
        untrusted.post_to_connection(ConnectionId="ok-x", Data=b"x")
    poster.close()

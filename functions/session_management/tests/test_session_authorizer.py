"""The $connect authorizer against locally generated RSA keys and a local JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from session_management.authorizer import handler as authorizer
from session_management.authorizer.jwt_validation import CognitoTokenValidator, JwksCache
from session_management.settings import AuthorizerSettings, load_authorizer_settings
from session_management.tests.support import LambdaContext

REGION = "eu-west-1"
POOL = "eu-west-1_TestPool1"
CLIENT = "client-abc123"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/live/$connect"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY = _key()
OTHER_KEY = _key()


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    """The public JWK of ``key`` as Cognito publishes it."""
    data = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    data.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return data


class LocalJwks:
    """A JWKS endpoint that counts its fetches."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.fetches = 0

    def __call__(self) -> dict[str, Any]:
        self.fetches += 1
        return {"keys": self.keys}


def claims(**overrides: Any) -> dict[str, Any]:
    """Access-token claims of a valid speaker, as Cognito issues them."""
    now = int(time.time())
    base = {"sub": "user-123", "iss": ISSUER, "client_id": CLIENT, "token_use": "access", "iat": now, "exp": now + 3600,
            "auth_time": now, "scope": "openid", "username": "speaker", "jti": "jti-1"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict[str, Any], key: rsa.RSAPrivateKey = KEY, kid: str = "kid-1") -> str:
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any], kid: str = "kid-1") -> str:
    """``alg: none`` with an empty signature."""
    header = {"alg": "none", "typ": "JWT", "kid": kid}
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}."


def hs256_with_public_key(payload: dict[str, Any], kid: str = "kid-1") -> str:
    """The classic confusion attack: HMAC-SHA256 keyed with the RSA public key's PEM."""
    secret = KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = b64(json.dumps(payload).encode())
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


@pytest.fixture
def jwks() -> LocalJwks:
    return LocalJwks(jwk(KEY, "kid-1"))


@pytest.fixture
def install(jwks: LocalJwks, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Install the authorizer with the local JWKS; returns a function ``(allow_anonymous) -> None``."""
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")

    def configure(allow_anonymous: bool = False) -> None:
        settings = AuthorizerSettings(POOL, CLIENT, REGION, allow_anonymous)
        authorizer.configure(settings, CognitoTokenValidator(settings.issuer, CLIENT, JwksCache(jwks)))
    configure()
    yield configure
    authorizer.reset()


def authorize(query: dict[str, str] | None) -> dict[str, Any]:
    event = {"type": "REQUEST", "methodArn": METHOD_ARN, "queryStringParameters": query,
             "headers": {"Host": "abc123.execute-api.eu-west-1.amazonaws.com"},
             "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": "c-1", "stage": "live",
                                "identity": {"sourceIp": "203.0.113.1"}}}
    return authorizer.lambda_handler(event, LambdaContext())


def effect(response: dict[str, Any]) -> str:
    statement = response["policyDocument"]["Statement"][0]
    assert statement["Action"] == "execute-api:Invoke" and statement["Resource"] == METHOD_ARN
    return statement["Effect"]


def test_valid_speaker_access_token_is_allowed(install: Any) -> None:
    response = authorize({"role": "speaker", "token": sign(claims())})
    assert effect(response) == "Allow"
    assert response["principalId"] == "user-123" and response["context"] == {"role": "speaker", "userId": "user-123"}


def id_token(**overrides: Any) -> str:
    """A valid ID token of the same user and app client (signed by the pool's key)."""
    return sign(claims(token_use="id", aud=CLIENT, client_id=None, scope=None, **overrides))


def test_id_tokens_are_refused_for_every_role(install: Any) -> None:
    """Only access tokens authorize API calls (docs/protocol.md, "Which token")."""
    install(allow_anonymous=True)
    for role in ("speaker", "listener"):
        response = authorize({"role": role, "token": id_token()})
        assert effect(response) == "Deny" and response["context"]["userId"] == ""


@pytest.mark.parametrize("token_factory", [
    pytest.param(lambda: sign(claims(exp=int(time.time()) - 120)), id="expired"),
    pytest.param(lambda: sign(claims(iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other")), id="wrong-issuer"),
    pytest.param(lambda: id_token(), id="id-token"),
    pytest.param(lambda: sign(claims(client_id="another-client")), id="wrong-client-access-token"),
    pytest.param(lambda: sign(claims(client_id=None)), id="access-token-without-client-id"),
    pytest.param(lambda: sign(claims(token_use="refresh")), id="wrong-token-use"),
    pytest.param(lambda: sign(claims(token_use=None)), id="no-token-use"),
    pytest.param(lambda: sign(claims(), kid="kid-unknown"), id="unknown-kid"),
    pytest.param(lambda: sign(claims(), key=OTHER_KEY), id="wrong-key-under-known-kid"),
    pytest.param(lambda: unsigned(claims()), id="alg-none"),
    pytest.param(lambda: hs256_with_public_key(claims()), id="hs256-with-public-key"),
    pytest.param(lambda: sign(claims(sub=None)), id="no-subject"),
    pytest.param(lambda: sign(claims(iat=int(time.time()) + 3600, exp=int(time.time()) + 7200)), id="issued-in-the-future"),
    pytest.param(lambda: sign(claims())[:-6] + "AAAAAA", id="tampered-signature"),
    pytest.param(lambda: "not-a-jwt", id="garbage"),
    pytest.param(lambda: "a." * 5000 + "b", id="oversized"),
])
def test_invalid_tokens_are_denied_for_speakers_and_listeners(install: Any, token_factory: Any) -> None:
    token = token_factory()
    install(allow_anonymous=True)  # an invalid token is denied, never downgraded to anonymous
    for role in ("speaker", "listener"):
        response = authorize({"role": role, "token": token})
        assert effect(response) == "Deny"
        assert response["context"]["userId"] == ""


def test_expiry_has_only_a_small_leeway(install: Any) -> None:
    assert effect(authorize({"role": "speaker", "token": sign(claims(exp=int(time.time()) - 10))})) == "Allow"
    assert effect(authorize({"role": "speaker", "token": sign(claims(exp=int(time.time()) - 60))})) == "Deny"


def test_speaker_without_token_is_denied(install: Any) -> None:
    install(allow_anonymous=True)
    assert effect(authorize({"role": "speaker"})) == "Deny"
    assert effect(authorize({"role": "speaker", "token": ""})) == "Deny"


def test_anonymous_listener_follows_config(install: Any) -> None:
    install(allow_anonymous=True)
    response = authorize({"role": "listener"})
    assert effect(response) == "Allow" and response["context"] == {"role": "listener", "userId": ""}
    assert response["principalId"] == "anonymous"
    assert effect(authorize(None)) == "Allow"  # no query string at all: an anonymous listener
    install(allow_anonymous=False)
    assert effect(authorize({"role": "listener"})) == "Deny"
    assert effect(authorize(None)) == "Deny"


def test_listener_with_valid_token_carries_its_user(install: Any) -> None:
    response = authorize({"role": "listener", "token": sign(claims(sub="listener-9"))})
    assert effect(response) == "Allow" and response["context"] == {"role": "listener", "userId": "listener-9"}


def test_unknown_role_is_denied(install: Any) -> None:
    assert effect(authorize({"role": "admin", "token": sign(claims())})) == "Deny"


def test_jwks_unreachable_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> dict[str, Any]:
        raise OSError("network down")
    settings = AuthorizerSettings(POOL, CLIENT, REGION, True)
    authorizer.configure(settings, CognitoTokenValidator(settings.issuer, CLIENT, JwksCache(broken)))
    try:
        assert effect(authorize({"role": "speaker", "token": sign(claims())})) == "Deny"
        assert effect(authorize({"role": "listener", "token": sign(claims())})) == "Deny"
    finally:
        authorizer.reset()


def test_authorizer_errors_fail_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    authorizer.reset()
    for name in ("COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    assert effect(authorize({"role": "listener"})) == "Deny"  # no settings: deny even anonymous
    authorizer.reset()


def test_token_is_never_logged(install: Any, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = sign(claims()), sign(claims(client_id="x"))
    authorize({"role": "speaker", "token": good})
    authorize({"role": "speaker", "token": bad})
    output = capsys.readouterr()
    for token in (good, bad):
        for part in token.split("."):
            assert part not in output.out and part not in output.err


def test_jwks_is_cached_and_refetched_at_most_once_per_floor() -> None:
    fetcher = LocalJwks(jwk(KEY, "kid-1"))
    clock = [1000.0]
    cache = JwksCache(fetcher, min_refetch_seconds=60, max_age_seconds=3600, clock=lambda: clock[0])
    validator = CognitoTokenValidator(ISSUER, CLIENT, cache)
    for _ in range(3):
        validator.validate(sign(claims()))
    assert fetcher.fetches == 1
    clock[0] += 61
    for kid in ("random-1", "random-2", "random-3"):  # unknown kids: one refetch, then the floor holds
        with pytest.raises(Exception, match="unknown kid"):
            validator.validate(sign(claims(), kid=kid))
    assert fetcher.fetches == 2
    fetcher.keys.append(jwk(OTHER_KEY, "kid-2"))  # the pool rotates in a new key
    clock[0] += 61
    assert validator.validate(sign(claims(), key=OTHER_KEY, kid="kid-2")).subject == "user-123"
    assert fetcher.fetches == 3
    clock[0] += 3600
    validator.validate(sign(claims()))
    assert fetcher.fetches == 4  # refreshed after max age


def test_jwks_ignores_keys_that_are_not_rs256_signing_keys() -> None:
    enc = dict(jwk(KEY, "kid-enc"), use="enc")
    hs = {"kty": "oct", "kid": "kid-hs", "k": b64(b"secret"), "alg": "HS256"}
    validator = CognitoTokenValidator(ISSUER, CLIENT, JwksCache(LocalJwks(enc, hs)))
    with pytest.raises(Exception, match="unknown kid"):
        validator.validate(sign(claims(), kid="kid-enc"))


def test_settings_derive_region_from_pool_id() -> None:
    settings = load_authorizer_settings({"COGNITO_USER_POOL_ID": POOL, "COGNITO_CLIENT_ID": CLIENT})
    assert settings.region == REGION and settings.issuer == ISSUER and settings.allow_anonymous_listeners is False
    assert settings.jwks_url == f"{ISSUER}/.well-known/jwks.json"
    explicit = load_authorizer_settings({"COGNITO_USER_POOL_ID": "pool", "COGNITO_CLIENT_ID": CLIENT,
                                         "COGNITO_REGION": "ap-south-1", "ALLOW_ANONYMOUS_LISTENERS": "true"})
    assert explicit.region == "ap-south-1" and explicit.allow_anonymous_listeners is True


def test_one_failed_cold_start_fetch_is_retried_within_two_seconds() -> None:
    """A failed first JWKS fetch must not deny every valid token for the refetch floor."""
    outcomes = [OSError("network blip")]
    fetcher = LocalJwks(jwk(KEY, "kid-1"))

    def flaky() -> dict[str, Any]:
        if outcomes:
            raise outcomes.pop()
        return fetcher()

    clock = [1000.0]
    validator = CognitoTokenValidator(ISSUER, CLIENT, JwksCache(flaky, min_refetch_seconds=60, clock=lambda: clock[0]))
    with pytest.raises(Exception, match="signing keys unavailable"):
        validator.validate(sign(claims()))
    clock[0] += 0.5  # too soon: no second fetch storm
    with pytest.raises(Exception, match="signing keys unavailable"):
        validator.validate(sign(claims()))
    assert fetcher.fetches == 0
    clock[0] += 1.0
    assert validator.validate(sign(claims())).subject == "user-123"
    assert fetcher.fetches == 1
    print("\nFAULT|authorizer: one failed cold-start JWKS fetch (retried after 1 s)|survived")


class SlowDrip:
    """A real HTTP server that answers 200 and then drips the JWKS a byte at a time."""

    def __init__(self, body: bytes, interval: float) -> None:
        import socket
        import threading

        self.body, self.interval = body, interval
        self.finished = threading.Event()
        self.stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}/.well-known/jwks.json"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self._server.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(self.body)).encode() + b"\r\n\r\n")
            for byte in self.body:
                if self.stop.wait(self.interval):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
            self.finished.set()

    def close(self) -> None:
        self.stop.set()
        self._server.close()


def test_slow_drip_jwks_hits_the_overall_deadline_and_denies() -> None:
    """Each read arrives well within a socket timeout, yet the whole fetch must end at the deadline."""
    from session_management.authorizer.jwt_validation import JwksDeadlineExceeded, deadline_fetcher

    body = json.dumps({"keys": [jwk(KEY, "kid-1")]}).encode()
    server = SlowDrip(body, interval=0.05)  # ~40 s for the whole document
    try:
        fetch = deadline_fetcher(server.url, deadline_seconds=0.5)
        with pytest.raises(JwksDeadlineExceeded):
            fetch()
        assert not server.finished.is_set()  # gave up while the server was still dripping
        settings = AuthorizerSettings(POOL, CLIENT, REGION, True)
        authorizer.configure(settings, CognitoTokenValidator(settings.issuer, CLIENT, JwksCache(fetch)))
        assert effect(authorize({"role": "speaker", "token": sign(claims())})) == "Deny"
        assert not server.finished.is_set()
        print("\nFAULT|authorizer: slow-drip JWKS response (overall deadline, deny)|survived")
    finally:
        authorizer.reset()
        server.close()


def test_deadline_fetcher_reads_a_prompt_jwks() -> None:
    from session_management.authorizer.jwt_validation import deadline_fetcher

    body = json.dumps({"keys": [jwk(KEY, "kid-1")]}).encode()
    server = SlowDrip(body, interval=0.0)
    try:
        assert deadline_fetcher(server.url, deadline_seconds=5)()["keys"][0]["kid"] == "kid-1"
    finally:
        server.close()


def test_authorizer_arbitrary_unicode_query_never_raises(install: Any) -> None:
    """Arbitrary unicode (lone surrogates included) in query keys and values, >= 1,000 examples:
    a policy every time, never an exception, Allow only for an anonymous listener."""
    import os

    from common.tests.unicode_strategies import any_char
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    examples = int(os.environ.get("FUZZ_EXAMPLES", "1000"))
    any_text = st.text(alphabet=any_char, max_size=40)
    install(allow_anonymous=True)
    tally = {"examples": 0, "unhandled": 0}

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(query=st.dictionaries(st.one_of(any_text, st.sampled_from(["role", "token"])), any_text, max_size=4))
    def check(query: dict[str, str]) -> None:
        tally["examples"] += 1
        try:
            response = authorize(query)
        except Exception:  # noqa: BLE001 - counted
            tally["unhandled"] += 1
            return
        if effect(response) == "Allow":  # no arbitrary text is a valid token: only anonymous listeners get in
            assert (query.get("role") or "listener") == "listener" and not query.get("token"), query
            assert response["context"] == {"role": "listener", "userId": ""}

    check()
    print(f"\nFUZZ|authorizer ($connect)|{tally['examples']}|{tally['unhandled']}|0")
    assert tally["unhandled"] == 0


def test_settings_take_an_explicit_issuer_and_jwks_url() -> None:
    settings = load_authorizer_settings({"COGNITO_USER_POOL_ID": POOL, "COGNITO_CLIENT_ID": CLIENT,
                                         "TOKEN_ISSUER": "http://127.0.0.1:8787/local/",
                                         "TOKEN_JWKS_URL": "http://127.0.0.1:8787/local/.well-known/jwks.json"})
    assert settings.issuer == "http://127.0.0.1:8787/local"
    assert settings.jwks_url == "http://127.0.0.1:8787/local/.well-known/jwks.json"


@pytest.mark.parametrize("url", ["http://example.com/jwks.json", "ftp://127.0.0.1/jwks.json", "http://10.0.0.1/jwks.json"])
def test_jwks_fetcher_refuses_plain_http_off_loopback(url: str) -> None:
    from session_management.authorizer.jwt_validation import http_jwks_fetcher

    with pytest.raises(ValueError, match="https"):
        http_jwks_fetcher(url)


@pytest.mark.parametrize("url", ["https://cognito-idp.eu-west-1.amazonaws.com/p/.well-known/jwks.json",
                                 "http://127.0.0.1:8787/local/.well-known/jwks.json", "http://localhost:1/j"])
def test_jwks_fetcher_accepts_https_and_loopback(url: str) -> None:
    from session_management.authorizer.jwt_validation import http_jwks_fetcher

    assert callable(http_jwks_fetcher(url))

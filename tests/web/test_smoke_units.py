"""The smoke client's parts that need no running stack: stack outputs, audio, Cognito sign-in."""

from __future__ import annotations

import io
import json
import wave

import boto3
import jwt
import numpy as np
import pytest
from moto.server import ThreadedMotoServer

from clients.smoke import CHUNK_BYTES, SmokeFailure, TestUser, check_web_client, chunks, load_recording, target_from_outputs
from tests.web.conftest import _free_port


def test_target_from_stack_outputs():
    target = target_from_outputs("dev", {"websocket_url": "wss://abc.execute-api.eu-west-1.amazonaws.com/live",
                                         "user_pool_id": "eu-west-1_AbC", "user_pool_client_id": "client1"})
    assert (target.region, target.auth) == ("eu-west-1", {"kind": "cognito", "userPoolId": "eu-west-1_AbC", "clientId": "client1"})
    assert target.web_url is None
    with pytest.raises(SmokeFailure, match="user_pool_id"):
        target_from_outputs("dev", {"websocket_url": "wss://x"})


def test_recording_is_converted_to_16_khz_mono_and_chunked(tmp_path):
    rate = 44100
    t = np.arange(int(rate * 1.25)) / rate
    tone = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    path = tmp_path / "stereo.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.repeat(tone, 2).tobytes())
    pcm = load_recording(path)
    assert abs(len(pcm) / 2 - 1.25 * 16000) < 2
    parts = chunks(pcm)
    assert len(parts) == 13 and {len(p) for p in parts} == {CHUNK_BYTES}  # the 50 ms tail padded to 100 ms


def test_short_or_wrong_recordings_are_refused(tmp_path):
    path = tmp_path / "short.wav"
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(bytes(3200))
    path.write_bytes(buffer.getvalue())
    with pytest.raises(SmokeFailure, match="shorter"):
        load_recording(path)


@pytest.fixture
def cognito(monkeypatch):
    """moto's Cognito on loopback, reached through the standard endpoint variable."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("cognito-idp", region_name="us-east-1", endpoint_url=endpoint)
    pool = client.create_user_pool(PoolName="speakers")["UserPool"]["Id"]
    app = client.create_user_pool_client(UserPoolId=pool, ClientName="speaker-app",
                                         ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    yield client, pool, app["UserPoolClient"]["ClientId"]
    server.stop()


def test_a_temporary_cognito_user_signs_in_and_is_deleted(cognito):
    client, pool, client_id = cognito
    target = target_from_outputs("dev", {"websocket_url": "wss://x", "user_pool_id": pool, "user_pool_client_id": client_id})
    user = TestUser(target, None, None)
    token = user.sign_in()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["token_use"] == "access" and claims["client_id"] == client_id
    assert [u["Username"] for u in client.list_users(UserPoolId=pool)["Users"]] == [user.username]
    user.clean_up()
    assert client.list_users(UserPoolId=pool)["Users"] == []


def test_a_given_cognito_user_is_kept(cognito):
    client, pool, client_id = cognito
    client.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
    client.admin_set_user_password(UserPoolId=pool, Username="alice", Password="Correct-Horse-42", Permanent=True)
    target = target_from_outputs("dev", {"websocket_url": "wss://x", "user_pool_id": pool, "user_pool_client_id": client_id})
    user = TestUser(target, "alice", "Correct-Horse-42")
    assert user.sign_in()
    user.clean_up()
    assert [u["Username"] for u in client.list_users(UserPoolId=pool)["Users"]] == ["alice"]
    with pytest.raises(SmokeFailure, match="400"):
        TestUser(target, "alice", "wrong-password").sign_in()


def test_web_client_check_compares_config_json_with_the_stack(tmp_path):
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    for page in ("speaker.html", "listener.html"):
        (tmp_path / page).write_text("<!doctype html><html></html>")
    (tmp_path / "config.json").write_text(json.dumps({"websocketUrl": "wss://old.example/live"}))
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    server.RequestHandlerClass.log_message = lambda *args: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        outputs = {"websocket_url": "wss://new.example/live", "user_pool_id": "us-east-1_x", "user_pool_client_id": "c",
                   "web_url": f"http://127.0.0.1:{server.server_address[1]}/"}
        with pytest.raises(SmokeFailure, match="old.example"):
            check_web_client(target_from_outputs("dev", outputs))
        (tmp_path / "config.json").write_text(json.dumps({"websocketUrl": "wss://new.example/live"}))
        assert check_web_client(target_from_outputs("dev", outputs)).startswith("web client served at")
    finally:
        server.shutdown()

"""The speaker page signs in to a Cognito user pool the way a deployed stack's config.json asks
(InitiateAuth, USER_PASSWORD_AUTH, from the browser), against moto's Cognito on loopback."""

from __future__ import annotations

import json
from http.server import SimpleHTTPRequestHandler

import boto3
import jwt
import pytest
from moto.server import ThreadedMotoServer

from tests.web.conftest import _free_port, new_page, serve_web


@pytest.fixture(scope="module")
def cognito():
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}/"
    client = boto3.client("cognito-idp", region_name="us-east-1", endpoint_url=endpoint,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    pool = client.create_user_pool(PoolName="speakers")["UserPool"]["Id"]
    client_id = client.create_user_pool_client(
        UserPoolId=pool, ClientName="speaker-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    client.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
    client.admin_set_user_password(UserPoolId=pool, Username="alice", Password="Correct-Horse-42", Permanent=True)
    yield endpoint, pool, client_id
    server.stop()


@pytest.fixture(scope="module")
def site(cognito):
    """web/ with the config.json a deployed stack gets (plus the stand-in's endpoint)."""
    endpoint, pool, client_id = cognito
    config = json.dumps({"websocketUrl": f"ws://127.0.0.1:{_free_port()}/ws", "region": "us-east-1", "stack": "dev",
                         "auth": {"kind": "cognito", "userPoolId": pool, "clientId": client_id, "endpoint": endpoint}})

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self):
            if self.path.split("?")[0] == "/config.json":
                body = config.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            super().do_GET()

    with serve_web(Handler) as url:
        yield url


def test_speaker_signs_in_with_the_user_pool(browser, site, cognito):
    _, _, client_id = cognito
    page = new_page(browser)
    page.goto(f"{site}/speaker.html")
    assert page.is_visible("#password")  # Cognito needs a password; local mode does not
    page.fill("#username", "alice")
    page.fill("#password", "wrong-password-1")
    page.click("#sign-in-button")
    page.wait_for_selector("#sign-in-error:not([hidden])")
    assert "Wrong user name or password" in page.text_content("#sign-in-error")

    page.fill("#password", "Correct-Horse-42")
    page.click("#sign-in-button")
    page.wait_for_function("() => window.speakerApp.auth.signedIn")
    claims = jwt.decode(page.evaluate("() => window.speakerApp.auth.accessToken"), options={"verify_signature": False})
    assert claims["client_id"] == client_id and claims["token_use"] == "access"
    assert page.evaluate("() => window.speakerApp.auth.refreshToken")
    assert page.input_value("#password") == ""  # the password is not kept in the page
    # No backend listens at this config's WebSocket URL: the page says so.
    page.wait_for_selector("#sign-in-error:not([hidden])")
    assert "refused the connection" in page.text_content("#sign-in-error")

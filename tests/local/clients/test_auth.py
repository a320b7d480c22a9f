"""Tokens for the reference clients: a deployed stack's outputs and Cognito USER_PASSWORD_AUTH (moto's Cognito)."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from clients import auth


def test_outputs_give_the_url_pool_client_and_region(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"websocket_url": "wss://abc.execute-api.eu-west-1.amazonaws.com/live",
                                "user_pool_id": "eu-west-1_AbCdEf", "user_pool_client_id": "client123"}))
    target = auth.from_outputs(path)
    assert target.websocket_url == "wss://abc.execute-api.eu-west-1.amazonaws.com/live"
    assert target.region == "eu-west-1"
    assert target.auth == {"kind": "cognito", "userPoolId": "eu-west-1_AbCdEf", "clientId": "client123"}
    assert auth.http_base("wss://abc.example/live") == "https://abc.example/"


def test_cognito_user_password_sign_in(monkeypatch):
    moto = pytest.importorskip("moto")
    import boto3

    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        idp = boto3.client("cognito-idp", region_name="us-east-1")
        pool = idp.create_user_pool(PoolName="speakers")["UserPool"]["Id"]
        client = idp.create_user_pool_client(UserPoolId=pool, ClientName="web",
                                             ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
        client_id = client["UserPoolClient"]["ClientId"]
        idp.admin_create_user(UserPoolId=pool, Username="alice", TemporaryPassword="Temp-pass-123!")
        idp.admin_set_user_password(UserPoolId=pool, Username="alice", Password="Real-pass-123!", Permanent=True)
        target = auth.Target("wss://x/live", {"kind": "cognito", "userPoolId": pool, "clientId": client_id}, "us-east-1")

        async def sign_in(password: str | None) -> str:
            async with aiohttp.ClientSession() as session:
                return await auth.token_for(session, target, "alice", password)

        token = asyncio.run(sign_in("Real-pass-123!"))
        assert token.count(".") == 2
        with pytest.raises(SystemExit, match="password"):
            asyncio.run(sign_in(None))

"""Fixtures: moto DynamoDB with the data-model tables, settings pointing at them."""

from __future__ import annotations

import dataclasses
import time

import boto3
import pytest
from moto import mock_aws

from translation_pipeline.settings import TranslationSettings
from translation_pipeline.tests.fakes import CACHE, CONNECTIONS, INDEX, SESSIONS, create_tables


@pytest.fixture
def aws_env(monkeypatch):
    """Credentials and region that can never reach a real account."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="session")
def boto_session():
    """One botocore session for every test: service models load once (a fresh client costs ~0.15 s)."""
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


@pytest.fixture
def ddb(aws_env, boto_session):
    """A moto DynamoDB client with Sessions, Connections (+ BySessionLanguage) and the cache table."""
    with mock_aws():
        client = boto_session.client("dynamodb")
        create_tables(client)
        yield client


@pytest.fixture
def now():
    """The test's wall clock (epoch seconds)."""
    return time.time()


@pytest.fixture
def settings():
    """Settings for the moto tables; tiny retry delays (tests inject a no-op sleep anyway)."""
    return TranslationSettings(sessions_table=SESSIONS, connections_table=CONNECTIONS, connections_index=INDEX,
                               cache_table=CACHE, websocket_endpoint="https://abc123.execute-api.us-east-1.amazonaws.com/dev",
                               cache_ttl_hours=24, broadcast_concurrency=16, max_retries=3, audio_format="mp3",
                               retry_base_delay=0.01, retry_max_delay=0.05)


@pytest.fixture
def make_processor(ddb, settings):
    """Build processors on the moto tables with fake Translate/Polly/@connections; no real sleeping."""
    from translation_pipeline.processor import build_processor
    from translation_pipeline.tests.fakes import FakeManagementApi, FakePolly, FakeTranslate

    built = []

    def make(translate=None, polly=None, api=None, sleeps=None, clock=None, **overrides):
        s = dataclasses.replace(settings, **overrides) if overrides else settings
        parts = {"translate": translate or FakeTranslate(), "polly": polly or FakePolly(), "api": api or FakeManagementApi()}
        processor = build_processor(s, dynamodb=ddb, translate=parts["translate"], polly=parts["polly"],
                                    management=parts["api"], sleep=(sleeps.append if sleeps is not None else lambda _: None),
                                    rng=lambda: 0.5, **({"clock": clock} if clock else {}))
        built.append(processor)
        return processor

    yield make
    for processor in built:
        processor.shutdown()

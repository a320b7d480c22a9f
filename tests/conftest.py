"""Fixtures for the infrastructure tests: build outputs exist, one mocked deployment per stack."""

from __future__ import annotations

import pytest

from tests.harness import STACKS, Deployment, run_stack


@pytest.fixture(scope="session")
def built_artifacts() -> None:
    """The program refuses to deploy without its zips, as `pulumi up` would; build what is missing."""
    from components.shared import artifacts
    from scripts.build_artifacts import build_code_bundle, build_layer

    for bundle in artifacts.CODE_BUNDLES:
        build_code_bundle(bundle)
    for layer in artifacts.LAYERS:
        build_layer(layer)


@pytest.fixture(scope="session")
def deployments(built_artifacts) -> dict[str, Deployment]:
    """The real program, run once per stack with that stack's own config."""
    return {stack: run_stack(stack) for stack in STACKS}


# One run of the real program with several `pulumi config set` changes at once, shared by the
# tests that show a config change reaching the deployed resource (one run instead of one each).
TUNED_STACK = "staging"
TUNED_OVERRIDES = {
    "alerting:email": "oncall@example.com",
    "api:throttlingRateLimit": 200,
    "api:throttlingBurstLimit": 400,
    "session:maxListeners": 250,
    "rateLimits:listenerJoinsPerMinute": 3,
    "session:cognitoUserPoolId": "us-east-1_abc",
    "session:cognitoClientId": "client123",
    "observability:logRetentionDays": 14,
    "alarms:lambdaErrors": 7,
    "transcription:minStabilityThreshold": 0.9,
    "transcription:partialResultsEnabled": False,
    "translation:reservedConcurrency": 33,
    "emotion:volumeLoudDb": -8,
}


@pytest.fixture(scope="session")
def tuned(built_artifacts) -> Deployment:
    """The staging stack after the TUNED_OVERRIDES `pulumi config set` changes."""
    return run_stack(TUNED_STACK, TUNED_OVERRIDES)

"""Fixtures for the infrastructure tests: build outputs exist, one mocked deployment per stack."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any, Optional

import pytest

from tests.harness import STACKS, Deployment, run_stack

CONSTRUCT_PROGRAM = Path(__file__).resolve().parent / "infra" / "construct_program.py"


@pytest.fixture(scope="session")
def built_artifacts() -> None:
    """The program refuses to deploy without its zips, as `pulumi up` would; build what is missing."""
    from components.shared import artifacts
    from scripts.build_artifacts import build_code_bundle, build_layer

    for bundle in artifacts.CODE_BUNDLES:
        build_code_bundle(bundle)
    for layer in artifacts.LAYERS:
        build_layer(layer)


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
    "account:lambdaConcurrencyQuota": 1000,
    "emotion:volumeLoudDb": -8,
}


def _run(job: tuple[str, Optional[dict[str, Any]], Optional[Path]]) -> Deployment:
    stack, overrides, main = job
    return run_stack(stack, overrides, main) if main else run_stack(stack, overrides)


@pytest.fixture(scope="session")
def mocked_runs(built_artifacts) -> dict[str, Deployment]:
    """Every mocked run the suite shares, computed once: the three stacks, the tuned stack and the
    construct probe per stack. Runs are independent, so they go to forked workers, one per core
    (each run is CPU-bound in the Pulumi runtime); with one core they run here, in order."""
    jobs = {stack: (stack, None, None) for stack in STACKS}
    jobs["tuned"] = (TUNED_STACK, TUNED_OVERRIDES, None)
    jobs.update({f"probe-{stack}": (stack, None, CONSTRUCT_PROGRAM) for stack in STACKS})
    workers = min(os.cpu_count() or 1, len(jobs))
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return {name: _run(job) for name, job in jobs.items()}
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return dict(zip(jobs, pool.map(_run, jobs.values(), chunksize=1), strict=True))


@pytest.fixture(scope="session")
def deployments(mocked_runs) -> dict[str, Deployment]:
    """The real program, run once per stack with that stack's own config."""
    return {stack: mocked_runs[stack] for stack in STACKS}


@pytest.fixture(scope="session")
def construct_runs(mocked_runs) -> dict[str, Deployment]:
    """The construct probe program (tests/infra/construct_program.py), once per stack."""
    return {stack: mocked_runs[f"probe-{stack}"] for stack in STACKS}


@pytest.fixture(scope="session")
def tuned(mocked_runs) -> Deployment:
    """The staging stack after the TUNED_OVERRIDES `pulumi config set` changes."""
    return mocked_runs["tuned"]

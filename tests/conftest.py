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

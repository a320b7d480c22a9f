"""Run the policy pack's validate functions offline on what a mocked program registered."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from pulumi_policy import PolicyResource, PolicyResourceOptions, ResourceValidationArgs, StackValidationArgs

from tests.harness import Deployment, RegisteredResource

_spec = importlib.util.spec_from_file_location("policy_rules", Path(__file__).resolve().parents[2] / "policy" / "rules.py")
rules = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rules)

_OPTIONS = PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
                                 custom_timeouts=None, additional_secret_outputs=[])


def resource_args(resource: RegisteredResource) -> ResourceValidationArgs:
    """The ResourceValidationArgs the engine would pass for this resource."""
    return ResourceValidationArgs(resource.type, resource.inputs, resource.urn or resource.name,
                                  resource.name, _OPTIONS, None)


def stack_args(resources: list[RegisteredResource]) -> StackValidationArgs:
    """The StackValidationArgs the engine would pass for these resources."""
    return StackValidationArgs([
        PolicyResource(r.type, r.inputs, r.urn or r.name, r.name, _OPTIONS, None, None, [], {}) for r in resources
    ])


def violations_of(resources: list[RegisteredResource], only: str | None = None) -> list[str]:
    """Every violation every rule (or only the named rule) reports on these resources."""
    found: list[str] = []
    for name, (_, rule) in rules.RESOURCE_RULES.items():
        if only in (None, name):
            for resource in resources:
                rule(resource_args(resource), lambda message, urn=None, n=name, r=resource: found.append(f"{n}: {r.name}: {message}"))
    for name, (_, rule) in rules.STACK_RULES.items():
        if only in (None, name):
            rule(stack_args(resources), lambda message, urn=None, n=name: found.append(f"{n}: {message}"))
    return found


def deployment_violations(deployment: Deployment) -> list[str]:
    """Every violation on a whole mocked deployment."""
    return violations_of(deployment.resources)


def fake(type_: str, logical_name: str = "broken", **inputs: Any) -> RegisteredResource:
    """A resource as the mocks would record it, for rules' negative tests."""
    return RegisteredResource(type_, logical_name, dict(inputs), dict(inputs))

"""The lock files are complete for their inputs: every direct requirement is pinned in its lock.

A requirement added to an input (requirements*.txt, layers/*/requirements.txt) without
re-running `bash scripts/lock.sh` fails here, naming the command, before a fresh machine
installs something other than what was tested.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from components.shared import artifacts

ROOT = artifacts.PROJECT_ROOT
LOCKS = {
    ROOT / "requirements.txt": ROOT / "requirements.lock.txt",
    ROOT / "requirements-dev.txt": ROOT / "requirements-dev.lock.txt",
    **{ROOT / "layers" / layer / "requirements.txt": ROOT / "layers" / layer / "requirements.lock.txt"
       for layer in artifacts.LAYERS},
}
RUNTIME_PROVIDED = set(artifacts.RUNTIME_PROVIDED)


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_requirements(path: Path) -> list[Requirement]:
    """Requirements of an input file, following `-r` includes."""
    found = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += direct_requirements(path.parent / line[3:].strip())
        elif line and not line.startswith("-"):
            found.append(Requirement(line))
    return found


def pins(lock: Path) -> dict[str, list[str]]:
    """name -> the versions a lock pins (more than one where markers split them)."""
    pinned: dict[str, list[str]] = {}
    for raw in lock.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)", raw)
        if match:
            pinned.setdefault(_name(match.group(1)), []).append(match.group(2))
    return pinned


@pytest.mark.parametrize("source", list(LOCKS), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_direct_requirement_is_pinned_in_the_lock(source):
    lock = LOCKS[source]
    assert lock.is_file(), f"{lock.relative_to(ROOT)} is missing: run `bash scripts/lock.sh`"
    pinned = pins(lock)
    is_layer = source.parent.parent.name == "layers"
    for requirement in direct_requirements(source):
        name = _name(requirement.name)
        if is_layer and name in RUNTIME_PROVIDED:
            continue
        assert name in pinned, f"{requirement} ({source.relative_to(ROOT)}) is not in {lock.relative_to(ROOT)}: run `bash scripts/lock.sh`"
        assert all(requirement.specifier.contains(v, prereleases=True) for v in pinned[name]), (
            f"{lock.relative_to(ROOT)} pins {name}=={pinned[name]}, outside {requirement}: run `bash scripts/lock.sh`")


def test_layer_locks_leave_out_what_the_runtime_provides():
    for layer in artifacts.LAYERS:
        lock = ROOT / "layers" / layer / "requirements.lock.txt"
        assert not set(pins(lock)) & RUNTIME_PROVIDED, f"{lock.relative_to(ROOT)} pins a package the Lambda runtime provides"


def test_every_runtime_provided_package_is_pinned_to_the_runtimes_version():
    assert set(pins(artifacts.RUNTIME_PINS)) == RUNTIME_PROVIDED
    assert all(len(versions) == 1 for versions in pins(artifacts.RUNTIME_PINS).values())


def test_the_tests_run_the_versions_the_layers_deploy():
    dev = pins(ROOT / "requirements-dev.lock.txt")
    for layer in artifacts.LAYERS:
        for name, versions in pins(ROOT / "layers" / layer / "requirements.lock.txt").items():
            if name in dev:
                assert set(dev[name]) == set(versions), f"{name}: tests use {dev[name]}, layer {layer} ships {versions}"

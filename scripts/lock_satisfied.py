"""Exit 0 when this interpreter has exactly what a lock file pins and nothing else, 1 (listing what differs) otherwise.

    python scripts/lock_satisfied.py requirements-dev.lock.txt
    python scripts/lock_satisfied.py --unlocked requirements-dev.lock.txt   # installed, but in no lock

The second form prints (one a line) distributions installed here that the lock does not name,
for scripts/test.sh to uninstall: a package dropped from the lock must not linger in the
test environment and hide a missing dependency.

scripts/test.sh runs it before `pip install -r <lock>` so that an environment that already
matches the lock costs a fraction of a second instead of a pip resolve. Standard library only,
plus the `packaging` that pip vendors, for environment markers.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

try:
    from packaging.markers import Marker
except ImportError:  # pragma: no cover - pip always vendors it
    from pip._vendor.packaging.markers import Marker

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;]+)\s*(?:;\s*(.+))?$")


def normalized(name: str) -> str:
    """PEP 503 name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def differences(lock: Path) -> list[str]:
    """'name: locked X, installed Y' for every pin that applies here and is not installed as pinned."""
    problems = []
    for raw in lock.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        match = PIN.match(line)
        if not match:
            problems.append(f"unreadable lock line: {raw!r}")
            continue
        name, _, version, marker = match.groups()
        if marker and not Marker(marker).evaluate():
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            problems.append(f"{normalized(name)}: locked {version}, installed {installed}")
    return problems


# What every virtualenv has, lock or not.
ENVIRONMENT_TOOLS = {"pip", "setuptools", "wheel"}


def unlocked(locks: list[Path]) -> list[str]:
    """Installed distributions that no given lock names."""
    named = set()
    for lock in locks:
        for raw in lock.read_text().splitlines():
            match = PIN.match(raw.split(" #", 1)[0].strip())
            if match:
                named.add(normalized(match.group(1)))
    installed = {normalized(d.metadata["Name"]) for d in metadata.distributions() if d.metadata["Name"]}
    return sorted(installed - named - ENVIRONMENT_TOOLS)


def main(argv: list[str]) -> int:
    """Check every lock named on the command line."""
    if argv[:1] == ["--unlocked"]:
        for name in unlocked([Path(lock) for lock in argv[1:]]):
            print(name)
        return 0
    problems = [problem for lock in argv for problem in differences(Path(lock))]
    problems += [f"{name}: installed, in no lock" for name in unlocked([Path(lock) for lock in argv])]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

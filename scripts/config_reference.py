"""Regenerate the stack config reference in README.md from components/config.py and the stack files.

    python scripts/config_reference.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components.config import LOG_RETENTION_DAYS, all_keys  # noqa: E402
from tests.harness import STACKS, stack_config  # noqa: E402

BEGIN = "<!-- config-reference:begin -->"
END = "<!-- config-reference:end -->"
KIND_NAMES = {bool: "true/false", str: "text", int: "integer", float: "number"}


def _allowed(meta: dict) -> str:
    if meta["choices"] == LOG_RETENTION_DAYS:
        return "a CloudWatch retention: 1, 3, 5, 7, 14, 30, 60, 90, 120, ... days"
    if meta["choices"]:
        return "one of " + ", ".join(str(choice) for choice in meta["choices"])
    if meta["minimum"] is not None:
        return f"{meta['minimum']:g} to {meta['maximum']:g}"
    return KIND_NAMES[meta["kind"]]


def reference() -> str:
    """The markdown tables, one per namespace."""
    configs = {stack: stack_config(stack) for stack in STACKS}
    lines: list[str] = []
    namespace = None
    for ns, key, meta in all_keys():
        if ns != namespace:
            namespace = ns
            lines += ["", f"**`{ns}:`**", "", "| key | meaning | allowed | dev | staging | prod |", "|---|---|---|---|---|---|"]
        values = [configs[stack][f"{ns}:{key}"] or "(empty)" for stack in STACKS]
        lines.append(f"| `{key}` | {meta['doc']} | {_allowed(meta)} | {' | '.join(values)} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    """Rewrite the block between the markers in README.md."""
    readme = ROOT / "README.md"
    text = readme.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    readme.write_text(f"{head}{BEGIN}\n{reference()}{END}{tail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Decoding a client's JSON object with every key named once.

API Gateway routes on one occurrence of a repeated key and ``json.loads`` keeps another, so a
message naming a key twice is refused outright rather than read one way and routed another.
"""

from __future__ import annotations

from typing import Any


class DuplicateField(ValueError):
    """A JSON object names the same key twice."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for ``json.loads``: the object as a dict, or ``DuplicateField`` on a repeated key."""
    decoded: dict[str, Any] = {}
    for name, value in pairs:
        if name in decoded:
            raise DuplicateField(name)
        decoded[name] = value
    return decoded

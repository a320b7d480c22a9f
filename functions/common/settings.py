"""Typed reading of a function's environment, once per container.

Each function package declares a frozen dataclass of its settings and builds it with
these readers; a missing or malformed variable raises ``SettingsError`` naming it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


class SettingsError(RuntimeError):
    """An environment variable the function needs is missing or malformed."""


def _raw(name: str, env: Mapping[str, str] | None, default: str | None) -> str:
    value = (env if env is not None else os.environ).get(name, default)
    if value is None:
        raise SettingsError(f"environment variable {name} is required")
    return value


def env_str(name: str, default: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """A string variable."""
    return _raw(name, env, default)


def env_int(name: str, default: int | None = None, env: Mapping[str, str] | None = None) -> int:
    """An integer variable."""
    raw = _raw(name, env, None if default is None else str(default))
    try:
        return int(float(raw))
    except ValueError:
        raise SettingsError(f"environment variable {name} must be an integer, got {raw!r}") from None


def env_float(name: str, default: float | None = None, env: Mapping[str, str] | None = None) -> float:
    """A number variable."""
    raw = _raw(name, env, None if default is None else str(default))
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"environment variable {name} must be a number, got {raw!r}") from None


def env_bool(name: str, default: bool | None = None, env: Mapping[str, str] | None = None) -> bool:
    """A boolean variable ('true' or 'false')."""
    raw = _raw(name, env, None if default is None else str(default).lower()).strip().lower()
    if raw not in ("true", "false"):
        raise SettingsError(f"environment variable {name} must be true or false, got {raw!r}")
    return raw == "true"

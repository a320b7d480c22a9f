"""The $connect authorization decision and the IAM policy API Gateway expects back.

Rules (docs/protocol.md): ``role`` is ``speaker`` or ``listener`` (absent means listener; any
other value is denied). Speakers need a valid token. Listeners with a token need a valid one
(an invalid token is denied, never downgraded to anonymous); listeners without one are
allowed only when anonymous listeners are enabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from common.tables import ROLE_LISTENER, ROLE_SPEAKER

from session_management.authorizer.jwt_validation import CognitoTokenValidator, TokenRejected

ALLOW = "Allow"
DENY = "Deny"
ANONYMOUS_PRINCIPAL = "anonymous"


@dataclass(frozen=True)
class Decision:
    """Allow or Deny, with the identity handed to the routes and a loggable reason."""

    effect: str
    role: str
    user_id: str
    reason: str


def deny(reason: str, role: str = "") -> Decision:
    """A denial; ``reason`` goes to logs only."""
    return Decision(DENY, role, "", reason)


def decide(query: Mapping[str, Any] | None, validator: CognitoTokenValidator, allow_anonymous_listeners: bool) -> Decision:
    """Decide on one $connect request from its query string."""
    query = query or {}
    role = query.get("role") or ROLE_LISTENER
    if role not in (ROLE_SPEAKER, ROLE_LISTENER):
        return deny("unknown role")
    token = query.get("token")
    if token is None or token == "":
        if role == ROLE_LISTENER and allow_anonymous_listeners:
            return Decision(ALLOW, ROLE_LISTENER, "", "anonymous listener")
        return deny("missing token", role)
    try:
        verified = validator.validate(token)
    except TokenRejected as rejected:
        return deny(rejected.reason, role)
    return Decision(ALLOW, role, verified.subject, f"valid {verified.token_use} token")


def policy(decision: Decision, method_arn: str) -> dict[str, Any]:
    """The authorizer response: an IAM policy on the $connect method plus the identity context."""
    return {
        "principalId": decision.user_id or ANONYMOUS_PRINCIPAL,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": decision.effect, "Resource": method_arn or "*"}],
        },
        "context": {"role": decision.role, "userId": decision.user_id},
    }

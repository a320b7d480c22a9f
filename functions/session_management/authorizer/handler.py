"""REQUEST authorizer of $connect. Configure it with NO identity source: with
``route.request.querystring.token`` as identity source API Gateway would reject tokenless
(anonymous listener) connections before this code runs. Fails closed: any error denies."""

from __future__ import annotations

from typing import Any

from common.observability import lambda_entry, logger, metrics

from session_management.authorizer.jwt_validation import CognitoTokenValidator, JwksCache, http_jwks_fetcher
from session_management.authorizer.policy import ALLOW, Decision, decide, deny, policy
from session_management.settings import AuthorizerSettings, load_authorizer_settings

_state: dict[str, Any] = {}


def configure(settings: AuthorizerSettings, validator: CognitoTokenValidator) -> None:
    """Install settings and validator (tests; production builds them lazily from the environment)."""
    _state["settings"] = settings
    _state["validator"] = validator


def reset() -> None:
    """Forget the container's settings, validator and JWKS cache (tests)."""
    _state.clear()


def _configured() -> tuple[AuthorizerSettings, CognitoTokenValidator]:
    if "validator" not in _state:
        settings = load_authorizer_settings()
        jwks = JwksCache(http_jwks_fetcher(settings.jwks_url))
        configure(settings, CognitoTokenValidator(settings.issuer, settings.client_id, jwks))
    return _state["settings"], _state["validator"]


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Return an Allow or Deny policy for the $connect request (never raises)."""
    method_arn = ""
    try:
        method_arn = str(event.get("methodArn") or "")
        settings, validator = _configured()
        query = event.get("queryStringParameters")
        decision = decide(query if isinstance(query, dict) else None, validator, settings.allow_anonymous_listeners)
    except Exception:  # noqa: BLE001 - fail closed on anything unexpected
        logger.exception("authorizer error; denying")
        metrics.add_metric(name="ErrorCount", unit="Count", value=1)
        decision = deny("authorizer error")
    _record(decision)
    return policy(decision, method_arn)


def _record(decision: Decision) -> None:
    # Only the decision and reason are logged: the token (query string) never is.
    if decision.effect == ALLOW:
        logger.info("connection authorized", extra={"role": decision.role, "reason": decision.reason})
        metrics.add_metric(name="ConnectionsAuthorized", unit="Count", value=1)
        return
    logger.info("connection denied", extra={"role": decision.role, "reason": decision.reason})
    metrics.add_metric(name="AuthorizationDenied", unit="Count", value=1)
    metrics.add_metric(name="ConnectionErrors", unit="Count", value=1)

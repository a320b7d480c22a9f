"""Posting envelopes to the speaker's connection (API Gateway management API).

410 Gone means the connection is closed: nothing to do (the session component cleans up).
429 is retried a few times with jittered backoff. Any other failure is logged; a reply that
cannot be delivered never breaks the handler or the worker.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError as AwsClientError
from common.envelope import encode
from common.observability import logger

_THROTTLED = {"LimitExceededException", "TooManyRequestsException", "ThrottlingException"}


class Replier:
    """Sends envelopes to connections; ``send`` returns True when the post succeeded."""

    def __init__(self, client: Any, max_attempts: int = 3, base_delay: float = 0.05,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._max_attempts = max(1, max_attempts)
        self._base_delay = base_delay
        self._sleep = sleep

    def send(self, connection_id: str, envelope: dict[str, Any]) -> bool:
        """Post one envelope (never raises)."""
        try:
            data = encode(envelope)
        except Exception as error:  # noqa: BLE001 - an unencodable reply is a failed post, never a crash
            logger.warning("reply could not be encoded", extra={"connectionId": connection_id, "error": type(error).__name__})
            return False
        for attempt in range(1, self._max_attempts + 1):
            try:
                self._client.post_to_connection(ConnectionId=connection_id, Data=data)
                return True
            except AwsClientError as error:
                response = error.response or {}
                code = str(response.get("Error", {}).get("Code", ""))
                status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
                if code == "GoneException" or status == 410:
                    return False
                if (code in _THROTTLED or status == 429) and attempt < self._max_attempts:
                    self._sleep(random.uniform(0, self._base_delay * 2 ** (attempt - 1)))
                    continue
                logger.warning("post_to_connection failed", extra={"connectionId": connection_id, "error": code})
                return False
            except Exception as error:  # noqa: BLE001 - a failed reply must not break the caller
                logger.warning("post_to_connection failed", extra={"connectionId": connection_id, "error": type(error).__name__})
                return False
        return False

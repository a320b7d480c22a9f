"""Human-friendly, unguessable session ids: ``word-word-NNNN``.

Two words drawn independently from the 7,772-word EFF list and four decimal digits, all from
``secrets`` (the OS CSPRNG): 7,772^2 x 10^4 ~= 6.04 x 10^11 ids, log2 ~= 39.1 bits. With 100
active sessions an attacker needs ~6 x 10^9 guesses per hit, and listener joins are rate
limited per source IP (RATE_LISTENER_JOINS_PER_MINUTE), so guessing is not a practical way
in. Uniqueness is enforced by the conditional put in ``sessions.SessionRepository.create``,
not by the generator.
"""

from __future__ import annotations

import math
import re
import secrets

from session_management.wordlist import WORDS

DIGITS = 4
SESSION_ID_PATTERN = re.compile(r"^[a-z]{3,9}-[a-z]{3,9}-[0-9]{4}$")
MAX_SESSION_ID_LENGTH = 9 + 1 + 9 + 1 + DIGITS

_WORD_SET = frozenset(WORDS)


def entropy_bits() -> float:
    """Entropy of one generated id, in bits."""
    return 2 * math.log2(len(WORDS)) + DIGITS * math.log2(10)


def generate_session_id() -> str:
    """A new random id such as ``golden-eagle-4821`` (collisions are handled by the caller)."""
    first = secrets.choice(WORDS)
    second = secrets.choice(WORDS)
    number = secrets.randbelow(10**DIGITS)
    return f"{first}-{second}-{number:0{DIGITS}d}"


def normalize_session_id(raw: str) -> str | None:
    """The canonical form of a typed id (trimmed, lower case), or None when it cannot be one."""
    candidate = raw.strip().lower()
    if len(candidate) > MAX_SESSION_ID_LENGTH or not SESSION_ID_PATTERN.match(candidate):
        return None
    first, second, _ = candidate.split("-")
    if first not in _WORD_SET or second not in _WORD_SET:
        return None
    return candidate

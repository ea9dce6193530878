"""Request signing between an aggregator and Kvit (ADR 6): both sides use these functions,
Kvit to check a request, the test bank (`kvit.online.testbank`) to sign one.

A request carries two headers: `X-Kvit-Timestamp`, the Unix time it was signed at, and
`X-Kvit-Signature`, the hex HMAC-SHA256, under the aggregator's secret, of

    timestamp + "." + METHOD + "." + path + "." + raw body

The method and the path are signed too, so a signed request cannot be replayed against
another operation or another transaction (a perform's empty body would otherwise do for a
cancel). The body is verified byte for byte as received, before it is parsed.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from enum import StrEnum

from kvit.online.models import DEFAULT_TOLERANCE, Aggregator

SIGNATURE_HEADER = "X-Kvit-Signature"
TIMESTAMP_HEADER = "X-Kvit-Timestamp"
UNKNOWN_KEY = "-" * 64
"""Compared against when no aggregator is known, so that a request for an unknown one takes
as long to refuse as a badly signed one."""


class Refusal(StrEnum):
    """Why a request is refused before anything else is looked at (HTTP 401)."""

    SIGNATURE_MISSING = "signature_missing"
    TIMESTAMP_INVALID = "timestamp_invalid"
    SIGNATURE_INVALID = "signature_invalid"


def signature(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    message = f"{timestamp}.{method.upper()}.{path}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    aggregator: Aggregator | None,
    timestamp: str | None,
    given: str | None,
    method: str,
    path: str,
    body: bytes,
    now: datetime,
) -> Refusal | None:
    """None when the request is signed by `aggregator` with a fresh timestamp, else why
    not. An unknown or inactive aggregator is refused like a wrong signature: a caller
    without a secret learns nothing about which aggregators exist."""
    if not given or not timestamp:
        return Refusal.SIGNATURE_MISSING
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return Refusal.TIMESTAMP_INVALID
    tolerance = aggregator.tolerance if aggregator else DEFAULT_TOLERANCE
    if abs(now.timestamp() - int(timestamp)) > tolerance:
        return Refusal.TIMESTAMP_INVALID
    secrets = aggregator.secrets_at(now) if aggregator and aggregator.is_active else []
    matched = False
    for secret in secrets or [UNKNOWN_KEY]:
        expected = signature(secret, timestamp, method, path, body)
        matched |= hmac.compare_digest(expected.encode(), given.strip().lower().encode())
    return None if matched and secrets else Refusal.SIGNATURE_INVALID


def signed_headers(
    secret: str, method: str, path: str, body: bytes, timestamp: int
) -> dict[str, str]:
    """The two headers of a request signed with `secret` at `timestamp` (Unix seconds)."""
    stamp = str(timestamp)
    return {
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: signature(secret, stamp, method, path, body),
    }

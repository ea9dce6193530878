"""The test bank: a payment aggregator's side of the online payment API, built in, for the
demo (`kvit testbank pay …` against the running server) and the tests (the same requests
sent to Django's test client).

It builds the requests an aggregator sends, signs them as ADR 6 says, and hands them to a
transport: `over_http(url)` for a running server, or any function with the same signature.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from kvit.online.signing import signed_headers

CODE = "testbank"
"""The test bank's aggregator code in the demo organisations."""
DEMO_SECRET = "kvit-demo-testbank-secret-0123456789"  # noqa: S105  # pragma: allowlist secret
"""The demo's test-bank secret: published, like the demo passwords. Never use it elsewhere."""
DEFAULT_TENANT = "demo-uk"
"""The demo management company, which `kvit testbank` pays unless told otherwise."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


Transport = Callable[[str, str, bytes, dict[str, str]], Reply]
"""send(method, path, body, headers) → the reply."""


def parsed(content: bytes) -> dict[str, Any]:
    try:
        body = json.loads(content or b"{}")
    except ValueError:
        return {"code": "not_json", "message": content[:200].decode(errors="replace")}
    return body if isinstance(body, dict) else {"value": body}


def over_http(base_url: str, timeout: float = 10.0) -> Transport:
    """Send to a running Kvit at `base_url` (http or https), e.g. http://127.0.0.1:8000."""
    if urlsplit(base_url).scheme not in ("http", "https"):
        raise ValueError(f"{base_url!r} is not an http(s) URL")

    def send(method: str, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        request = urllib.request.Request(  # noqa: S310 -- the scheme is checked above
            base_url.rstrip("/") + quote(path),
            data=body or None,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json", **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return Reply(response.status, parsed(response.read()), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Reply(error.code, parsed(error.read()), dict(error.headers))

    return send


@dataclass
class TestBank:
    """The aggregator `aggregator` of the organisation `tenant`, holding its secret."""

    __test__ = False  # not a pytest test class

    tenant: str
    secret: str
    send: Transport
    aggregator: str = CODE
    clock: Callable[[], float] = time.time

    def request(
        self,
        method: str,
        tail: str,
        payload: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        path = f"/api/online/{self.tenant}/{self.aggregator}/{tail}"
        body = json.dumps(payload).encode() if payload is not None else b""
        signed = signed_headers(self.secret, method, path, body, int(self.clock()))
        return self.send(method, path, body, {**signed, **(headers or {})})

    def check(self, account: str) -> Reply:
        return self.request("GET", f"accounts/{account}")

    def create(
        self,
        transaction_id: str,
        account: str,
        amount: str,
        *,
        fee: str = "0.00",
        period: str | None = None,
        key: str | None = None,
    ) -> Reply:
        payload: dict[str, Any] = {
            "transaction_id": transaction_id,
            "account": account,
            "amount": amount,
            "fee": fee,
        }
        if period:
            payload["period"] = period
        return self.request("POST", "transactions", payload, _key(key))

    def perform(self, transaction_id: str, *, key: str | None = None) -> Reply:
        return self.request("POST", f"transactions/{transaction_id}/perform", None, _key(key))

    def cancel(self, transaction_id: str, reason: str, *, key: str | None = None) -> Reply:
        return self.request(
            "POST", f"transactions/{transaction_id}/cancel", {"reason": reason}, _key(key)
        )

    def status(self, transaction_id: str) -> Reply:
        return self.request("GET", f"transactions/{transaction_id}")

    def pay(
        self, account: str, amount: str, transaction_id: str = ""
    ) -> tuple[Reply, Reply | None]:
        """A whole payment: create, then perform unless the create was refused."""
        transaction_id = transaction_id or f"tb-{uuid.uuid4().hex[:16]}"
        created = self.create(transaction_id, account, amount)
        return created, (self.perform(transaction_id) if created.ok else None)


def _key(key: str | None) -> dict[str, str] | None:
    return {"Idempotency-Key": key} if key else None

"""Helpers for the online payment tests: `open_shop`, an organisation with an account that
owes 500.00 (300.00 for water, 200.00 for heating, January 2024) and the test bank's
contract with it, whose requests go to Django's test client. February 2024 is open too,
with nothing billed: payments made today belong to it, and the recalculation a payment
triggers (February) proposes nothing (the charges are posted by hand, the account has no
connected services)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.test import Client

from kvit.ledger.actions import post_entries
from kvit.ledger.models import LedgerEntry
from kvit.online.models import Aggregator
from kvit.online.signing import signed_headers
from kvit.online.testbank import CODE, Reply, TestBank, Transport, parsed

SECRET = "s3cret-of-the-test-bank-0123456789abcdef"  # pragma: allowlist secret
JAN, FEB = date(2024, 1, 1), date(2024, 2, 1)


def over_client(client: Client) -> Transport:
    """The test bank's transport to Django's test client."""

    def send(method: str, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        response = client.generic(
            method, path, body, content_type="application/json", headers=headers
        )
        return Reply(response.status_code, parsed(response.content), dict(response.headers))

    return send


@dataclass
class Shop:
    """An organisation that takes online payments, and the test bank that pays it."""

    tenant: Any
    account: Any
    water: Any
    heat: Any
    aggregator: Aggregator
    bank: TestBank
    make: Any

    def bank_for(self, aggregator: Aggregator, secret: str = SECRET, **fields: Any) -> TestBank:
        return TestBank(
            aggregator.tenant.code, secret, self.bank.send, aggregator=aggregator.code, **fields
        )

    def make_aggregator(self, tenant: Any = None, **fields: Any) -> Aggregator:
        fields = {"code": CODE, "name": "Test bank", "secret": SECRET, **fields}
        contract = Aggregator(tenant=tenant or self.tenant, **fields)
        contract.full_clean()
        contract.save()
        return contract

    def path(self, tail: str) -> str:
        return f"/api/online/{self.tenant.code}/{self.aggregator.code}/{tail}"

    def raw(
        self,
        method: str,
        tail: str,
        body: bytes = b"",
        *,
        secret: str = SECRET,
        at: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """A request with exactly `body`, signed with `secret` at `at` (now)."""
        path = self.path(tail)
        stamp = int(time.time() if at is None else at)
        signed = signed_headers(secret, method, path, body, stamp)
        return self.bank.send(method, path, body, {**signed, **(headers or {})})


def charge(tenant: Any, account: Any, provider: Any, service: Any, amount: str) -> None:
    post_entries(
        [
            LedgerEntry(
                tenant=tenant,
                account=account,
                provider=provider,
                service=service,
                period=JAN,
                posted_on=JAN,
                kind="charge",
                amount=Decimal(amount),
            )
        ]
    )


def open_shop(make: Any, **aggregator: Any) -> Shop:
    tenant = make.tenant()
    account = make.account(make.premise(make.building(tenant)), number="000101")
    quiet = {"penalty_scheme": "none"}
    water, heat = make.provider(tenant, name="Vodokanal"), make.provider(tenant, name="Teplo")
    water_service = make.service(tenant, code="water", provider=water, sort_order=10, **quiet)
    heat_service = make.service(
        tenant, code="heat", unit="m2", method="per_area", resource="", provider=heat, **quiet
    )
    make.billing_period(tenant, JAN)
    make.billing_period(tenant, FEB)
    charge(tenant, account, water, water_service, "300.00")
    charge(tenant, account, heat, heat_service, "200.00")
    bank = TestBank(tenant.code, SECRET, over_client(Client()))
    shop = Shop(tenant, account, water, heat, None, bank, make)  # type: ignore[arg-type]
    shop.aggregator = shop.make_aggregator(**aggregator)
    return shop

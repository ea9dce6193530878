"""Helpers for the ledger tests: `Books`, one account with two providers and services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from kvit.ledger.actions import post_entries
from kvit.ledger.models import LedgerEntry

JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)


@dataclass
class Books:
    """An account with a provider and two services (water by `water`, and heat by `heat`,
    another provider), January 2024 open."""

    tenant: Any
    account: Any
    water: Any
    heat: Any
    water_service: Any
    heat_service: Any
    user: Any

    def entry(self, **fields: Any) -> LedgerEntry:
        """An unsaved water charge of 100.00 for January; keyword arguments override."""
        fields = {
            "tenant": self.tenant,
            "account": self.account,
            "provider": self.water,
            "service": self.water_service,
            "period": JAN,
            "posted_on": date(2024, 1, 31),
            "kind": LedgerEntry.Kind.CHARGE,
            "amount": Decimal("100.00"),
            **fields,
        }
        return LedgerEntry(**fields)

    def post(self, **fields: Any) -> LedgerEntry:
        (posted,) = post_entries([self.entry(**fields)])
        return posted

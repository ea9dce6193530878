"""Helpers for the payment tests: `Desk`, an account billed by hand for January and February
2024 (March open too, with nothing billed: payments are made in March).

The charges are posted by hand, not by the engine: the accounts have no connected services,
so the recalculation a payment triggers (March) proposes nothing and leaves them alone.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from kvit.ledger.actions import post_entries
from kvit.ledger.models import LedgerEntry
from kvit.payments.actions import PaymentRecord

JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)
MOSCOW = ZoneInfo("Europe/Moscow")


def at(day: date, hour: int = 12) -> datetime:
    """Noon of `day`, Moscow time."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=MOSCOW)


PAID_AT = at(date(2024, 3, 5))


def row_order(row: tuple[Any, ...]) -> tuple[tuple[bool, str], ...]:
    """Sort rows with None (first) among the values."""
    return tuple((value is not None, str(value)) for value in row)


_numbers = itertools.count(1)


@dataclass
class Desk:
    make: Any
    tenant: Any
    account: Any
    water: Any
    heat: Any
    water_service: Any
    heat_service: Any
    user: Any
    periods: tuple[date, ...] = field(default=(JAN, FEB, MAR))

    def charge(
        self,
        amount: str,
        period: date = JAN,
        service: Any = None,
        kind: str = "charge",
        account: Any = None,
    ) -> LedgerEntry:
        """A charge (or `kind`) of `amount` for water (or `service`) in `period`."""
        service = service or self.water_service
        provider = self.heat if service == self.heat_service else self.water
        (entry,) = post_entries(
            [
                LedgerEntry(
                    tenant=self.tenant,
                    account=account or self.account,
                    provider=provider,
                    service=service,
                    period=period,
                    posted_on=period,
                    kind=kind,
                    amount=Decimal(amount),
                )
            ]
        )
        return entry

    def record(self, amount: str = "100.00", **fields: Any) -> PaymentRecord:
        """A bank payment of `amount` to the desk's account, paid on 5 March 2024."""
        fields = {
            "tenant_id": self.tenant.pk,
            "source": "sber",
            "external_id": f"op-{next(_numbers)}",
            "paid_at": PAID_AT,
            "amount": Decimal(amount),
            "account_number": self.account.number,
            **fields,
        }
        return PaymentRecord(**fields)

    def entries(self, payment: Any = None, **filters: Any) -> list[tuple[Any, ...]]:
        """(provider, service code, period, corrects_period, kind, rule, amount) of the
        payment entries and their reversals (of `payment` if given), sorted (None first)."""
        found = LedgerEntry.objects.filter(
            source_kind="payment", kind__in=["payment", "reversal"], **filters
        )
        if payment is not None:
            found = found.filter(source_id=str(payment.pk))
        return sorted(
            found.values_list(
                "provider__name",
                "service__code",
                "period",
                "corrects_period",
                "kind",
                "rule",
                "amount",
            ),
            key=row_order,
        )

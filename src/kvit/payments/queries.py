"""Read-side payment queries: an account's payments, the suspense list, the remittance to
providers.

The remittance (agent scheme, spec 2.17 and 6.2) says, for a date range, what was collected
for each provider and what reaches it after the bank fees. It is read from the ledger — the
payment entries posted on those dates (the payment date) less the reversals posted on those
dates — so it always adds up to the entries: Σ collected = −Σ payment entries. A payment's fee
is split over the providers it paid in proportion to what each got (largest remainder, the
same split the engine uses), so the fees of the providers add up to the payment's fee.
Payments still in suspense belong to no provider yet; they are shown apart.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from kvit.core.money import allocate
from kvit.ledger.models import CENT, LedgerEntry
from kvit.ledger.queries import ReversedAs, as_money
from kvit.payments.mapping import MONEY, PAYMENT_SOURCE, ZERO
from kvit.payments.models import Payment
from kvit.providers.models import Provider


def payments_of(account: Any) -> QuerySet[Payment]:
    """The account's payments, latest first."""
    return (
        Payment.objects.filter(account=account)
        .select_related("provider")
        .order_by("-paid_at", "-id")
    )


def suspense(tenant: Any) -> QuerySet[Payment]:
    """The tenant's payments in suspense, oldest first: the operator's work list."""
    return Payment.objects.filter(tenant=tenant, status=Payment.Status.SUSPENSE).order_by(
        "paid_at", "id"
    )


def day_start(day: date) -> datetime:
    """The first moment of `day` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class RemittanceLine:
    provider_id: int
    provider: str
    collected: Decimal  # credited to the accounts for this provider
    fees: Decimal  # the provider's part of the bank fees
    net: Decimal  # collected − fees: what the provider receives


@dataclass(frozen=True)
class Remittance:
    start: date
    end: date  # inclusive
    lines: tuple[RemittanceLine, ...]
    suspense: Decimal  # paid in the range and still unidentified
    suspense_fees: Decimal

    @property
    def collected(self) -> Decimal:
        return sum((line.collected for line in self.lines), ZERO)

    @property
    def fees(self) -> Decimal:
        return sum((line.fees for line in self.lines), ZERO)

    @property
    def net(self) -> Decimal:
        return sum((line.net for line in self.lines), ZERO)


def remittance(tenant: Any, start: date, end: date) -> Remittance:
    """What was collected for each provider from `start` to `end` (both included), in four
    queries whatever the number of payments."""
    line_kind = ReversedAs("kind")
    in_range = (
        LedgerEntry.objects.filter(
            tenant=tenant, source_kind=PAYMENT_SOURCE, posted_on__gte=start, posted_on__lte=end
        )
        .annotate(line_kind=line_kind)
        .filter(line_kind=LedgerEntry.Kind.PAYMENT)
        .values_list("source_id", "provider_id", "kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    moved = [
        (int(source), provider, kind, as_money(total)) for source, provider, kind, total in in_range
    ]
    payment_ids = {source for source, _p, _k, _t in moved}
    shares = _fee_shares(tenant, payment_ids)
    collected: dict[int, Decimal] = defaultdict(Decimal)
    fees: dict[int, Decimal] = defaultdict(Decimal)
    for payment_id, provider, _kind, total in moved:
        original, fee = shares[(payment_id, provider)]
        collected[provider] -= total
        if -total == original:  # the payment's part
            fees[provider] += fee
        elif total == original:  # its reversal
            fees[provider] -= fee
        elif original:  # a part of it reversed by hand, entry by entry
            part = fee * -total / original
            fees[provider] += part.quantize(CENT, rounding=ROUND_HALF_UP)
    names = Provider.objects.in_bulk(list(collected))
    in_suspense = Payment.objects.filter(
        tenant=tenant,
        status=Payment.Status.SUSPENSE,
        paid_at__gte=day_start(start),
        paid_at__lt=day_start(end + timedelta(days=1)),
    ).aggregate(
        amount=Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY),
        fee=Coalesce(Sum("fee"), Value(ZERO), output_field=MONEY),
    )
    return Remittance(
        start=start,
        end=end,
        lines=tuple(
            RemittanceLine(
                provider_id=provider,
                provider=str(names[provider]),
                collected=collected[provider],
                fees=fees[provider],
                net=collected[provider] - fees[provider],
            )
            for provider in sorted(collected, key=lambda p: (str(names[p]), p))
        ),
        suspense=as_money(in_suspense["amount"]),
        suspense_fees=as_money(in_suspense["fee"]),
    )


def _fee_shares(
    tenant: Any, payment_ids: set[int]
) -> dict[tuple[int, int], tuple[Decimal, Decimal]]:
    """(payment, provider) → (what the payment credited for the provider, its part of the
    fee), for `payment_ids`, in two queries."""
    parts: dict[int, dict[int, Decimal]] = defaultdict(dict)
    rows = (
        LedgerEntry.objects.filter(
            tenant=tenant,
            source_kind=PAYMENT_SOURCE,
            source_id__any_of=[str(pk) for pk in payment_ids],
            kind=LedgerEntry.Kind.PAYMENT,
        )
        .values_list("source_id", "provider_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for source, provider, total in rows:
        parts[int(source)][provider] = -as_money(total)
    fees = dict(Payment.objects.filter(pk__any_of=list(payment_ids)).values_list("pk", "fee"))
    shares: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}
    for payment_id, by_provider in parts.items():
        providers = sorted(by_provider)
        weights = [max(by_provider[p], ZERO) for p in providers]
        fee = fees.get(payment_id, ZERO)
        split = allocate(fee, weights) if any(weights) else (ZERO,) * len(providers)
        for provider, share in zip(providers, split, strict=True):
            shares[(payment_id, provider)] = (by_provider[provider], share)
    return shares

"""Penalties in the bill run: the ledger → engine mapping (spec 1.9, 3.1–3.3).

`accrue(catalogue, chunk)` gives each account of a chunk its `penalty` lines for the
catalogue's period P: what accrues on the days of P on every overdue obligation of an
earlier period, however old (`kvit.core.penalties.penalty_lines`). `recompute` diffs them
with the rating's lines, so a run again posts nothing and a payment recorded later changes
the penalty by a correction.

What is read from the ledger, in **one query** for the whole chunk (grouped in memory):

* **Obligations** — per account, provider, service and period of origin `p < P`: the net of
  the entries of the engine's principal kinds (charge, recalculation, benefit, quality
  reduction; a reversal under the kind of the entry it reverses) counted for `p` as
  recompute-and-diff counts them (`LedgerEntry.obligation_period`: the corrected period of
  a correction, else the entry's period). Penalties are left out, also a penalty's
  correction (kind recalculation, rule penalty): no penalty on penalties (spec 3.2).
* **Payments** — entries of kind `payment` with a service, counted for the same period and
  service (the period and service they were allocated to, spec 3.4), paid on `posted_on`
  [ASSUMPTION: the ledger has no paid-date column; a payment entry is expected to be
  posted with `posted_on` = the day it was paid]. A payment's reversal cancels it from the
  original payment's date (it counts under the payment's day, spec 6.3). Left out: a
  payment entry without a service (an advance or an unsplit payment: it settles no
  obligation yet, spec 3.4.6) and one with rule `penalty` (it settled a penalty, not the
  principal: the ledger has no `penalty_payment` kind, so `kvit.payments` says so in the
  rule).

Payments dated before P are netted into their obligation in the query (the base on P's
first day; what was paid before has no rows in P, whatever its rate), so only what was still
unpaid when P began comes back, with the payments dated from then on by day; the services of
a scheme with a total limit (contract_uz) get every payment by day (the limit counts from
delay day 1). Entries of services without a penalty scheme are dropped.

Two more small queries only when some obligation comes back: the tenant's penalty parameters
(`due_day` and `key_rate` as effective-dated tables, the rest as in force on P's last day,
the calculation date) and the chunk's buildings' own due days (spec 3.1). Nothing unpaid:
one query and nothing computed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Case, DateField, F, Q, QuerySet, Sum, When
from django.db.models.functions import Coalesce

from kvit.billing.mapping import Catalogue, Chunk
from kvit.core.codes import LineKind, Rule
from kvit.core.config import ParameterRow, overrides_on, steps_of
from kvit.core.due_dates import DueDayRule, due_date
from kvit.core.issues import Issue
from kvit.core.lines import ChargeLine
from kvit.core.parameters import SPECS
from kvit.core.penalties import (
    Debt,
    Obligation,
    Payment,
    PenaltyRules,
    Preset,
    penalty_lines,
    rules_from_parameters,
    scheme,
)
from kvit.core.penalty_tables import key_rates_from_parameters
from kvit.core.periods import Period
from kvit.db.prepared import prepared
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import ReversedAs, as_money
from kvit.parameters.models import Parameter
from kvit.premises.models import Building

PRINCIPAL_KINDS = tuple(kind.value for kind in LineKind if kind is not LineKind.PENALTY)
PAYMENT = LedgerEntry.Kind.PAYMENT.value
KINDS = (*PRINCIPAL_KINDS, PAYMENT, LedgerEntry.Kind.REVERSAL.value)  # what may count
PARAMETERS = (
    "due_day",
    "shift_due_date_to_business_day",
    "key_rate",
    "penalty_grace_days",
    "penalty_switch_day",
    "penalty_rate_cap",
    "penalty_moratoria",
    "penalty_uz_daily_rate",
    "penalty_uz_total_cap_share",
    "payment_day_counts_old_balance",
)
"""The section-10 parameters penalties read."""


@dataclass(frozen=True, slots=True)
class Accrual:
    """An account's penalty lines for the period and the problems met computing them."""

    lines: tuple[ChargeLine, ...] = ()
    issues: tuple[Issue, ...] = ()


NOTHING = Accrual()

Key = tuple[int, int, int, date]  # account, provider, service pk, period of origin


def accrue(catalogue: Catalogue, chunk: Chunk) -> dict[str, Accrual]:
    """The penalty lines of the chunk's accounts for `catalogue.period`, by account number
    (accounts without any are left out)."""
    period = catalogue.period
    schemes = {
        pk: scheme(catalogue.services[code].penalty_scheme.value)
        for pk, code in catalogue.service_codes.items()
    }
    charged = {pk for pk, found in schemes.items() if found.first_charged_day is not None}
    limited = {pk for pk in charged if schemes[pk].total_cap_share is not None}
    if not charged:
        return {}
    principal, paid = ledger_of(chunk.account_ids.values(), period, charged, limited)
    if not principal:
        return {}
    rows = parameter_rows(catalogue.tenant_id)
    texts = overrides_on(rows, period.last_day)
    key_rates = key_rates_from_parameters(rows)
    rules: dict[Preset, PenaltyRules] = {
        preset: rules_from_parameters(preset, key_rates, texts) for preset in Preset
    }
    due_steps = steps_of("due_day", rows)
    shift: bool = SPECS["shift_due_date_to_business_day"].parse(
        texts.get("shift_due_date_to_business_day", "false")
    )
    numbers = {pk: number for number, pk in chunk.account_ids.items()}
    buildings = chunk.building_of
    own_days = building_due_days({b for b in buildings.values() if b is not None})
    due_dates: dict[tuple[date, int | None], date] = {}

    def due_on(origin: date, number: str) -> date:
        building = buildings.get(number)
        override = None if building is None else own_days.get(building)
        found = due_dates.get((origin, override))
        if found is None:
            rule = DueDayRule.from_rows(due_steps, None if override is None else str(override))
            found = due_dates[(origin, override)] = due_date(Period.of(origin), rule, shift)
        return found

    debts: dict[str, list[Debt]] = defaultdict(list)
    for key, amount in principal.items():
        account, provider, service, origin = key
        number, code = numbers[account], catalogue.service_codes[service]
        obligation = Obligation(
            Period.of(origin), amount, due_on(origin, number), account=number, service=code
        )
        debts[number].append(Debt(str(provider), code, obligation, tuple(paid.get(key, ()))))
    found = {}
    for number, owed in debts.items():
        lines, issues = penalty_lines(number, period, owed, catalogue.services, rules)
        if lines or issues:
            found[number] = Accrual(lines, issues)
    return found


def ledger_of(
    account_ids: Iterable[int],
    period: Period,
    services: Collection[int],
    limited: Collection[int] = (),
) -> tuple[dict[Key, Decimal], dict[Key, list[Payment]]]:
    """What of the accounts' obligations from before `period` of `services` was still unpaid
    when `period` began, and the payments of each dated from then on, in one query.

    The principal kinds and the payments dated before the period are netted per obligation
    (the base on the period's first day: what they paid before has no rows in the period,
    whatever its rate), and only obligations above zero come back; later payments come per
    day. The services of `limited` (a scheme with a total limit, contract_uz: the limit is
    a share of the base on delay day 1 and counts what the earlier months accrued) get the
    principal alone and every payment by day."""
    rows = _debt_rows(list(account_ids), period.first_day, list(limited))
    principal: dict[Key, Decimal] = {}
    paid: dict[Key, list[Payment]] = defaultdict(list)
    for account, provider, service, origin, day, total in rows:
        if service not in services:  # no penalty scheme, or an entry without a service
            continue
        amount = as_money(total)
        key = (account, provider, service, _day(origin))
        if day is None:
            if amount > 0:  # SQLite's float sums may leave a trace of a paid obligation
                principal[key] = amount
        elif amount < 0:  # a payment; one fully reversed nets to zero
            paid[key].append(Payment(_day(day), -amount))
    return principal, paid


@prepared
def _debt_rows(account_ids: list[int], start: date, limited: list[int]) -> QuerySet[Any, Any]:
    line_kind = ReversedAs("kind")
    paid_on = ReversedAs("posted_on")
    by_day = Q(paid_on__gte=start) | Q(service_id__any_of=limited)
    return (
        LedgerEntry.objects.filter(account_id__any_of=account_ids, kind__in=KINDS)
        .annotate(line_kind=line_kind, origin=Coalesce("corrects_period", "period"))
        .filter(origin__lt=start, line_kind__in=(*PRINCIPAL_KINDS, PAYMENT))
        .exclude(rule=Rule.PENALTY.value)  # penalties, their corrections, payments of them
        .annotate(paid_on=paid_on)
        .annotate(
            day=Case(
                When(Q(line_kind=PAYMENT) & by_day, then=F("paid_on")),
                default=None,
                output_field=DateField(),
            )
        )
        .values_list("account_id", "provider_id", "service_id", "origin", "day")
        .annotate(total=Sum("amount"))
        .filter(Q(total__gt=0) | Q(day__isnull=False))
        .order_by()
    )


def parameter_rows(tenant_id: int) -> list[ParameterRow]:
    """The tenant's overrides of the penalty parameters, every date."""
    return [
        ParameterRow(name, value, start, stop)
        for name, value, start, stop in Parameter.objects.filter(
            tenant_id=tenant_id, name__in=PARAMETERS
        ).values_list("name", "value", "effective_from", "effective_to")
    ]


def building_due_days(ids: set[int]) -> dict[int, int]:
    """The buildings' own due days (a management contract or an HOA decision, spec 3.1)."""
    if not ids:
        return {}
    found = Building.objects.filter(pk__any_of=ids, due_day__isnull=False)
    return {pk: day for pk, day in found.values_list("pk", "due_day") if day is not None}


def _day(value: Any) -> date:
    """SQLite returns an annotated date as text."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))

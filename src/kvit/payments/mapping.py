"""Ledger rows → the allocation engine's obligations (`kvit.core.allocation`), one way only.

What an account owes is read from the ledger in one query for any number of accounts
(`open_debts`): the net of its entries per provider, service, period of origin and kind
(principal or penalty). The period of origin of an entry is the period it corrects, if any,
else its own; a reversal counts as the kind of the entry it reverses.

Penalties are kept apart so that the engine settles them last (spec 3.4.5): penalty entries
are penalties, and so is every entry whose `rule` is `penalty` — a penalty's correction, and a
payment entry that settled a penalty (the ledger has no `penalty_payment` kind, so a payment
entry says what it settled in its `rule`: `SETTLED_PENALTY`, `SETTLED_PRINCIPAL` or
`ADVANCE`; reversals copy the rule). `kvit.billing.penalties` reads the same marks.

An advance (money left after everything was settled, spec 3.4.6) is a negative net: a
payment entry without a service, or a service paid beyond what it owed. It is applied
automatically, oldest first, to the provider's next charges (3.4.6): `obligations()` lets the
engine allocate each provider's credit over that provider's debts before a new payment is
allocated, so a new payment only meets what is really unpaid. Nothing is posted for it: the
balance is right either way, and the application is redone from the entries every time.

Identifiers cross into the engine as text: a provider is its primary key, a service its code
("" for entries without a service).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Case, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from kvit.billing.mapping import config_of
from kvit.core import allocation as engine
from kvit.core.codes import Rule
from kvit.core.config import Config
from kvit.core.due_dates import LEGAL_DUE_DAY_FROM, DueDayRule, due_date
from kvit.core.parameters import SPECS
from kvit.core.periods import Period
from kvit.ledger.models import BillingPeriod, LedgerEntry
from kvit.ledger.queries import ReversedAs, as_money
from kvit.parameters.models import Parameter
from kvit.providers.models import Provider
from kvit.tariffs.models import Service

PAYMENT_SOURCE = "payment"
"""`source_kind` of the entries a payment posts; their `source_id` is the payment's id."""
SETTLED_PRINCIPAL = "principal"
SETTLED_PENALTY = Rule.PENALTY.value
"""The rule of penalties, their corrections and the payments that settled them."""
ADVANCE = "advance"
REFUND = "refund"

BILLED_KINDS = (
    LedgerEntry.Kind.CHARGE,
    LedgerEntry.Kind.RECALCULATION,
    LedgerEntry.Kind.BENEFIT,
    LedgerEntry.Kind.QUALITY_REDUCTION,
    LedgerEntry.Kind.PENALTY,
    LedgerEntry.Kind.OPENING_BALANCE,
)
"""What counts as billed on a period's payment document: the weights of a partial split."""

ZERO = Decimal("0.00")
MONEY: DecimalField[Any, Any] = DecimalField(max_digits=14, decimal_places=2)

DebtKey = tuple[int, int | None, date, engine.Kind]
"""(provider id, service id or None, period of origin, kind)."""


@dataclass
class Debts:
    """An account's ledger, netted per `DebtKey`: [net, billed]. Kept up to date in memory
    while a batch allocates several payments of the account (`add`)."""

    nets: dict[DebtKey, list[Decimal]] = field(default_factory=dict)

    def add(self, key: DebtKey, amount: Decimal, billed: Decimal = ZERO) -> None:
        found = self.nets.setdefault(key, [ZERO, ZERO])
        found[0] += amount
        found[1] += billed


def open_debts(account_ids: Iterable[int]) -> dict[int, Debts]:
    """The netted ledger of each account, in one query."""
    line_kind = ReversedAs("kind")
    penalty = Q(line_kind=LedgerEntry.Kind.PENALTY) | Q(rule=SETTLED_PENALTY)
    rows = (
        LedgerEntry.objects.filter(account_id__any_of=list(account_ids))
        .annotate(
            line_kind=line_kind,
            origin=Coalesce("corrects_period", "period"),
            penalty=Case(When(penalty, then=Value(True)), default=Value(False)),
        )
        .values_list("account_id", "provider_id", "service_id", "origin", "penalty")
        .annotate(
            net=Sum("amount"),
            billed=Coalesce(
                Sum(Case(When(line_kind__in=BILLED_KINDS, then=F("amount")), output_field=MONEY)),
                Value(ZERO),
                output_field=MONEY,
            ),
        )
        .order_by()
    )
    found: dict[int, Debts] = defaultdict(Debts)
    for account, provider, service, origin, is_penalty, net, billed in rows:
        kind = engine.Kind.PENALTY if is_penalty else engine.Kind.PRINCIPAL
        found[account].add((provider, service, origin, kind), as_money(net), as_money(billed))
    return found


@dataclass(frozen=True)
class Books:
    """What allocating a tenant's payments needs besides the ledger, loaded once per batch:
    the services in their configured order, the open periods and the due-day rules."""

    tenant_id: int
    service_codes: dict[int, str]  # service id → code
    service_ids: dict[str, int]  # code → service id
    service_order: tuple[str, ...]
    penalty_schemes: dict[str, str]  # service code → its penalty scheme (preset)
    providers: frozenset[int]
    open_periods: tuple[date, ...]  # ascending
    due_day_overrides: tuple[tuple[date, date | None, int], ...]  # the tenant's `due_day` rows
    configs: dict[Period, Config] = field(default_factory=dict)
    allocation_configs: dict[Period, engine.AllocationConfig] = field(default_factory=dict)
    currents: dict[date, date | None] = field(default_factory=dict)  # day → current period

    @classmethod
    def load(cls, tenant_id: int) -> Books:
        services = list(
            Service.objects.filter(tenant_id=tenant_id)
            .order_by("sort_order", "code")
            .values_list("pk", "code", "penalty_scheme")
        )
        rows = Parameter.objects.filter(tenant_id=tenant_id, name="due_day").values_list(
            "effective_from", "effective_to", "value"
        )
        parse = SPECS["due_day"].parse
        return cls(
            tenant_id=tenant_id,
            service_codes={pk: code for pk, code, _ in services},
            service_ids={code: pk for pk, code, _ in services},
            service_order=tuple(code for _pk, code, _ in services),
            penalty_schemes={code: preset for _pk, code, preset in services},
            providers=frozenset(
                Provider.objects.filter(tenant_id=tenant_id).values_list("pk", flat=True)
            ),
            open_periods=tuple(
                BillingPeriod.objects.filter(tenant_id=tenant_id, status=BillingPeriod.Status.OPEN)
                .order_by("period")
                .values_list("period", flat=True)
            ),
            due_day_overrides=tuple(
                (start, end, int(parse(value))) for start, end, value in rows.order_by()
            ),
        )

    def config(self, day: date) -> Config:
        period = Period.of(day)
        if period not in self.configs:
            self.configs[period] = config_of(self.tenant_id, period)
        return self.configs[period]

    # --- where entries go ------------------------------------------------------------------

    def posting_period(self, origin: date) -> date | None:
        """Where an entry for the obligation of period `origin` goes: that period while it is
        open, else the first open period after it (a closed period is corrected in an open
        one); None when there is none."""
        return next((p for p in self.open_periods if p >= origin), None)

    def current_period(self, day: date) -> date | None:
        """The open period a payment made on `day` belongs to: its own month if open, else
        the first open one after it, else the latest open one. None: nothing is open."""
        if day not in self.currents:  # asked for each payment, again and again
            self.currents[day] = (
                self.posting_period(day.replace(day=1)) or self.open_periods[-1]
                if self.open_periods
                else None
            )
        return self.currents[day]

    # --- due dates, for the limitation period (spec 3.1, 3.4.3) ----------------------------

    def due_dates(self, building_due_day: int | None) -> Callable[[Period], date]:
        """Due dates by period for an account whose building has `building_due_day` (or
        None). Allocation needs them only for the three-year limitation (3.4.3), so they are
        not moved off weekends (`shift_due_date_to_business_day` needs a holiday calendar,
        and a day or two does not decide a limitation period in practice)."""

        def due(period: Period) -> date:
            day = period.first_day
            chosen = next(
                (
                    value
                    for start, end, value in self.due_day_overrides
                    if start <= day and (end is None or day < end)
                ),
                None,
            )
            if chosen is None:
                chosen = int(SPECS["due_day"].parse(SPECS["due_day"].default_on(day)))
            if building_due_day is not None and period < LEGAL_DUE_DAY_FROM:
                chosen = building_due_day
            return due_date(period, DueDayRule(steps=((date.min, chosen),)))

        return due

    # --- the engine's view of the debts ----------------------------------------------------

    def obligations(
        self, debts: Debts, paid_on: date, due_dates: engine.DueDates
    ) -> list[engine.Obligation]:
        """The account's obligations as the engine takes them, with each provider's credit
        (advance) already applied oldest first (spec 3.4.6)."""
        obligations: list[engine.Obligation] = []
        credits: dict[int, Decimal] = defaultdict(Decimal)
        for (provider, service, origin, kind), (net, billed) in sorted(
            debts.nets.items(), key=_order
        ):
            if net < 0:
                credits[provider] -= net
            if service is None and net <= 0 and not billed:
                continue  # a bare advance or payment line: a credit, not an obligation
            obligations.append(
                engine.Obligation(
                    provider=str(provider),
                    service=self.service_codes[service] if service else "",
                    period=Period.of(origin),
                    kind=kind,
                    billed=billed,
                    unpaid=max(net, ZERO),
                )
            )
        config = self.allocation_config(paid_on)
        for provider, credit in sorted(credits.items()):
            if not credit or not any(o.provider == str(provider) and o.unpaid for o in obligations):
                continue
            applied = engine.allocate_payment(
                engine.Payment(amount=credit, paid_on=paid_on, provider=str(provider)),
                obligations,
                due_dates,
                self.service_order,
                config,
            )
            obligations = list(engine.settle(obligations, applied))
        return obligations

    def allocation_config(self, paid_on: date) -> engine.AllocationConfig:
        period = Period.of(paid_on)
        found = self.allocation_configs.get(period)
        if found is None:
            config = self.config(paid_on)
            found = self.allocation_configs[period] = engine.AllocationConfig(
                partial_split_basis=engine.SplitBasis(config.partial_split_basis),
                allocate_time_barred=config.allocate_time_barred,
            )
        return found


def _order(item: tuple[DebtKey, list[Decimal]]) -> tuple[date, int, int, str]:
    (provider, service, origin, kind), _sums = item
    return (origin, provider, service or 0, kind.value)

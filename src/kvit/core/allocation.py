"""Payment allocation: which obligations a payment settles, in the order of spec 3.4.

An obligation is what one provider is owed for one service, one period and one kind
(principal or penalty), with the amount billed on that period's payment document and the
amount still unpaid. `allocate_payment` turns a payment into allocation lines, one per
obligation it reaches, each with the rule that put it there, plus an advance per provider,
and the lines and advances add up exactly to the payment. `reverse` undoes it (spec 6.3).

The order (spec 3.4, 2.17):

1. An explicit split (per provider and service) is applied as given. Each split line pays
   its own (provider, service): the named period first, then oldest first; principal before
   penalties unless the payment is a designated penalty payment. What a line has left once
   its service is settled is an advance for the line's provider: the payer chose the
   service, so the money does not move to another one. A split that adds up to less than
   the payment: the rest goes through rules 2-6 (issue `allocation_split_short`). A split
   that adds up to more cannot be applied as given and is ignored: the whole payment goes
   through rules 2-6 (`allocation_split_exceeds`). A line whose (provider, service) is not
   among the obligations of the payment's scope (settled ones count) is not applied: its
   amount goes through rules 2-6 (`allocation_split_unknown_service`).
2. A named period: that period's unpaid principal first, the excess continues with rule 3.
   A named period is paid even when it is time-barred: the payer chose it.
3. Oldest unpaid period first. Periods whose due date is more than three years before the
   payment day are skipped unless `allocate_time_barred` (a due date of 10.04.2022 is
   barred from 11.04.2025 on; a due date on 29 February ends its term on 28 February).
4. Within one period, a payment that does not cover it is split over its services and
   providers by largest remainder (`money.allocate_capped`) in proportion to the billed
   amounts (or to what is unpaid, `partial_split_basis = unpaid`), never giving a service
   more than it still owes. A negative billed amount weighs nothing; services that weigh
   nothing get what the others could not take, in proportion to what they owe.
5. Penalties after all principal of the scope, by the same rules 2-4; a designated penalty
   payment pays penalties first and then principal.
6. What is left is an advance. A payment that names a provider only reaches that provider's
   obligations and leaves its advance with it. A payment that names none reaches every
   provider of the account; its leftover is split over the providers in proportion to what
   each billed in the latest period of the obligations (the next charges will look like the
   last ones); when nothing was billed there, it goes to the first provider in service
   order; with no obligations at all it stays unassigned (provider "", issue
   `allocation_advance_unassigned`).

Payments are positive: a zero or negative amount raises ValueError when the `Payment` is
built. Taking money back is `reverse` of the allocation it came with, not a negative payment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from itertools import groupby

from kvit.core.issues import Issue, Severity, register_messages
from kvit.core.money import MINOR_UNIT, allocate, allocate_capped, to_decimal
from kvit.core.periods import Period

LIMITATION_YEARS = 3
"""The limitation period in years (spec 3.4.3); older debts are skipped unless allowed."""


class Kind(StrEnum):
    PRINCIPAL = "principal"
    PENALTY = "penalty"


class SplitBasis(StrEnum):
    """`partial_split_basis` (spec 3.4.4, section 10)."""

    BILLED = "billed"
    UNPAID = "unpaid"


class Rule(StrEnum):
    """The rule of spec 3.4 that put an allocation line where it is."""

    EXPLICIT_SPLIT = "explicit_split"  # 3.4.1
    NAMED_PERIOD = "named_period"  # 3.4.2
    OLDEST_FIRST = "oldest_first"  # 3.4.3
    PENALTY_LAST = "penalty_last"  # 3.4.5
    DESIGNATED_PENALTY = "designated_penalty"  # 3.4.5, the payer's designation


Key = tuple[str, str, Period, Kind]
"""(provider, service, period, kind): one obligation."""

DueDates = Mapping[Period, date] | Callable[[Period], date]
"""The due date of each period (spec 3.1), as computed by the penalties helper."""


@dataclass(frozen=True, slots=True)
class Obligation:
    """What `provider` is owed for `service` in `period`: billed on the document, still unpaid.

    Amounts are whole kopecks built with `to_decimal` (a str or int is converted, a float
    raises). `unpaid` is zero or more; a settled obligation (unpaid 0) still counts as a
    service of the account for explicit splits and as billed for the advance split.
    """

    provider: str
    service: str
    period: Period
    kind: Kind
    billed: Decimal
    unpaid: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Kind(self.kind))
        object.__setattr__(self, "billed", _amount(self.billed, "billed"))
        object.__setattr__(self, "unpaid", _amount(self.unpaid, "unpaid"))
        if self.unpaid < 0:
            raise ValueError(f"unpaid must be zero or more, got {self.unpaid} for {self.key}")

    @property
    def key(self) -> Key:
        return (self.provider, self.service, self.period, self.kind)


@dataclass(frozen=True, slots=True)
class SplitLine:
    """One line of an explicit split: `amount` (zero or more) for a provider's service."""

    provider: str
    service: str
    amount: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", _amount(self.amount, "split amount"))
        if self.amount < 0:
            raise ValueError(f"a split amount must be zero or more, got {self.amount}")


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment to allocate (spec 6.1); `amount` is positive, in whole kopecks."""

    amount: Decimal
    paid_on: date
    provider: str | None = None
    period: Period | None = None
    split: tuple[SplitLine, ...] = ()
    penalty_designated: bool = False  # the payer explicitly designated a penalty payment
    account: str = ""  # the account number, for issues

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", _amount(self.amount, "payment amount"))
        object.__setattr__(self, "split", tuple(self.split))
        if self.amount <= 0:
            raise ValueError(
                f"a payment amount must be positive, got {self.amount}; "
                "take money back by reversing the allocation"
            )


@dataclass(frozen=True, slots=True)
class AllocationConfig:
    """Parameters `partial_split_basis` and `allocate_time_barred` (spec section 10)."""

    partial_split_basis: SplitBasis = SplitBasis.BILLED
    allocate_time_barred: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "partial_split_basis", SplitBasis(self.partial_split_basis))


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a line is where it is.

    `split` is the basis of the proportional split of rule 4 that gave this amount, or None
    when no split was needed (everything open in the period was covered, or only this
    obligation was open); `weight` is the obligation's weight in that split.
    """

    rule: Rule
    unpaid_before: Decimal
    split: SplitBasis | None = None
    weight: Decimal | None = None
    time_barred: bool = False  # paid although time-barred: named, or allowed by the config


@dataclass(frozen=True, slots=True)
class AllocationLine:
    provider: str
    service: str
    period: Period
    kind: Kind
    amount: Decimal  # positive; negative in a reversal
    explanation: Explanation

    @property
    def key(self) -> Key:
        return (self.provider, self.service, self.period, self.kind)


@dataclass(frozen=True, slots=True)
class Advance:
    """Money left for a provider's next charges (spec 3.4.6); provider "" is unassigned."""

    provider: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Allocation:
    """Lines in the order they were applied, and advances; together exactly `amount`."""

    amount: Decimal
    lines: tuple[AllocationLine, ...]
    advances: tuple[Advance, ...] = ()
    issues: tuple[Issue, ...] = ()

    def __post_init__(self) -> None:
        parts = [line.amount for line in self.lines] + [a.amount for a in self.advances]
        if sum(_cents(part) for part in parts) != _cents(self.amount):
            raise ValueError(
                f"allocation lines and advances add up to {_money(sum(map(_cents, parts)))}, "
                f"not to the amount {self.amount}"
            )


def allocate_payment(
    payment: Payment,
    obligations: Iterable[Obligation],
    due_dates: DueDates,
    service_order: Sequence[str] = (),
    config: AllocationConfig | None = None,
) -> Allocation:
    """Allocate `payment` over `obligations` by the rules of spec 3.4 (see the module doc).

    `service_order` is the configured order of service codes: ties in a split and the order
    of the lines follow it (services it does not list come after, by code). Due dates are
    looked up only for periods with something unpaid; a missing one raises ValueError.
    Deterministic: the order of `obligations` does not matter; two obligations with the same
    key raise ValueError.
    """
    return _Run(payment, obligations, due_dates, service_order, config or AllocationConfig()).run()


def reverse(allocation: Allocation) -> Allocation:
    """The reversal (сторно, spec 6.3): every line and advance negated, in reverse order."""
    return Allocation(
        amount=allocation.amount.copy_negate(),
        lines=tuple(
            replace(line, amount=line.amount.copy_negate()) for line in reversed(allocation.lines)
        ),
        advances=tuple(
            replace(advance, amount=advance.amount.copy_negate())
            for advance in reversed(allocation.advances)
        ),
    )


def settle(obligations: Iterable[Obligation], allocation: Allocation) -> tuple[Obligation, ...]:
    """The obligations with the allocation applied to `unpaid`, in the order given.

    ValueError when a line names an obligation that is not there or would leave a negative
    unpaid amount (an allocation applied twice).
    """
    paid: dict[Key, int] = {}
    for line in allocation.lines:
        paid[line.key] = paid.get(line.key, 0) + _cents(line.amount)
    given = tuple(obligations)
    missing = set(paid) - {obligation.key for obligation in given}
    if missing:
        raise ValueError(f"the allocation pays obligations that are not given: {sorted(missing)}")
    return tuple(
        replace(o, unpaid=_money(_cents(o.unpaid) - paid[o.key])) if o.key in paid else o
        for o in given
    )


_Why = tuple[SplitBasis | None, Decimal | None]  # an explanation's split basis and weight


class _Run:
    """One allocation; mutable only inside `allocate_payment`."""

    def __init__(
        self,
        payment: Payment,
        obligations: Iterable[Obligation],
        due_dates: DueDates,
        service_order: Sequence[str],
        config: AllocationConfig,
    ) -> None:
        self.payment = payment
        self.due_dates = due_dates
        self.config = config
        self.rank: dict[str, int] = {}
        for service in service_order:
            self.rank.setdefault(service, len(self.rank))
        self.obligations = sorted(obligations, key=self._order)
        self.owed: dict[Key, int] = {}
        for obligation in self.obligations:
            if obligation.key in self.owed:
                raise ValueError(f"obligation {obligation.key} is given twice")
            self.owed[obligation.key] = _cents(obligation.unpaid)
        self.scope = [o for o in self.obligations if payment.provider in (None, o.provider)]
        self.barred: dict[Period, bool] = {}
        self.lines: list[AllocationLine] = []
        self.advances: dict[str, int] = {}
        self.issues: list[Issue] = []

    def _order(self, obligation: Obligation) -> tuple[Period, int, str, str, Kind]:
        rank = self.rank.get(obligation.service, len(self.rank))
        return (obligation.period, rank, obligation.service, obligation.provider, obligation.kind)

    def run(self) -> Allocation:
        money = self._explicit_split(_cents(self.payment.amount))
        money = self._in_order(self.scope, money, None)
        if money:
            self._advance(money)
        ranks = self._provider_ranks()
        return Allocation(
            amount=self.payment.amount,
            lines=tuple(self.lines),
            advances=tuple(
                Advance(provider, _money(units))
                for provider, units in sorted(
                    self.advances.items(), key=lambda item: (ranks.get(item[0], 0), item[0])
                )
            ),
            issues=tuple(self.issues),
        )

    # --- rule 1 -----------------------------------------------------------------------------

    def _explicit_split(self, money: int) -> int:
        split = self.payment.split
        if not split:
            return money
        total = sum(_cents(line.amount) for line in split)
        if total > money:
            self._issue("allocation_split_exceeds", split_total=_money(total))
            return money
        if total < money:
            self._issue(
                "allocation_split_short", split_total=_money(total), rest=_money(money - total)
            )
        known = {(o.provider, o.service) for o in self.scope}
        for line in split:
            amount = _cents(line.amount)
            if not amount:
                continue
            if (line.provider, line.service) not in known:
                self._issue(
                    "allocation_split_unknown_service",
                    service=line.service,
                    provider=line.provider,
                    split_amount=line.amount,
                )
                continue
            ours = [
                o for o in self.scope if (o.provider, o.service) == (line.provider, line.service)
            ]
            left = self._in_order(ours, amount, Rule.EXPLICIT_SPLIT)
            if left:
                self.advances[line.provider] = self.advances.get(line.provider, 0) + left
            money -= amount
        return money

    # --- rules 2 to 5 -----------------------------------------------------------------------

    def _in_order(self, candidates: list[Obligation], money: int, rule: Rule | None) -> int:
        """Pay `candidates` kind by kind: the named period first, then oldest first."""
        designated = self.payment.penalty_designated
        kinds = (Kind.PENALTY, Kind.PRINCIPAL) if designated else (Kind.PRINCIPAL, Kind.PENALTY)
        named = self.payment.period
        for kind in kinds:
            if kind is Kind.PENALTY:
                first = later = Rule.DESIGNATED_PENALTY if designated else Rule.PENALTY_LAST
            else:
                first, later = Rule.NAMED_PERIOD, Rule.OLDEST_FIRST
            of_kind = [o for o in candidates if o.kind is kind]
            groups = [(p, list(g)) for p, g in groupby(of_kind, key=lambda o: o.period)]
            groups.sort(key=lambda item: item[0] != named)  # stable: the named period first
            for period, group in groups:
                if not money:
                    return money
                is_named = period == named
                money = self._pay(group, money, rule or (first if is_named else later), is_named)
        return money

    def _pay(self, group: list[Obligation], money: int, rule: Rule, named: bool) -> int:
        """Pay one period's obligations of one kind (rules 3 and 4); return what is left."""
        open_ = [o for o in group if self.owed[o.key]]
        if not open_:
            return money
        barred = self._time_barred(group[0].period)
        if barred and not named and not self.config.allocate_time_barred:
            return money
        owed = [self.owed[o.key] for o in open_]
        explained: list[_Why]
        if money >= sum(owed) or len(open_) == 1:
            parts = [min(money, sum(owed))] if len(open_) == 1 else owed
            explained = [(None, None)] * len(open_)
        else:
            parts, explained = self._split(open_, owed, money)
        for obligation, part, (basis, weight) in zip(open_, parts, explained, strict=True):
            if not part:
                continue
            before = self.owed[obligation.key]
            self.owed[obligation.key] = before - part
            self.lines.append(
                AllocationLine(
                    obligation.provider,
                    obligation.service,
                    obligation.period,
                    obligation.kind,
                    _money(part),
                    Explanation(rule, _money(before), basis, weight, barred),
                )
            )
        return money - sum(parts)

    def _split(
        self, open_: list[Obligation], owed: list[int], money: int
    ) -> tuple[list[int], list[_Why]]:
        """Rule 4: `money` (less than the sum owed) split by largest remainder, capped."""
        caps = [_money(units) for units in owed]
        basis = self.config.partial_split_basis
        billed = [max(o.billed, Decimal(0)) for o in open_]
        weights = caps if basis is SplitBasis.UNPAID else billed
        if any(weights):
            first = allocate_capped(_money(money), weights, caps)
            parts = [_cents(part) for part in first.parts]
            rest = _cents(first.unallocated)
        else:
            parts, rest = [0] * len(open_), money
        if rest:
            # Only parts that weigh nothing are still open: they share the rest by what they owe.
            still = [_money(cap - part) for cap, part in zip(owed, parts, strict=True)]
            second = allocate_capped(_money(rest), still, still)
            parts = [part + _cents(more) for part, more in zip(parts, second.parts, strict=True)]
        explained: list[_Why] = [
            (basis, weight) if weight else (SplitBasis.UNPAID, cap)
            for weight, cap in zip(weights, caps, strict=True)
        ]
        return parts, explained

    def _time_barred(self, period: Period) -> bool:
        if period not in self.barred:
            if isinstance(self.due_dates, Mapping):
                due = self.due_dates.get(period)
                if due is None:
                    raise ValueError(f"no due date given for period {period}")
            else:
                due = self.due_dates(period)
            paid = self.payment.paid_on
            # Barred once the term ends: on the same date LIMITATION_YEARS later, or on
            # 28 February for a due date on 29 February (Civil Code art. 192).
            moved = (paid.year - LIMITATION_YEARS, paid.month, paid.day)
            self.barred[period] = moved > (due.year, due.month, due.day)
        return self.barred[period]

    # --- rule 6 -----------------------------------------------------------------------------

    def _advance(self, money: int) -> None:
        provider = self.payment.provider
        if provider is not None:
            self.advances[provider] = self.advances.get(provider, 0) + money
            return
        if not self.obligations:
            self._issue("allocation_advance_unassigned", advance=_money(money))
            self.advances[""] = self.advances.get("", 0) + money
            return
        latest = self.obligations[-1].period
        ranks = self._provider_ranks()
        providers = sorted(ranks, key=lambda p: (ranks[p], p))
        billed = {p: Decimal(0) for p in providers}
        for o in self.obligations:
            if o.period == latest and o.billed > 0:
                billed[o.provider] += o.billed
        weights = [billed[p] for p in providers]
        if not any(weights):
            weights = [Decimal(1)] + [Decimal(0)] * (len(providers) - 1)
        for provider, part in zip(providers, allocate(_money(money), weights), strict=True):
            if part:
                self.advances[provider] = self.advances.get(provider, 0) + _cents(part)

    def _provider_ranks(self) -> dict[str, int]:
        """Each provider's place: the rank of its first service in the service order."""
        ranks: dict[str, int] = {}
        for o in self.obligations:
            rank = self.rank.get(o.service, len(self.rank))
            ranks[o.provider] = min(rank, ranks.get(o.provider, rank))
        return ranks

    def _issue(self, code: str, service: str = "", **values: Decimal | str) -> None:
        self.issues.append(
            Issue(
                code=code,
                severity=Severity.WARNING,
                account=self.payment.account,
                service=service,
                values={"amount": self.payment.amount, **values},
            )
        )


def _amount(value: Decimal, name: str) -> Decimal:
    """`value` through the one way in, checked to be whole kopecks."""
    number = to_decimal(value)
    _cents(number, name)
    return number


def _cents(value: Decimal, name: str = "amount") -> int:
    """An amount as a whole number of kopecks, exactly (no decimal context involved)."""
    numerator, denominator = value.as_integer_ratio()
    per_unit, unit = MINOR_UNIT.as_integer_ratio()  # 1/100
    units, rest = divmod(numerator * unit, denominator * per_unit)
    if rest:
        raise ValueError(f"{name} {value} is not a whole number of kopecks")
    return units


def _money(units: int) -> Decimal:
    """Kopecks back to an amount, exactly: the string constructor does not round."""
    return Decimal(f"{units}E-2")


register_messages(
    {
        "allocation_split_exceeds": {
            "en": (
                "the explicit split adds up to {split_total}, more than the payment {amount}; "
                "the split is ignored and the payment is allocated in the usual order"
            ),
            "ru": (
                "разбивка по услугам на сумму {split_total} больше платежа {amount}; "
                "разбивка не применена, платёж распределён в обычном порядке"
            ),
        },
        "allocation_split_short": {
            "en": (
                "the explicit split adds up to {split_total}, less than the payment {amount}; "
                "the rest, {rest}, is allocated in the usual order"
            ),
            "ru": (
                "разбивка по услугам на сумму {split_total} меньше платежа {amount}; "
                "остаток {rest} распределён в обычном порядке"
            ),
        },
        "allocation_split_unknown_service": {
            "en": (
                "the explicit split names a service of provider {provider} that the account "
                "does not have; its {split_amount} is allocated in the usual order"
            ),
            "ru": (
                "в разбивке указана услуга поставщика {provider}, которой нет на лицевом "
                "счёте; её сумма {split_amount} распределена в обычном порядке"
            ),
        },
        "allocation_advance_unassigned": {
            "en": (
                "the payment {amount} names no provider and the account has no obligations; "
                "the advance {advance} is not assigned to a provider"
            ),
            "ru": (
                "в платеже {amount} не указан поставщик, а начислений на счёте нет; "
                "аванс {advance} не отнесён ни к одному поставщику"
            ),
        },
    }
)

"""Penalties (пени) on one overdue monthly obligation (spec 3.2, 3.3, 4.4; example 19).

`penalty(obligation, payments, calc_date, rules)` returns rows, their total and the data
problems it met. Inputs are **principal only**: the obligation is what was charged for the
period, the payments are what was allocated to that principal (kvit.core.allocation), so no
penalty is ever charged on penalties.

How the result is built:

* Delay day `k(t) = (t − due).days`; the scheme gives the fraction `f(k)` (0 in the grace
  days), the cap windows and the key rate give the rate, moratoria stop accrual on their days.
* Base: the principal minus the payments. A payment received on day `t` lowers the base from
  day `t + 1` when `payment_day_counts_old_balance` is true (the spec's default), from day `t`
  when false. Payments are taken in date order and never take the base below zero: an
  overpayment is an advance, somebody else's business (allocation). Payments dated after the
  calculation date have not happened yet and are left out; zero payments change nothing.
* Rate "in effect on the day of actual payment": the base is cut into **portions**, one per
  payment (rate on its payment date) plus what is still unpaid (rate on the calculation date).
  Portions with the same rate form one *layer* and are summed into one base. With one rate
  (the usual case, and always under the 9.5 % cap while the key rate is above it) there is a
  single layer and every day is in exactly one row. With several rates, each layer has its own
  rows, so a day can appear in several rows whose bases add up to the day's base.
* A row is a maximal run of consecutive days with the same (base, fraction, rate, moratorium);
  `amount = round2(base × days × rate × fraction)`, total = Σ rows (spec 4.4).
* [DECISION] Rows list every day with a positive fraction and a positive base, up to the
  calculation date: the grace days (fraction 0) and the days after full payment are not
  listed; **moratorium days are listed**, as rows with `moratorium` set and amount 0.00, so
  the payer sees that the days were counted and why nothing accrued.
* [DECISION] An obligation "arises" on the last day of its period (the month's services are
  then complete) unless `Obligation.arises_on` says otherwise; the 2022 moratorium covers
  obligations arising before 2022-04-01, so 2022-03 is covered and 2022-04 is not. When two
  moratoria cover a day, the first in `rules.moratoria` is shown.
* `contract_uz`: `penalty_uz_daily_rate` (0.4 %) of the base per day from day 1, no key rate,
  the total limited to `penalty_uz_total_cap_share` (50 %) of the overdue amount (both
  [UNCERTAIN] in spec 3.3, hence parameters). [DECISION] The overdue amount is the base on
  day 1 (principal less payments made by the due date); the limit is rounded down to kopecks
  (a ceiling must not be passed by half a kopeck). Rows keep their shape; the row that
  reaches the limit gets what is left of it and later rows 0.00, each marked
  `explanation.limited`.

The bill run charges a month at a time: `period_penalty` is the penalty accrued on the days
of one billing period (rows also cut where a month begins), and `penalty_lines` turns an
account's `Debt`s — each obligation with its payments — into one `penalty` line per provider
and service for that period, with the rows in the explanation (`kvit.billing.penalties`
reads them from the ledger).

Data vs. bugs: a date whose rate needs a key rate the table does not have is data (issue
`penalty_no_key_rate`; that portion is left out, the rest is computed); so is a negative
payment (issue `penalty_negative_payment`, ignored: reversals must come netted). A calculation
date on or before the due date (or inside the grace days) simply gives no rows. Wrong types
(floats, non-finite numbers), impossible schemes or overlapping cap windows are programming or
configuration errors and raise TypeError/ValueError at construction.

Monotonicity holds for a constant rate only: the unpaid portion takes the rate of the
calculation date, so a later calculation date after a key rate cut gives a smaller penalty,
and a payment made while the rate was higher can raise it; that is the law's rule. Rounding
each row also means a payment that splits a row may add up to one kopeck (two rounded halves
can exceed the rounded whole); with one rate the exact (unrounded) penalty never rises
with a payment.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation, Overflow
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise

from kvit.core.codes import LineKind, Rule
from kvit.core.dating import DateRange
from kvit.core.due_dates import delay_day, delay_day_number
from kvit.core.inputs import Service
from kvit.core.issues import Issue, Severity, Value, register_messages
from kvit.core.lines import ChargeLine, Explanation
from kvit.core.money import prorate
from kvit.core.parameters import SPECS
from kvit.core.penalty_tables import (
    KeyRates,
    Moratorium,
    RateBasis,
    RateCap,
    check_rate_caps,
    parse_moratoria,
    parse_rate_caps,
    penalty_rate,
)
from kvit.core.periods import Period

NO_KEY_RATE = "penalty_no_key_rate"
NEGATIVE_PAYMENT = "penalty_negative_payment"

register_messages(
    {
        NO_KEY_RATE: {
            "en": "no key rate in effect on {date}: the penalty for {period} on {amount} "
            "was not calculated",
            "ru": "нет ключевой ставки на {date}: пени за {period} на сумму {amount} не рассчитаны",
        },
        NEGATIVE_PAYMENT: {
            "en": "payment of {amount} on {date} for {period} is negative and was ignored "
            "in the penalty (reversals must come netted)",
            "ru": "платёж {amount} от {date} за {period} отрицательный и не учтён в расчёте "
            "пени (сторно должно быть учтено заранее)",
        },
    }
)

ONE_300 = Fraction(1, 300)
ONE_130 = Fraction(1, 130)
# contract_uz defaults (spec 3.3 [UNCERTAIN]): the parameters' own defaults
UZ_DAILY_RATE: Decimal = SPECS["penalty_uz_daily_rate"].parse(
    SPECS["penalty_uz_daily_rate"].default_on(date.min)
)
UZ_TOTAL_CAP_SHARE: Decimal = SPECS["penalty_uz_total_cap_share"].parse(
    SPECS["penalty_uz_total_cap_share"].default_on(date.min)
)

_ZERO = Decimal(0)
_NOTHING = Decimal("0.00")
_ONE_DAY = timedelta(days=1)
# Products of a base, a day count and a rate are exact: no rounding before the one round2.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation, Overflow])


def _check_amount(value: object, what: str) -> Decimal:
    if not isinstance(value, Decimal):
        raise TypeError(
            f"{what} must be a Decimal, got {type(value).__name__} ({value!r}); "
            "build it with to_decimal()"
        )
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite number, got {value}")
    return value


# --- schemes ------------------------------------------------------------------------------


class Preset(StrEnum):
    """The schemes of spec 3.3 (the same codes as `tariffs.Service.PenaltyScheme`)."""

    NONE = "none"
    HOUSING_RF = "housing_rf"
    CAPITAL_REPAIR_RF = "capital_repair_rf"
    RSO_FROM_UK_RF = "rso_from_uk_rf"
    LEGAL_ELECTRICITY_RF = "legal_electricity_rf"
    CONTRACT_UZ = "contract_uz"


@dataclass(frozen=True, slots=True)
class FractionStep:
    """`fraction` applies from delay day `from_day` (1 = the day after the due date)."""

    from_day: int
    fraction: Fraction


@dataclass(frozen=True, slots=True)
class Scheme:
    """A penalty scheme as data: the fraction by delay day, the rate, the total limit.

    Before the first step the fraction is 0. `fixed_rate` is a contractual rate per day used
    instead of the key rate (None: the capped key rate); `total_cap_share` limits the total
    to that share of the overdue amount (None: no limit).
    """

    preset: Preset
    steps: tuple[FractionStep, ...]
    fixed_rate: Decimal | None = None
    total_cap_share: Decimal | None = None

    def __post_init__(self) -> None:
        days = [step.from_day for step in self.steps]
        if any(day < 1 for day in days) or any(b <= a for a, b in pairwise(days)):
            raise ValueError(f"fraction steps must start on day 1 or later, increasing: {days}")
        if any(step.fraction < 0 for step in self.steps):
            raise ValueError("a penalty fraction cannot be negative")
        for value, what in ((self.fixed_rate, "fixed_rate"), (self.total_cap_share, "cap")):
            if value is not None and _check_amount(value, what) < 0:
                raise ValueError(f"{what} cannot be negative, got {value}")

    def fraction_on(self, number: int) -> Fraction:
        """`f(k)` for delay day `number`."""
        fraction = Fraction(0)
        for step in self.steps:
            if step.from_day <= number:
                fraction = step.fraction
        return fraction

    @property
    def first_charged_day(self) -> int | None:
        """The first delay day with a positive fraction; None when the scheme never charges."""
        return next((step.from_day for step in self.steps if step.fraction > 0), None)


def scheme(
    preset: Preset | str,
    grace_days: int = 30,
    switch_day: int = 90,
    uz_daily_rate: Decimal = UZ_DAILY_RATE,
    uz_total_cap_share: Decimal = UZ_TOTAL_CAP_SHARE,
) -> Scheme:
    """The preset of spec 3.3. `grace_days` / `switch_day` (`penalty_grace_days`,
    `penalty_switch_day`) shape the 31/91-day schemes: 0 up to day `grace_days`, 1/300 up to
    day `switch_day`, 1/130 after (with `switch_day ≤ grace_days` the 1/300 band is empty).
    `uz_daily_rate` / `uz_total_cap_share` (`penalty_uz_daily_rate`,
    `penalty_uz_total_cap_share`) are contract_uz's rate per day and total limit."""
    chosen = Preset(preset)
    if grace_days < 0 or switch_day < 1:
        raise ValueError(
            f"grace_days must be 0 or more and switch_day 1 or more, got {grace_days} / "
            f"{switch_day}"
        )
    if chosen in (Preset.HOUSING_RF, Preset.RSO_FROM_UK_RF):
        steps = [FractionStep(grace_days + 1, ONE_300)] if switch_day > grace_days else []
        steps.append(FractionStep(max(grace_days, switch_day) + 1, ONE_130))
        return Scheme(chosen, tuple(steps))
    if chosen is Preset.CAPITAL_REPAIR_RF:
        return Scheme(chosen, (FractionStep(1, ONE_300),))
    if chosen is Preset.LEGAL_ELECTRICITY_RF:
        return Scheme(chosen, (FractionStep(1, ONE_130),))
    if chosen is Preset.CONTRACT_UZ:
        return Scheme(
            chosen,
            (FractionStep(1, Fraction(1)),),
            fixed_rate=uz_daily_rate,
            total_cap_share=uz_total_cap_share,
        )
    return Scheme(chosen, ())


# --- inputs -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Obligation:
    """One period's principal for one provider (optionally one service), due on `due_on`
    (see `kvit.core.due_dates.due_date`). `arises_on` decides moratorium scopes; None means
    the last day of the period. `account`/`service` only label issues."""

    period: Period
    principal: Decimal
    due_on: date
    arises_on: date | None = None
    account: str = ""
    service: str = ""

    def __post_init__(self) -> None:
        _check_amount(self.principal, "principal")

    @property
    def arising_day(self) -> date:
        return self.period.last_day if self.arises_on is None else self.arises_on


@dataclass(frozen=True, slots=True)
class Payment:
    """Principal of the obligation paid on `paid_on`."""

    paid_on: date
    amount: Decimal

    def __post_init__(self) -> None:
        _check_amount(self.amount, "payment amount")


@dataclass(frozen=True, slots=True)
class PenaltyRules:
    """Everything besides the obligation and its payments. Build it from the tenant's
    parameters with `rules_from_parameters`."""

    scheme: Scheme
    key_rates: KeyRates = field(default_factory=KeyRates)
    rate_caps: tuple[RateCap, ...] = ()
    moratoria: tuple[Moratorium, ...] = ()
    payment_day_counts_old_balance: bool = True

    def __post_init__(self) -> None:
        check_rate_caps(self.rate_caps)


def rules_from_parameters(
    preset: Preset | str, key_rates: KeyRates, texts: Mapping[str, str] | None = None
) -> PenaltyRules:
    """Rules from the stored text of the section-10 parameters (the values in effect for the
    calculation); a parameter missing from `texts` takes its default. Bad text raises the
    parameter's ValueError."""
    given = {} if texts is None else texts

    def text(name: str) -> str:
        return given.get(name, SPECS[name].default_on(date.min))

    grace: int = SPECS["penalty_grace_days"].parse(text("penalty_grace_days"))
    switch: int = SPECS["penalty_switch_day"].parse(text("penalty_switch_day"))
    old_balance: bool = SPECS["payment_day_counts_old_balance"].parse(
        text("payment_day_counts_old_balance")
    )
    uz_rate: Decimal = SPECS["penalty_uz_daily_rate"].parse(text("penalty_uz_daily_rate"))
    uz_cap: Decimal = SPECS["penalty_uz_total_cap_share"].parse(text("penalty_uz_total_cap_share"))
    return PenaltyRules(
        scheme=scheme(preset, grace, switch, uz_rate, uz_cap),
        key_rates=key_rates,
        rate_caps=parse_rate_caps(text("penalty_rate_cap")),
        moratoria=parse_moratoria(text("penalty_moratoria")),
        payment_day_counts_old_balance=old_balance,
    )


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowExplanation:
    """Why a row is what it is. `rate_bases`: how the rate was found, one per distinct date
    whose rate the row uses (the payment dates of the portions it covers, the calculation
    date for the unpaid rest). `formula_amount` = round2(base × days × rate × fraction), what
    the row would be without a moratorium or the total limit. `limit` is the total limit of
    the scheme (contract_uz) when it cut this row (`limited`)."""

    first_delay_day: int
    last_delay_day: int
    rate_bases: tuple[RateBasis, ...]
    formula_amount: Decimal
    limited: bool = False
    limit: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PenaltyRow:
    """A maximal run of days with the same (base, fraction, rate, moratorium); `first_day`
    and `last_day` are inclusive, as on the payment document (`span` is half-open)."""

    first_day: date
    last_day: date
    days: int
    base: Decimal
    fraction: Fraction
    rate: Decimal
    amount: Decimal
    moratorium: Moratorium | None
    explanation: RowExplanation

    @property
    def span(self) -> DateRange:
        return DateRange(self.first_day, self.last_day + _ONE_DAY)

    @property
    def fraction_text(self) -> str:
        """The fraction as written on documents: 1/300, 1/130, or 1 for a per-day rate."""
        return str(self.fraction)

    def render(self, language: str = "en", currency: str = "₽") -> str:
        """The row as one line for the payment document or a statement, e.g. (ru)
        "5 000,00 ₽ × 34 дн. × 9,5 % × 1/300 = 53,83 ₽ (13.03.2025–15.04.2025)"."""
        ru = language == "ru"

        def money(value: Decimal) -> str:
            return f"{_number(value, ru, places=2)} {currency}"

        if ru:
            days = f"{self.days} дн."
            rate = f"{_number(self.rate.scaleb(2), ru)} %"
        else:
            days = f"{self.days} day" if self.days == 1 else f"{self.days} days"
            rate = f"{_number(self.rate.scaleb(2), ru)}%"
        dates = f"({self.first_day:%d.%m.%Y}–{self.last_day:%d.%m.%Y})"
        if self.moratorium is not None:
            note = "мораторий, пени не начисляются" if ru else "moratorium, no penalty accrues"
            return f"{money(self.base)} × {days}: {note} = {money(self.amount)} {dates}"
        factors = [money(self.base), days, rate]
        if self.fraction != 1:
            factors.append(self.fraction_text)
        formula = f"{' × '.join(factors)} = {money(self.explanation.formula_amount)}"
        limit = self.explanation.limit
        if self.explanation.limited and limit is not None:
            formula += (
                f", с учётом предела {money(limit)}: {money(self.amount)}"
                if ru
                else f", limited to {money(limit)} in total: {money(self.amount)}"
            )
        return f"{formula} {dates}"


@dataclass(frozen=True, slots=True)
class PenaltyResult:
    rows: tuple[PenaltyRow, ...]
    total: Decimal
    issues: tuple[Issue, ...] = ()


def _number(value: Decimal, ru: bool, places: int | None = None) -> str:
    """Digits grouped by thousands; Russian writes "5 000,00", English "5,000.00". With
    `places`, at least that many decimals (never fewer than the value has: no rounding)."""
    if places is None:
        text = format(value.normalize(), ",f")
    else:
        shown = max(places, -int(value.as_tuple().exponent))  # finite: an int
        text = format(value, f",.{shown}f")
    return text.translate({ord(","): " ", ord("."): ","}) if ru else text


# --- the calculation ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Portion:
    """Part of the principal that accrues up to and including `last_day`, at the rate taken
    on `settled_on` (its payment date, or the calculation date when unpaid)."""

    amount: Decimal
    last_day: date
    settled_on: date


def penalty(
    obligation: Obligation,
    payments: Sequence[Payment],
    calc_date: date,
    rules: PenaltyRules,
) -> PenaltyResult:
    """The penalty on `obligation` up to and including `calc_date` (spec 3.2, 3.3)."""
    issues: list[Issue] = []
    rows, overdue = _rows(obligation, payments, calc_date, rules, issues)
    limited = _limit(rows, overdue, rules.scheme)
    return PenaltyResult(limited, sum((row.amount for row in limited), _NOTHING), tuple(issues))


def _rows(
    obligation: Obligation,
    payments: Sequence[Payment],
    calc_date: date,
    rules: PenaltyRules,
    issues: list[Issue],
) -> tuple[list[PenaltyRow], Decimal]:
    """The rows up to `calc_date` in date order before the scheme's total limit, and the
    overdue amount the limit is a share of."""
    portions = _portions(obligation, payments, calc_date, rules, issues)
    current = rules.scheme.first_charged_day
    if current is None:
        return [], _ZERO
    first_charged = delay_day(obligation.due_on, current)
    layers: dict[Decimal, list[tuple[_Portion, RateBasis]]] = {}
    for portion in portions:
        if portion.last_day < first_charged:
            continue
        basis = _rate(portion, obligation, rules, issues)
        if basis is not None:
            layers.setdefault(basis.rate, []).append((portion, basis))
    rows = sorted(
        (
            (row.first_day, order, row)
            for order, (rate, layer) in enumerate(layers.items())
            for row in _layer_rows(obligation, rate, layer, first_charged, rules)
        ),
        key=lambda item: (item[0], item[1]),
    )
    return [row for _day, _order, row in rows], _overdue(obligation, portions)


def _portions(
    obligation: Obligation,
    payments: Sequence[Payment],
    calc_date: date,
    rules: PenaltyRules,
    issues: list[Issue],
) -> list[_Portion]:
    """The principal cut by payments, in payment order, then the unpaid rest."""
    remaining = obligation.principal if obligation.principal > 0 else _ZERO
    # The payment day itself still accrues on the old balance, or already on the new one.
    lag = timedelta(0) if rules.payment_day_counts_old_balance else _ONE_DAY
    portions = []
    for payment in sorted(payments, key=lambda item: item.paid_on):
        if payment.amount < 0:
            issues.append(_issue(NEGATIVE_PAYMENT, obligation, payment.paid_on, payment.amount))
            continue
        taken = min(payment.amount, remaining)
        if payment.paid_on > calc_date or taken == 0:
            continue
        remaining -= taken
        portions.append(_Portion(taken, payment.paid_on - lag, payment.paid_on))
    if remaining > 0:
        portions.append(_Portion(remaining, calc_date, calc_date))
    return portions


def _overdue(obligation: Obligation, portions: Sequence[_Portion]) -> Decimal:
    """The base on day 1: what was still unpaid once the due date had passed."""
    day_1 = delay_day(obligation.due_on, 1)
    return sum((p.amount for p in portions if p.last_day >= day_1), _ZERO)


def _rate(
    portion: _Portion, obligation: Obligation, rules: PenaltyRules, issues: list[Issue]
) -> RateBasis | None:
    fixed = rules.scheme.fixed_rate
    if fixed is not None:
        return RateBasis(on=portion.settled_on, rate=fixed)
    basis = penalty_rate(portion.settled_on, rules.key_rates, rules.rate_caps)
    if basis is None:
        issues.append(_issue(NO_KEY_RATE, obligation, portion.settled_on, portion.amount))
    return basis


def _layer_rows(
    obligation: Obligation,
    rate: Decimal,
    layer: Sequence[tuple[_Portion, RateBasis]],
    first_charged: date,
    rules: PenaltyRules,
) -> list[PenaltyRow]:
    """The rows of the portions sharing one rate: cut wherever the base, the fraction or the
    moratorium may change, then merge neighbours that turned out equal."""
    due = obligation.due_on
    end = max(portion.last_day for portion, _basis in layer) + _ONE_DAY
    moratoria = [m for m in rules.moratoria if m.applies_to(obligation.arising_day)]
    cuts = {first_charged, end}
    cuts.update(portion.last_day + _ONE_DAY for portion, _basis in layer)
    cuts.update(delay_day(due, step.from_day) for step in rules.scheme.steps)
    for window in moratoria:
        cuts.add(window.span.start)
        if window.span.end is not None:
            cuts.add(window.span.end)
    bases = tuple(sorted({basis for _portion, basis in layer}, key=lambda basis: basis.on))
    runs: list[tuple[date, date, Decimal, Fraction, Moratorium | None]] = []
    for start, stop in pairwise(sorted(cut for cut in cuts if first_charged <= cut <= end)):
        fraction = rules.scheme.fraction_on(delay_day_number(due, start))
        if fraction == 0:
            continue
        base = sum((p.amount for p, _basis in layer if p.last_day >= start), _ZERO)
        moratorium = next((m for m in moratoria if m.span.contains(start)), None)
        if runs and runs[-1][1] == start and runs[-1][2:] == (base, fraction, moratorium):
            runs[-1] = (runs[-1][0], stop, base, fraction, moratorium)
        else:
            runs.append((start, stop, base, fraction, moratorium))
    return [
        _row(due, start, stop, base, fraction, rate, moratorium, bases)
        for start, stop, base, fraction, moratorium in runs
    ]


def _row(
    due: date,
    start: date,
    stop: date,
    base: Decimal,
    fraction: Fraction,
    rate: Decimal,
    moratorium: Moratorium | None,
    bases: tuple[RateBasis, ...],
) -> PenaltyRow:
    days = (stop - start).days
    product = _EXACT.multiply(_EXACT.multiply(base, Decimal(days)), rate)
    formula = prorate(product, fraction.numerator, fraction.denominator)
    last = stop - _ONE_DAY
    return PenaltyRow(
        first_day=start,
        last_day=last,
        days=days,
        base=base,
        fraction=fraction,
        rate=rate,
        amount=_NOTHING if moratorium is not None else formula,
        moratorium=moratorium,
        explanation=RowExplanation(
            first_delay_day=delay_day_number(due, start),
            last_delay_day=delay_day_number(due, last),
            rate_bases=bases,
            formula_amount=formula,
        ),
    )


def _limit(rows: list[PenaltyRow], overdue: Decimal, scheme: Scheme) -> tuple[PenaltyRow, ...]:
    """Apply the scheme's total limit (a share of the overdue amount) in date order."""
    share = scheme.total_cap_share
    if share is None:
        return tuple(rows)
    limit = Decimal(math.floor(Fraction(overdue) * Fraction(share) * 100)).scaleb(-2)
    running = _ZERO
    result = []
    for row in rows:
        if running + row.amount <= limit:
            running += row.amount
            result.append(row)
            continue
        explanation = replace(row.explanation, limited=True, limit=limit)
        result.append(replace(row, amount=limit - running, explanation=explanation))
        running = limit
    return tuple(result)


# --- one billing period's penalty lines (the bill run) ------------------------------------


def period_penalty(
    obligation: Obligation, payments: Sequence[Payment], period: Period, rules: PenaltyRules
) -> PenaltyResult:
    """The penalty accrued on the days of `period` (any period after the obligation's), as a
    bill run of `period` charges it: calculated as of the period's last day, so a portion
    still unpaid then takes the rate of that day.

    [DECISION] Rows are also cut where a month begins (spec 3.2's rows are runs of equal
    base, fraction, rate and moratorium; each billing period charges its own days, rounded
    by row, spec 4.4), so the rows of a month are the same whichever later month computes
    them, and the periods' penalties add up to the whole. A scheme's total limit
    (contract_uz) is applied over the months in date order: a month gets what its
    predecessors left of it."""
    issues: list[Issue] = []
    rows, overdue = _rows(obligation, payments, period.last_day, rules, issues)
    # Without a total limit the earlier months do not count: only the period's days are cut.
    since = period.first_day if rules.scheme.total_cap_share is None else date.min
    due = obligation.due_on
    monthly = sorted(
        (piece for row in rows for piece in _by_month(due, row, since)),
        key=lambda row: row.first_day,
    )
    limited = _limit(monthly, overdue, rules.scheme)
    inside = tuple(row for row in limited if row.first_day >= period.first_day)
    return PenaltyResult(inside, sum((row.amount for row in inside), _NOTHING), tuple(issues))


def _by_month(due: date, row: PenaltyRow, since: date) -> list[PenaltyRow]:
    """`row` from `since` on, cut where a month begins, each piece rounded by itself."""
    start, end = max(row.first_day, since), row.last_day + _ONE_DAY
    if start == row.first_day and row.last_day <= Period.of(start).last_day:
        return [row]
    pieces = []
    while start < end:
        stop = min(Period.of(start).end, end)
        pieces.append(
            _row(
                due,
                start,
                stop,
                row.base,
                row.fraction,
                row.rate,
                row.moratorium,
                row.explanation.rate_bases,
            )
        )
        start = stop
    return pieces


@dataclass(frozen=True, slots=True)
class Debt:
    """One (provider, service, period) obligation of an account and the payments of its
    principal, as the bill run reads them from the ledger (`kvit.billing.penalties`)."""

    provider: str
    service: str
    obligation: Obligation
    payments: tuple[Payment, ...] = ()

    def accrues_in(self, period: Period, scheme: Scheme) -> bool:
        """Whether any day of `period` may carry a penalty: the scheme charges by then and
        the principal was not paid off before the period began. A cheap test, so that the
        paid and the not yet overdue cost nothing; False means `period_penalty` has no rows."""
        first = scheme.first_charged_day
        if first is None or delay_day(self.obligation.due_on, first) > period.last_day:
            return False
        start = period.first_day
        paid = sum((p.amount for p in self.payments if p.paid_on < start and p.amount > 0), _ZERO)
        return self.obligation.principal > paid


def penalty_lines(
    account: str,
    period: Period,
    debts: Iterable[Debt],
    services: Mapping[str, Service],
    rules: Mapping[Preset, PenaltyRules],
) -> tuple[tuple[ChargeLine, ...], tuple[Issue, ...]]:
    """The `penalty` lines of `account` for `period`: one per provider and service, the sum
    of `period_penalty` over its debts of every earlier period, however old (no line when it
    is 0). `services` is the catalogue (the scheme, the unit, the name); `rules` has the
    rules of each preset. The line's key is stable — kind and rule `penalty`, no zone or
    tier, the whole period's days — so recompute-and-diff pairs it with what was posted.

    `Explanation.values`: `rows` (their number) and per row `k` (1-based, by the debt's
    period, then date): `period_k` (the debt's period), `due_k`, `from_k`, `to_k`
    (inclusive), `days_k`, `delay_k` (the delay day number of `from_k`), `base_k`,
    `rate_k`, `fraction_k` ("1/300"), `amount_k`; `moratorium_k` (the window's first day)
    on a moratorium row; `limit_k` and `formula_k` (the row before the limit) on a row the
    scheme's total limit cut."""
    found: dict[tuple[str, str], list[tuple[Debt, PenaltyResult]]] = {}
    issues: list[Issue] = []
    for debt in sorted(debts, key=lambda debt: debt.obligation.period):
        chosen = rules[Preset(services[debt.service].penalty_scheme.value)]
        if not debt.accrues_in(period, chosen.scheme):
            continue
        result = period_penalty(debt.obligation, debt.payments, period, chosen)
        issues.extend(result.issues)
        if result.rows:
            found.setdefault((debt.provider, debt.service), []).append((debt, result))
    lines = []
    for (provider, code), results in sorted(found.items()):
        amount = sum((result.total for _debt, result in results), _NOTHING)
        if amount == 0:
            continue  # a moratorium's rows alone: nothing is charged, no line
        service = services[code]
        lines.append(
            ChargeLine(
                account,
                provider,
                code,
                period,
                LineKind.PENALTY,
                _ZERO,
                service.unit,
                _ZERO,
                amount,
                Explanation(Rule.PENALTY, service.name, _row_values(results)),
                period.span,
            )
        )
    return tuple(lines), tuple(issues)


def _row_values(results: Sequence[tuple[Debt, PenaltyResult]]) -> dict[str, Value]:
    values: dict[str, Value] = {}
    number = 0
    for debt, result in results:
        for row in result.rows:
            number += 1
            values.update(
                {
                    f"period_{number}": str(debt.obligation.period),
                    f"due_{number}": debt.obligation.due_on,
                    f"from_{number}": row.first_day,
                    f"to_{number}": row.last_day,
                    f"days_{number}": row.days,
                    f"delay_{number}": row.explanation.first_delay_day,
                    f"base_{number}": row.base,
                    f"rate_{number}": row.rate,
                    f"fraction_{number}": row.fraction_text,
                    f"amount_{number}": row.amount,
                }
            )
            if row.moratorium is not None:
                values[f"moratorium_{number}"] = row.moratorium.span.start
            if row.explanation.limited:
                values[f"limit_{number}"] = row.explanation.limit
                values[f"formula_{number}"] = row.explanation.formula_amount
    values["rows"] = number
    return values


def _issue(code: str, obligation: Obligation, day: date, amount: Decimal) -> Issue:
    severity = Severity.ERROR if code == NO_KEY_RATE else Severity.WARNING
    return Issue(
        code,
        severity,
        account=obligation.account,
        service=obligation.service,
        values={"date": day, "amount": amount, "period": str(obligation.period)},
    )

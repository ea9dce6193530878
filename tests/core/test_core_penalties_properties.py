"""kvit.core.penalties: properties checked against a day-by-day oracle (spec 3.2, 3.3, 4.4).

The oracle recomputes, for every calendar day, the base B(t), the fraction f(k) and whether a
moratorium applies, straight from the spec's wording, and the rows must agree with it:

* every day after the grace days with a positive base is in exactly one row (one rate), or
  in rows whose bases add up to B(t) (several rates); no other day is in any row; moratorium
  days are in rows with amount 0.00;
* the total is the sum of the rows; a row is a maximal run;
* with a constant rate: the penalty never falls as the calculation date moves on, and a payment
  never raises it (the exact amount; the rounded one by at most a kopeck, see the module doc).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from kvit.core.dating import DateRange
from kvit.core.penalties import (
    ONE_130,
    ONE_300,
    Obligation,
    Payment,
    PenaltyResult,
    PenaltyRow,
    PenaltyRules,
    Preset,
    penalty,
    scheme,
)
from kvit.core.penalty_tables import DEFAULT_RATE_CAPS, KeyRates, Moratorium, penalty_rate
from kvit.core.periods import Period

ONE_DAY = timedelta(days=1)
KOPECK = Decimal("0.01")
RF = [Preset.HOUSING_RF, Preset.CAPITAL_REPAIR_RF, Preset.RSO_FROM_UK_RF]
PRESETS = [*RF, Preset.LEGAL_ELECTRICITY_RF, Preset.CONTRACT_UZ]


@dataclass(frozen=True)
class Case:
    preset: Preset
    grace: int
    switch: int
    old_balance: bool
    obligation: Obligation
    payments: tuple[Payment, ...]
    calc: date
    moratoria: tuple[Moratorium, ...]

    def rules(self, key_rates: KeyRates, capped: bool = False) -> PenaltyRules:
        return PenaltyRules(
            scheme(self.preset, self.grace, self.switch),
            key_rates,
            DEFAULT_RATE_CAPS if capped else (),
            self.moratoria,
            self.old_balance,
        )


def amounts(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda cents: Decimal(cents).scaleb(-2))


@st.composite
def cases(draw: st.DrawFn) -> Case:
    due = draw(st.dates(date(2023, 1, 10), date(2025, 12, 10)))
    principal = draw(amounts(1, 2_000_000))

    def day(low: int, high: int) -> date:
        return due + timedelta(days=draw(st.integers(low, high)))

    payments = tuple(
        Payment(day(-20, 400), draw(amounts(1, int(principal * 130))))
        for _ in range(draw(st.integers(0, 4)))
    )
    moratoria = []
    for _ in range(draw(st.integers(0, 3))):
        start = day(-30, 150)
        length = draw(st.none() | st.integers(1, 120))
        before = day(-40, 20) if draw(st.booleans()) else None
        end = None if length is None else start + length * ONE_DAY
        moratoria.append(Moratorium(DateRange(start, end), before))
    return Case(
        preset=draw(st.sampled_from(PRESETS)),
        grace=draw(st.integers(0, 40)),
        switch=draw(st.integers(1, 120)),
        old_balance=draw(st.booleans()),
        obligation=Obligation(Period.of(due).previous(), principal, due),
        payments=payments,
        calc=day(-5, 450),
        moratoria=tuple(moratoria),
    )


constant_rates = st.integers(0, 250).map(
    lambda per_mille: KeyRates(((date.min, Decimal(per_mille).scaleb(-3)),))
)


@st.composite
def stepped_rates(draw: st.DrawFn) -> KeyRates:
    starts = draw(st.lists(st.dates(date(2023, 1, 1), date(2027, 6, 1)), max_size=5, unique=True))
    steps = [(date(2000, 1, 1), Decimal("0.1"))]
    steps += [(start, Decimal(draw(st.integers(0, 250))).scaleb(-3)) for start in sorted(starts)]
    return KeyRates(tuple(steps))


# --- the oracle -------------------------------------------------------------------------------


def base_on(case: Case, day: date) -> Decimal:
    """B(t): the principal less every payment made by the calculation date that already
    lowers the base on `day`, never below zero."""
    paid = sum(
        (
            p.amount
            for p in case.payments
            if p.amount >= 0
            and p.paid_on <= case.calc
            and (p.paid_on < day if case.old_balance else p.paid_on <= day)
        ),
        Decimal(0),
    )
    return max(case.obligation.principal - paid, Decimal(0))


def fraction_on(case: Case, number: int) -> Fraction:
    """f(k) as spec 3.3 words it."""
    if case.preset is Preset.CAPITAL_REPAIR_RF:
        return ONE_300
    if case.preset is Preset.LEGAL_ELECTRICITY_RF:
        return ONE_130
    if case.preset is Preset.CONTRACT_UZ:
        return Fraction(1)
    if number <= case.grace:
        return Fraction(0)
    return ONE_300 if number <= case.switch else ONE_130


def in_moratorium(case: Case, day: date) -> bool:
    arising = case.obligation.period.last_day
    return any(
        m.span.contains(day)
        and (m.applies_to_obligations_before is None or arising < m.applies_to_obligations_before)
        for m in case.moratoria
    )


def days(case: Case) -> list[date]:
    due = case.obligation.due_on
    return [due + n * ONE_DAY for n in range(1, (case.calc - due).days + 1)]


def exact(row: PenaltyRow) -> Fraction:
    return Fraction(row.base) * row.days * Fraction(row.rate) * row.fraction


def exact_total(result: PenaltyResult, case: Case) -> Fraction:
    total = sum((exact(row) for row in result.rows if row.moratorium is None), Fraction(0))
    if case.preset is not Preset.CONTRACT_UZ:
        return total
    overdue = base_on(case, case.obligation.due_on + ONE_DAY)
    return min(total, Fraction(overdue) / 2)


def covering(result: PenaltyResult, day: date) -> list[PenaltyRow]:
    return [row for row in result.rows if row.first_day <= day <= row.last_day]


def check_common(result: PenaltyResult) -> None:
    assert result.total == sum((row.amount for row in result.rows), Decimal(0))
    assert result.issues == ()
    for row in result.rows:
        assert row.days == (row.last_day - row.first_day).days + 1 > 0
        assert row.base > 0
        assert row.fraction > 0
        assert row.amount >= 0
        if row.moratorium is not None:
            assert row.amount == 0
        elif not row.explanation.limited:
            assert Decimal(row.amount) == _round_half_up(exact(row))


def _round_half_up(value: Fraction) -> Decimal:
    return Decimal((value * 100 + Fraction(1, 2)).__floor__()).scaleb(-2)


# --- properties ---------------------------------------------------------------------------------


@given(cases(), constant_rates)
def test_one_rate_every_accruing_day_in_exactly_one_row(case: Case, key_rates: KeyRates) -> None:
    result = penalty(case.obligation, case.payments, case.calc, case.rules(key_rates))
    check_common(result)
    expected = 0
    for day in days(case):
        number = (day - case.obligation.due_on).days
        found = covering(result, day)
        if fraction_on(case, number) == 0 or base_on(case, day) == 0:
            assert found == []
            continue
        expected += 1
        (row,) = found
        assert row.base == base_on(case, day)
        assert row.fraction == fraction_on(case, number)
        assert (row.moratorium is not None) == in_moratorium(case, day)
    assert sum(row.days for row in result.rows) == expected
    # Rows in date order, each a maximal run.
    for earlier, later in zip(result.rows, result.rows[1:], strict=False):
        assert earlier.last_day < later.first_day
        if later.first_day == earlier.last_day + ONE_DAY:
            assert (earlier.base, earlier.fraction, earlier.rate, earlier.moratorium) != (
                later.base,
                later.fraction,
                later.rate,
                later.moratorium,
            )
    if case.preset is Preset.CONTRACT_UZ:
        overdue = base_on(case, case.obligation.due_on + ONE_DAY)
        assert result.total <= overdue / 2


@given(cases(), stepped_rates())
def test_several_rates_bases_add_up_to_the_day_base(case: Case, key_rates: KeyRates) -> None:
    result = penalty(case.obligation, case.payments, case.calc, case.rules(key_rates, True))
    check_common(result)
    for day in days(case):
        number = (day - case.obligation.due_on).days
        found = covering(result, day)
        if fraction_on(case, number) == 0 or base_on(case, day) == 0:
            assert found == []
            continue
        assert sum((row.base for row in found), Decimal(0)) == base_on(case, day)
        assert len({row.rate for row in found}) == len(found)  # one row per rate and day
    for row in result.rows:
        for basis in row.explanation.rate_bases:
            if case.preset is not Preset.CONTRACT_UZ:
                assert penalty_rate(basis.on, key_rates, DEFAULT_RATE_CAPS) == basis
            assert basis.rate == row.rate


@given(cases(), constant_rates, st.integers(0, 200))
def test_never_falls_as_the_calculation_date_moves_on(
    case: Case, key_rates: KeyRates, more: int
) -> None:
    rules = case.rules(key_rates)
    earlier = penalty(case.obligation, case.payments, case.calc, rules)
    later = penalty(case.obligation, case.payments, case.calc + more * ONE_DAY, rules)
    assert earlier.total <= later.total


@given(cases(), constant_rates, st.integers(-20, 450), amounts(1, 5_000_000))
def test_a_payment_never_raises_the_penalty(
    case: Case, key_rates: KeyRates, offset: int, amount: Decimal
) -> None:
    rules = case.rules(key_rates)
    extra = Payment(case.obligation.due_on + offset * ONE_DAY, amount)
    without = penalty(case.obligation, case.payments, case.calc, rules)
    with_it = penalty(case.obligation, (*case.payments, extra), case.calc, rules)
    assert exact_total(with_it, case_with(case, extra)) <= exact_total(without, case)
    # Rounding per row: the payment may split one row, and two rounded halves can exceed the
    # rounded whole by a kopeck.
    assert with_it.total <= without.total + KOPECK


def case_with(case: Case, payment: Payment) -> Case:
    return Case(
        case.preset,
        case.grace,
        case.switch,
        case.old_balance,
        case.obligation,
        (*case.payments, payment),
        case.calc,
        case.moratoria,
    )


def test_rounding_lets_a_small_payment_add_a_kopeck() -> None:
    """The documented exception of per-row rounding (spec 4.4). 1.00 at 15 % × 1/300 is
    0.0005 a day: 21 days unpaid is 0.0105 → 0.01. Paying 0.01 on day 10 splits it into 10
    days of 1.00 (0.005 → 0.01) and 11 days of 0.99 (0.005445 → 0.01): 0.02."""
    rules = PenaltyRules(scheme(Preset.CAPITAL_REPAIR_RF), KeyRates(((date.min, Decimal("0.15")),)))
    ob = Obligation(Period(2025, 1), Decimal("1.00"), date(2025, 2, 10))
    calc = date(2025, 3, 3)  # delay day 21
    without = penalty(ob, [], calc, rules)
    paid = penalty(ob, [Payment(date(2025, 2, 20), Decimal("0.01"))], calc, rules)
    assert [row.amount for row in without.rows] == [Decimal("0.01")]
    assert [row.amount for row in paid.rows] == [Decimal("0.01"), Decimal("0.01")]
    assert paid.total == without.total + KOPECK
    # The exact penalty did fall.
    assert sum(map(exact, paid.rows)) < sum(map(exact, without.rows))

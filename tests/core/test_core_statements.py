"""kvit.core.statements: the reconciliation act and the turnover statement row (spec 5.3,
5.4; example 25)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from kvit.core.statements import (
    ActRow,
    Entry,
    EntryKind,
    credit,
    debit,
    reconciliation_act,
    turnover_row,
)

D = Decimal
ACCOUNT = "1002003"
MARCH_1, MAY_31 = date(2025, 3, 1), date(2025, 5, 31)
EXAMPLE_25 = (
    Entry(date(2025, 3, 10), "payment, registry 5401", EntryKind.PAYMENT, D("-1250.00")),
    Entry(date(2025, 3, 31), "payment document 2025-03", EntryKind.CHARGE, D("5483.66")),
    Entry(date(2025, 4, 30), "payment document 2025-04", EntryKind.CHARGE, D("5350.37")),
    Entry(date(2025, 4, 30), "recalculation cold water", EntryKind.RECALCULATION, D("-185.08")),
    Entry(date(2025, 5, 12), "payment, registry 5512", EntryKind.PAYMENT, D("-7000.00")),
    Entry(date(2025, 5, 31), "payment document 2025-05", EntryKind.CHARGE, D("5412.90")),
)


def test_example_25_reconciliation_act() -> None:
    act = reconciliation_act(ACCOUNT, MARCH_1, MAY_31, D("1250.00"), EXAMPLE_25)
    assert (act.turnover_debit, act.turnover_credit) == (D("16246.93"), D("8435.08"))
    assert act.closing == D("9061.85")
    assert act.rows[0] == ActRow(
        date(2025, 3, 10), "payment, registry 5401", D("0.00"), D("1250.00")
    )
    assert act.rows[1].debit == D("5483.66")
    assert act.rows[1].credit == D("0.00")


def test_example_25_turnover_row() -> None:
    row = turnover_row(ACCOUNT, D("1250.00"), EXAMPLE_25)
    assert (row.opening_debit, row.opening_credit) == (D("1250.00"), D("0.00"))
    assert row.charged == D("16246.93")
    assert row.recalculations == D("-185.08")
    assert row.paid_principal == D("8250.00")
    assert (row.closing_debit, row.closing_credit) == (D("9061.85"), D("0.00"))
    assert (row.benefits, row.penalties, row.paid_penalties, row.write_offs) == (D("0.00"),) * 4


def test_rows_are_ordered_by_date_then_in_posting_order() -> None:
    later = Entry(date(2025, 4, 2), "b", EntryKind.CHARGE, D("2.00"))
    first = Entry(date(2025, 4, 1), "a", EntryKind.CHARGE, D("1.00"))
    same_day = Entry(date(2025, 4, 2), "c", EntryKind.PAYMENT, D("-3.00"))
    act = reconciliation_act(ACCOUNT, MARCH_1, MAY_31, D("0"), [later, first, same_day])
    assert [row.document for row in act.rows] == ["a", "b", "c"]


def test_an_entry_outside_the_period_is_refused() -> None:
    outside = Entry(date(2025, 6, 1), "June", EntryKind.CHARGE, D("1.00"))
    with pytest.raises(
        ValueError, match=re.escape("outside the act's period 2025-03-01..2025-05-31")
    ):
        reconciliation_act(ACCOUNT, MARCH_1, MAY_31, D("0"), [outside])


def test_every_column_of_the_turnover_row_and_its_invariant() -> None:
    day = date(2025, 4, 1)
    entries = [
        Entry(day, "charge", EntryKind.CHARGE, D("1000.00")),
        Entry(day, "recalc +", EntryKind.RECALCULATION, D("50.00")),
        Entry(day, "quality", EntryKind.QUALITY_REDUCTION, D("-20.00")),
        Entry(day, "benefit", EntryKind.BENEFIT, D("-300.00")),
        Entry(day, "penalty", EntryKind.PENALTY, D("12.34")),
        Entry(day, "payment", EntryKind.PAYMENT, D("-900.00")),
        Entry(day, "penalty paid", EntryKind.PENALTY_PAYMENT, D("-10.00")),
        Entry(day, "write-off", EntryKind.WRITE_OFF, D("-5.00")),
        Entry(day, "transfer", EntryKind.TRANSFER, D("-1.00")),
        Entry(day, "payment reversed", EntryKind.REVERSAL, D("100.00"), reverses=EntryKind.PAYMENT),
    ]
    row = turnover_row(ACCOUNT, D("-500.00"), entries)
    assert (row.opening_debit, row.opening_credit) == (D("0.00"), D("500.00"))
    assert row.charged == D("1000.00")
    assert row.recalculations == D("30.00")
    assert row.benefits == D("300.00")
    assert row.penalties == D("12.34")
    assert row.paid_principal == D("800.00")
    assert row.paid_penalties == D("10.00")
    assert row.write_offs == D("6.00")
    net = D("-500.00") + sum((entry.amount for entry in entries), D(0))
    assert row.closing == net == D("-573.66")
    assert (row.closing_debit, row.closing_credit) == (D("0.00"), D("573.66"))
    act = reconciliation_act(ACCOUNT, day, day, D("-500.00"), entries)
    assert act.closing == net


def test_balance_columns() -> None:
    assert (debit(D("5.00")), credit(D("5.00"))) == (D("5.00"), D("0.00"))
    assert (debit(D("-5.00")), credit(D("-5.00"))) == (D("0.00"), D("5.00"))
    assert (debit(D("0")), credit(D("0"))) == (D("0.00"), D("0.00"))


def test_a_reversal_names_what_it_reverses_and_only_a_reversal_does() -> None:
    day = date(2025, 4, 1)
    with pytest.raises(ValueError, match="must name the kind of the operation it reverses"):
        Entry(day, "storno", EntryKind.REVERSAL, D("1.00"))
    with pytest.raises(ValueError, match="must name the kind of the operation it reverses"):
        Entry(day, "storno", EntryKind.REVERSAL, D("1.00"), reverses=EntryKind.REVERSAL)
    with pytest.raises(ValueError, match="only a reversal reverses an operation, not a charge"):
        Entry(day, "charge", EntryKind.CHARGE, D("1.00"), reverses=EntryKind.PAYMENT)
    entry = Entry(day, "storno", "reversal", D("1.00"), reverses="charge")  # type: ignore[arg-type]
    assert (entry.kind, entry.reverses, entry.column) == (
        EntryKind.REVERSAL,
        EntryKind.CHARGE,
        EntryKind.CHARGE,
    )


def test_amounts_come_in_through_to_decimal() -> None:
    with pytest.raises(TypeError):
        Entry(date(2025, 4, 1), "x", EntryKind.CHARGE, 1.5)  # type: ignore[arg-type]
    entry = Entry(date(2025, 4, 1), "x", EntryKind.CHARGE, "1.50")  # type: ignore[arg-type]
    assert entry.amount == D("1.50")

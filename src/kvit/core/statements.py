"""The reconciliation act and the turnover statement row of one account (spec 5.3, 5.4;
example 25).

Both read ledger entries with the ledger's sign (spec 1.9): what increases the debt is
positive (charges, penalties, positive recalculations, refunds), what reduces it negative
(payments, benefits, negative recalculations, write-offs). Balances are net amounts in the
same sign: positive, the consumer owes (debit); negative, an advance (credit).

* `reconciliation_act`: rows by date, then in the order given (the posting sequence), with
  the positive amounts in the debit column and the negative ones in the credit column; the
  turnover Σ debit, Σ credit; the closing balance `opening + Σ debit − Σ credit`.
* `turnover_row`: the columns of the turnover statement, with
  `closing = opening + charged + recalculations − benefits + penalties − paid_principal −
  paid_penalties − write_offs`. Benefits, payments and write-offs are shown as positive
  numbers. [DECISION] A quality reduction counts as a recalculation, a transfer with the
  write-offs (the statement's "write-offs / transfers" column), and a reversal in the
  column of the operation it reverses.

Totals are sums of rounded amounts and are never rounded again (spec 4.1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from kvit.core.money import to_decimal

_ZERO = Decimal("0.00")


class EntryKind(StrEnum):
    """The ledger kinds of spec 1.9."""

    CHARGE = "charge"
    RECALCULATION = "recalculation"
    BENEFIT = "benefit"
    QUALITY_REDUCTION = "quality_reduction"
    PAYMENT = "payment"
    PENALTY = "penalty"
    PENALTY_PAYMENT = "penalty_payment"
    REVERSAL = "reversal"
    TRANSFER = "transfer"
    WRITE_OFF = "write_off"


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger operation of the account: `amount` with the ledger's sign. A reversal
    names the kind of the operation it reverses (`reverses`)."""

    day: date
    document: str
    kind: EntryKind
    amount: Decimal
    reverses: EntryKind | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", EntryKind(self.kind))
        object.__setattr__(self, "amount", to_decimal(self.amount))
        if self.kind is EntryKind.REVERSAL:
            if self.reverses is None or EntryKind(self.reverses) is EntryKind.REVERSAL:
                raise ValueError(
                    f"the reversal of {self.day} ({self.document}) must name the kind of the "
                    "operation it reverses"
                )
            object.__setattr__(self, "reverses", EntryKind(self.reverses))
        elif self.reverses is not None:
            raise ValueError(f"only a reversal reverses an operation, not a {self.kind}")

    @property
    def column(self) -> EntryKind:
        """The kind whose column the entry is counted in (a reversal: what it reverses)."""
        return self.kind if self.reverses is None else self.reverses


def debit(net: Decimal) -> Decimal:
    """A net balance in the debit column: the consumer owes (0.00 otherwise)."""
    return net if net > 0 else _ZERO


def credit(net: Decimal) -> Decimal:
    """A net balance in the credit column: an advance, as a positive number (0.00 otherwise)."""
    return net.copy_negate() if net < 0 else _ZERO


@dataclass(frozen=True, slots=True)
class ActRow:
    day: date
    document: str
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True, slots=True)
class ReconciliationAct:
    """The act for `[first_day, last_day]` (inclusive, as printed): opening balance, rows,
    turnover and closing balance (spec 5.3)."""

    account: str
    first_day: date
    last_day: date
    opening: Decimal
    rows: tuple[ActRow, ...]
    turnover_debit: Decimal
    turnover_credit: Decimal

    @property
    def closing(self) -> Decimal:
        return self.opening + self.turnover_debit - self.turnover_credit


def reconciliation_act(
    account: str, first_day: date, last_day: date, opening: Decimal, entries: Iterable[Entry]
) -> ReconciliationAct:
    """The reconciliation act of `account` from `first_day` to `last_day`, both included.

    `opening` is the net balance at the start of `first_day`; `entries` are the operations
    of the period in posting order. An entry outside the period raises ValueError (it
    belongs to the opening balance or to a later act).
    """
    ordered = sorted(entries, key=lambda entry: entry.day)  # stable: posting order kept
    for entry in ordered:
        if not first_day <= entry.day <= last_day:
            raise ValueError(
                f"the entry of {entry.day} ({entry.document}) is outside the act's period "
                f"{first_day}..{last_day}"
            )
    rows = tuple(
        ActRow(entry.day, entry.document, debit(entry.amount), credit(entry.amount))
        for entry in ordered
    )
    return ReconciliationAct(
        account=account,
        first_day=first_day,
        last_day=last_day,
        opening=to_decimal(opening),
        rows=rows,
        turnover_debit=sum((row.debit for row in rows), _ZERO),
        turnover_credit=sum((row.credit for row in rows), _ZERO),
    )


@dataclass(frozen=True, slots=True)
class TurnoverRow:
    """One account's row of the turnover statement (spec 5.4). Benefits, payments and
    write-offs are positive numbers; recalculations keep their sign."""

    account: str
    opening: Decimal
    charged: Decimal
    recalculations: Decimal
    benefits: Decimal
    penalties: Decimal
    paid_principal: Decimal
    paid_penalties: Decimal
    write_offs: Decimal

    @property
    def closing(self) -> Decimal:
        return (
            self.opening
            + self.charged
            + self.recalculations
            - self.benefits
            + self.penalties
            - self.paid_principal
            - self.paid_penalties
            - self.write_offs
        )

    @property
    def opening_debit(self) -> Decimal:
        return debit(self.opening)

    @property
    def opening_credit(self) -> Decimal:
        return credit(self.opening)

    @property
    def closing_debit(self) -> Decimal:
        return debit(self.closing)

    @property
    def closing_credit(self) -> Decimal:
        return credit(self.closing)


_COLUMNS = {
    EntryKind.CHARGE: "charged",
    EntryKind.RECALCULATION: "recalculations",
    EntryKind.QUALITY_REDUCTION: "recalculations",
    EntryKind.BENEFIT: "benefits",
    EntryKind.PENALTY: "penalties",
    EntryKind.PAYMENT: "paid_principal",
    EntryKind.PENALTY_PAYMENT: "paid_penalties",
    EntryKind.WRITE_OFF: "write_offs",
    EntryKind.TRANSFER: "write_offs",
}
_SHOWN_POSITIVE = frozenset({"benefits", "paid_principal", "paid_penalties", "write_offs"})


def turnover_row(account: str, opening: Decimal, entries: Iterable[Entry]) -> TurnoverRow:
    """The turnover statement row of `account` over the entries of the period."""
    sums = dict.fromkeys(_COLUMNS.values(), _ZERO)
    for entry in entries:
        column = _COLUMNS[entry.column]
        sums[column] += entry.amount.copy_negate() if column in _SHOWN_POSITIVE else entry.amount
    return TurnoverRow(account=account, opening=to_decimal(opening), **sums)

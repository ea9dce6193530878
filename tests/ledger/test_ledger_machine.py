"""The ledger's invariants hold under any sequence of operations (R13): Hypothesis drives
charges, payments, reversals, period openings and closings, and attempts that must be
refused, and checks the invariants after every step.

Every example runs in a savepoint of the test's transaction and is rolled back afterwards.
The suite's profile is derandomized; `HYPOTHESIS_PROFILE=random` explores new sequences.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from ledger_books import JAN, Books

from kvit.core.periods import Period
from kvit.ledger.actions import close_period, open_period, post_entries, reverse_entry
from kvit.ledger.models import BillingPeriod, LedgerEntry
from kvit.ledger.queries import balance, balance_mismatches, cached_balance

pytestmark = pytest.mark.django_db

amounts = st.integers(min_value=1, max_value=10_000_000).map(lambda cents: Decimal(cents) / 100)


class LedgerMachine(RuleBasedStateMachine):
    """The model: the amounts posted per account, the open and closed periods, and a
    snapshot of each closed period's entries."""

    books: Books
    accounts: list[Any]

    entries = Bundle("entries")

    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.expected = {account.pk: Decimal(0) for account in self.accounts}
        self.open = [JAN]
        self.closed: dict[date, set[tuple[int, Decimal]]] = {}

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def _post(self, account: int, period: int, **fields: Any) -> LedgerEntry:
        target = self.open[period % len(self.open)]
        (entry,) = post_entries(
            [self.books.entry(account=self.accounts[account], period=target, **fields)]
        )
        self.expected[entry.account_id] += entry.amount
        return entry

    # --- operations ---

    @precondition(lambda self: self.open)
    @rule(target=entries, account=st.integers(0, 1), period=st.integers(0, 3), amount=amounts)
    def post_charge(self, account: int, period: int, amount: Decimal) -> LedgerEntry:
        return self._post(account, period, amount=amount)

    @precondition(lambda self: self.open)
    @rule(target=entries, account=st.integers(0, 1), period=st.integers(0, 3), amount=amounts)
    def post_payment(self, account: int, period: int, amount: Decimal) -> LedgerEntry:
        return self._post(account, period, kind="payment", service=None, amount=-amount)

    @precondition(lambda self: self.open)
    @rule(entry=consumes(entries))
    def reverse(self, entry: LedgerEntry) -> None:
        reversal = reverse_entry(entry, self.books.user, "machine")
        self.expected[reversal.account_id] += reversal.amount
        with pytest.raises(ValidationError):
            reverse_entry(entry, self.books.user, "twice")

    @rule()
    def open_next_period(self) -> None:
        latest = max([*self.open, *self.closed])
        following = Period.of(latest).next().first_day
        open_period(self.books.tenant, following)
        self.open.append(following)

    @precondition(lambda self: self.open)
    @rule()
    def close_earliest_period(self) -> None:
        period = self.open.pop(0)
        close_period(self.books.tenant, period, self.books.user)
        self.closed[period] = self._entries_of(period)

    @precondition(lambda self: self.closed)
    @rule(amount=amounts)
    def post_into_a_closed_period_is_refused(self, amount: Decimal) -> None:
        period = max(self.closed)
        with pytest.raises(ValidationError):
            post_entries([self.books.entry(period=period, amount=amount)])
        with pytest.raises(ValidationError):
            open_period(self.books.tenant, period)

    @precondition(lambda self: len(self.open) > 1)
    @rule()
    def closing_out_of_order_is_refused(self) -> None:
        with pytest.raises(ValidationError):
            close_period(self.books.tenant, self.open[-1], self.books.user)

    # --- invariants ---

    def _entries_of(self, period: date) -> set[tuple[int, Decimal]]:
        return set(
            LedgerEntry.objects.filter(tenant=self.books.tenant, period=period).values_list(
                "pk", "amount"
            )
        )

    @invariant()
    def balance_is_the_sum_of_entries(self) -> None:
        for account in self.accounts:
            amounts = LedgerEntry.objects.filter(account=account).values_list("amount", flat=True)
            assert balance(account) == sum(amounts, Decimal(0)) == self.expected[account.pk]

    @invariant()
    def cached_balance_is_the_sum_of_entries(self) -> None:
        assert balance_mismatches(self.books.tenant) == []
        for account in self.accounts:
            assert cached_balance(account) == self.expected[account.pk]

    @invariant()
    def every_reversal_nets_to_zero(self) -> None:
        reversals = LedgerEntry.objects.filter(kind="reversal").select_related("corrects")
        for reversal in reversals:
            assert reversal.corrects is not None
            assert reversal.amount + reversal.corrects.amount == 0
        corrected = list(reversals.values_list("corrects_id", flat=True))
        assert len(corrected) == len(set(corrected))  # each entry reversed at most once

    @invariant()
    def closed_periods_are_unchanged(self) -> None:
        for period, snapshot in self.closed.items():
            assert self._entries_of(period) == snapshot
        statuses = dict(
            BillingPeriod.objects.filter(tenant=self.books.tenant).values_list("period", "status")
        )
        assert {p for p, s in statuses.items() if s == "closed"} == set(self.closed)
        assert {p for p, s in statuses.items() if s == "open"} == set(self.open)
        if self.closed and self.open:
            assert max(self.closed) < min(self.open)


def test_ledger_invariants_hold_under_any_sequence(make: Any, books: Books) -> None:
    LedgerMachine.books = books
    LedgerMachine.accounts = [
        books.account,
        make.account(make.premise(make.building(books.tenant))),
    ]
    run_state_machine_as_test(
        LedgerMachine, settings=settings(max_examples=30, stateful_step_count=15)
    )

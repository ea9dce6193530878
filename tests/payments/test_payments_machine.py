"""Payment invariants hold under any sequence of operations (R13): Hypothesis drives charges,
payments (to the desk's two accounts or to an unknown one), replays, conflicting replays,
reversals and transfers from suspense, and checks the invariants after every step.

Every example runs in a savepoint of the test's transaction and is rolled back afterwards.
The suite's profile is derandomized; `HYPOTHESIS_PROFILE=random` explores new sequences.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
)
from payment_desk import FEB, JAN, Desk, at

from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance, balance_mismatches
from kvit.payments.actions import (
    PaymentRecord,
    Result,
    post_payment,
    reverse_payment,
    transfer_from_suspense,
)
from kvit.payments.mapping import open_debts
from kvit.payments.models import Payment

pytestmark = pytest.mark.django_db

amounts = st.integers(min_value=1, max_value=100_000).map(lambda cents: Decimal(cents) / 100)
days = st.integers(min_value=1, max_value=31).map(lambda day: at(date(2024, 3, day)))


class PaymentMachine(RuleBasedStateMachine):
    """The model: each account's expected balance and every payment key posted so far."""

    desk: Desk
    accounts: list[Any]

    payments = Bundle("payments")

    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.expected = {account.pk: Decimal(0) for account in self.accounts}
        self.records: dict[tuple[str, str], PaymentRecord] = {}
        self.numbers = itertools.count(1)

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # --- operations ---

    @rule(account=st.integers(0, 1), heat=st.booleans(), february=st.booleans(), amount=amounts)
    def charge(self, account: int, heat: bool, february: bool, amount: Decimal) -> None:
        service = self.desk.heat_service if heat else self.desk.water_service
        kind = "penalty" if february and heat else "charge"
        target = self.accounts[account]
        entry = self.desk.charge(str(amount), FEB if february else JAN, service, kind, target)
        self.expected[target.pk] += entry.amount

    @rule(target=payments, account=st.integers(0, 2), amount=amounts, paid_at=days)
    def pay(self, account: int, amount: Decimal, paid_at: Any) -> Payment:
        number = self.accounts[account].number if account < 2 else "unknown"
        record = self.desk.record(
            str(amount),
            external_id=f"m-{next(self.numbers)}",
            account_number=number,
            paid_at=paid_at,
        )
        # An account that was never charged has nobody to credit: suspense (no provider).
        known = account < 2 and LedgerEntry.objects.filter(account=self.accounts[account]).exists()
        outcome = post_payment(record)
        self.records[(record.source, record.external_id)] = record
        if known:
            assert outcome.result is Result.POSTED
            self.expected[self.accounts[account].pk] -= amount
        else:
            assert outcome.result is Result.SUSPENSE
        return outcome.payment

    @rule(payment=payments)
    def replay(self, payment: Payment) -> None:
        record = self.records[(payment.source, payment.external_id)]
        outcome = post_payment(record)
        assert outcome.result is Result.DUPLICATE
        assert outcome.payment.pk == payment.pk

    @rule(payment=payments, more=amounts)
    def replay_with_another_amount(self, payment: Payment, more: Decimal) -> None:
        record = self.records[(payment.source, payment.external_id)]
        outcome = post_payment(record._replace(amount=Decimal(record.amount) + more))
        assert (outcome.result, outcome.differences) == (Result.CONFLICT, ("amount",))

    @rule(payment=consumes(payments))
    def reverse(self, payment: Payment) -> None:
        stored = Payment.objects.get(pk=payment.pk)
        if stored.status == Payment.Status.REVERSED:
            return
        on_account = stored.status in Payment.ON_ACCOUNT
        reverse_payment(stored, "machine", self.desk.user)
        if on_account:
            self.expected[stored.account_id] += stored.amount
        with pytest.raises(ValidationError):
            reverse_payment(stored, "twice", self.desk.user)

    @precondition(lambda self: Payment.objects.filter(status="suspense").exists())
    @rule(account=st.integers(0, 1))
    def transfer(self, account: int) -> None:
        payment = Payment.objects.filter(status="suspense").order_by("id").first()
        assert payment is not None
        target = self.accounts[account]
        try:
            transfer_from_suspense(payment, target, self.desk.user)
        except ValidationError:  # nothing owed and nobody to credit yet
            assert not LedgerEntry.objects.filter(account=target).exists()
            return
        self.expected[target.pk] -= payment.amount

    # --- invariants ---

    @invariant()
    def balance_is_the_sum_of_entries(self) -> None:
        for account in self.accounts:
            amounts = LedgerEntry.objects.filter(account=account).values_list("amount", flat=True)
            assert balance(account) == sum(amounts, Decimal(0)) == self.expected[account.pk]
        assert balance_mismatches(self.desk.tenant) == []

    @invariant()
    def each_key_is_recorded_once(self) -> None:
        keys = Payment.objects.values("source", "external_id").annotate(n=Count("id"))
        assert {(k["source"], k["external_id"]) for k in keys} == set(self.records)
        assert {k["n"] for k in keys} <= {1}

    @invariant()
    def a_payment_credits_its_amount_once_and_a_reversal_nets_it_to_zero(self) -> None:
        sums: dict[str, Decimal] = {}
        for source, amount in LedgerEntry.objects.filter(
            source_kind="payment", kind__in=["payment", "reversal"]
        ).values_list("source_id", "amount"):
            sums[source] = sums.get(source, Decimal(0)) + amount
        for payment in Payment.objects.all():
            credited = -payment.amount if payment.status in Payment.ON_ACCOUNT else 0
            assert sums.get(str(payment.pk), Decimal(0)) == credited
        for reversal in LedgerEntry.objects.filter(kind="reversal").select_related("corrects"):
            assert reversal.corrects is not None
            assert reversal.amount + reversal.corrects.amount == 0

    @invariant()
    def no_debt_is_settled_beyond_what_is_owed(self) -> None:
        debts = open_debts([account.pk for account in self.accounts])
        for account in debts.values():
            for (_provider, service, _period, _kind), (net, _billed) in account.nets.items():
                assert service is None or net >= 0


def test_payment_invariants_hold_under_any_sequence(make: Any, desk: Desk) -> None:
    PaymentMachine.desk = desk
    PaymentMachine.accounts = [desk.account, make.account(desk.account.premise)]
    PaymentMachine.TestCase.settings = settings(max_examples=15, stateful_step_count=12)
    PaymentMachine.TestCase().runTest()

"""Payments posted at the same moment by several processes (R1, R4, R15; PostgreSQL).

Eight forked processes wait on a barrier with their own connection open, then post at once.
The same key must post once (the unique constraint decides, not a check before the insert);
different payments of one account must be allocated one after the other (the account lock),
so that no debt is settled twice and the rest becomes an advance.
"""

from __future__ import annotations

import multiprocessing
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from payment_desk import FEB, JAN, Desk

from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance, balance_mismatches
from kvit.payments.actions import PaymentRecord, post_payment
from kvit.payments.mapping import open_debts
from kvit.payments.models import Payment

PROCESSES = 8
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_append_only"),
]


def billed(desk: Desk) -> None:
    desk.charge("300.00", JAN)
    desk.charge("200.00", JAN, desk.heat_service)
    desk.charge("150.00", FEB)


def _post(record: PaymentRecord, barrier: Any, results: Any) -> None:
    """In a child: a connection of its own (the parent's were closed before the fork), then
    all together past the barrier."""
    connections.close_all()
    try:
        connection.ensure_connection()
        barrier.wait(30)
        results.put(post_payment(record).result.value)
    except Exception as error:  # reported to the parent, which fails the test
        results.put(f"error: {error!r}")
    finally:
        connections.close_all()


def at_once(records: list[PaymentRecord]) -> list[str]:
    """Post each record in its own process, all at the same moment; their results, sorted."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(records))
    results = context.Queue()
    connections.close_all()  # the children must not share the parent's connection
    children = [
        context.Process(target=_post, args=(record, barrier, results)) for record in records
    ]
    for child in children:
        child.start()
    found = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    return sorted(found)


@pytest.mark.parametrize("number", ["000101", "nobody"], ids=["account", "suspense"])
def test_the_same_payment_posted_by_eight_processes_at_once_posts_once(
    desk: Desk, number: str
) -> None:
    billed(desk)
    record = desk.record("400.00", account_number=number)
    first = "posted" if number == desk.account.number else "suspense"
    assert at_once([record] * PROCESSES) == sorted([first] + ["duplicate"] * (PROCESSES - 1))
    payment = Payment.objects.get()
    assert (payment.source, payment.external_id) == (record.source, record.external_id)
    entries = LedgerEntry.objects.filter(kind="payment")
    if number == desk.account.number:
        assert sorted(entries.values_list("amount", flat=True)) == [
            Decimal("-240.00"),
            Decimal("-160.00"),
        ]
        assert set(entries.values_list("source_id", flat=True)) == {str(payment.pk)}
        assert balance(desk.account) == Decimal("250.00")  # 650.00 less 400.00, once
    else:
        assert not entries.exists()
        assert balance(desk.account) == Decimal("650.00")
    assert payment.events.count() == 1
    assert balance_mismatches(desk.tenant) == []


def test_eight_payments_of_one_account_at_once_are_allocated_one_after_the_other(
    desk: Desk,
) -> None:
    billed(desk)
    records = [desk.record("100.00") for _ in range(PROCESSES)]
    assert at_once(records) == ["posted"] * PROCESSES
    # 800.00 against 650.00 owed: every debt settled exactly once, 150.00 of advance.
    assert balance(desk.account) == Decimal("-150.00")
    nets = open_debts([desk.account.pk])[desk.account.pk].nets
    owed = {key: net for key, (net, _billed) in nets.items() if key[1] is not None}
    assert set(owed.values()) == {Decimal("0.00")}
    advances = LedgerEntry.objects.filter(kind="payment", rule="advance")
    assert sum(advances.values_list("amount", flat=True), Decimal(0)) == Decimal("-150.00")
    assert balance_mismatches(desk.tenant) == []

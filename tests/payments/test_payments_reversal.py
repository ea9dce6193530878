"""Reversal (spec 6.3), suspense (6.4: transfer keeping the payment date, refund) and refunds
of an advance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from payment_desk import FEB, JAN, MAR, Desk, at

from kvit.ledger.actions import close_period, reverse_entry
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance, balance_mismatches
from kvit.payments.actions import (
    Result,
    post_payment,
    refund_advance,
    refund_suspense,
    reverse_payment,
    transfer_from_suspense,
)
from kvit.payments.models import Payment

pytestmark = pytest.mark.django_db

PAID_AT = at(date(2024, 3, 5))


def billed(desk: Desk) -> None:
    desk.charge("300.00", JAN)
    desk.charge("200.00", JAN, desk.heat_service)
    desk.charge("150.00", FEB)


def payment_sum(payment: Payment) -> Decimal:
    return sum(
        LedgerEntry.objects.filter(
            source_kind="payment", source_id=str(payment.pk), kind__in=["payment", "reversal"]
        ).values_list("amount", flat=True),
        Decimal(0),
    )


# --- reversal -----------------------------------------------------------------------------


def test_a_reversal_nets_the_payment_to_zero_and_restores_the_balance(desk: Desk) -> None:
    billed(desk)
    before = balance(desk.account)
    payment = post_payment(desk.record("900.00")).payment  # principal, then an advance
    reversals = reverse_payment(payment, "bank recalled it", desk.user, on=date(2024, 3, 20))
    assert len(reversals) == 4
    assert payment_sum(payment) == 0
    assert balance(desk.account) == before
    assert balance_mismatches(desk.tenant) == []
    for reversal in reversals:
        assert reversal.corrects is not None
        assert reversal.amount == -reversal.corrects.amount
        assert (reversal.provider_id, reversal.service_id, reversal.period, reversal.rule) == (
            reversal.corrects.provider_id,
            reversal.corrects.service_id,
            reversal.corrects.period,
            reversal.corrects.rule,
        )
        assert (reversal.posted_on, reversal.reason, reversal.created_by) == (
            date(2024, 3, 20),
            "bank recalled it",
            desk.user,
        )
    # Latest first: the advance is undone before the principal it followed (spec 6.3).
    assert reversals[0].corrects is not None
    assert reversals[0].corrects.rule == "advance"
    payment.refresh_from_db()
    assert payment.status == "reversed"
    event = payment.events.last()
    assert (event.kind, event.reason, event.by, event.details) == (
        "reversed",
        "bank recalled it",
        desk.user,
        {"entries": 4},
    )


def test_after_a_reversal_the_next_payment_sees_the_debt_again(desk: Desk) -> None:
    billed(desk)
    first = post_payment(desk.record("400.00")).payment
    reverse_payment(first, "wrong account", desk.user)
    second = post_payment(desk.record("400.00")).payment
    assert desk.entries(second) == [
        ("Teplo", "heat", JAN, None, "payment", "principal", Decimal("-160.00")),
        ("Vodokanal", "water", JAN, None, "payment", "principal", Decimal("-240.00")),
    ]


def test_reversing_twice_is_refused(desk: Desk) -> None:
    billed(desk)
    payment = post_payment(desk.record("100.00")).payment
    reverse_payment(payment, "once", desk.user)
    with pytest.raises(ValidationError, match="already reversed"):
        reverse_payment(payment, "twice", desk.user)
    stale = Payment.objects.get(pk=payment.pk)
    stale.status = "posted"  # a copy read before the first reversal
    with pytest.raises(ValidationError, match="already reversed"):
        reverse_payment(stale, "twice", desk.user)
    assert payment_sum(payment) == 0
    assert LedgerEntry.objects.filter(kind="reversal").count() == 2


def test_a_reversal_needs_a_reason(desk: Desk) -> None:
    billed(desk)
    payment = post_payment(desk.record("100.00")).payment
    with pytest.raises(ValidationError, match="reason"):
        reverse_payment(payment, "  ", desk.user)


def test_an_entry_reversed_by_hand_is_not_reversed_again(desk: Desk) -> None:
    billed(desk)
    payment = post_payment(desk.record("400.00")).payment
    first = LedgerEntry.objects.filter(kind="payment").order_by("id").first()
    assert first is not None
    reverse_entry(first, desk.user, "by hand")
    reversals = reverse_payment(payment, "the rest", desk.user)
    assert len(reversals) == 1
    assert payment_sum(payment) == 0


def test_a_payment_of_a_period_closed_since_is_reversed_into_the_open_one(desk: Desk) -> None:
    billed(desk)
    payment = post_payment(desk.record("400.00")).payment
    close_period(desk.tenant, JAN, desk.user)
    reverse_payment(payment, "recalled", desk.user)
    reversals = LedgerEntry.objects.filter(kind="reversal")
    assert {(r.period, r.corrects_period) for r in reversals} == {(FEB, JAN)}
    assert payment_sum(payment) == 0


def test_a_payment_in_suspense_is_reversed_without_entries_and_a_refunded_one_not_at_all(
    desk: Desk,
) -> None:
    unknown = post_payment(desk.record("100.00", account_number="nobody")).payment
    assert reverse_payment(unknown, "recalled", desk.user) == []
    assert Payment.objects.get(pk=unknown.pk).status == "reversed"
    other = post_payment(desk.record("100.00", account_number="nobody")).payment
    refund_suspense(other, desk.user, "sent back", today=date(2024, 4, 4))
    with pytest.raises(ValidationError, match="refunded"):
        reverse_payment(other, "recalled", desk.user)


# --- suspense -----------------------------------------------------------------------------


def test_a_transfer_from_suspense_allocates_as_of_the_original_payment_date(desk: Desk) -> None:
    billed(desk)
    payment = post_payment(
        desk.record("400.00", account_number="0101", paid_at=at(date(2024, 3, 2)))
    ).payment
    assert payment.status == "suspense"
    outcome = transfer_from_suspense(payment, desk.account, desk.user)
    assert outcome.result is Result.POSTED
    entries = LedgerEntry.objects.filter(source_id=str(payment.pk), kind="payment")
    assert {e.posted_on for e in entries} == {date(2024, 3, 2)}  # not the day of the transfer
    assert desk.entries(payment) == [
        ("Teplo", "heat", JAN, None, "payment", "principal", Decimal("-160.00")),
        ("Vodokanal", "water", JAN, None, "payment", "principal", Decimal("-240.00")),
    ]
    stored = Payment.objects.get(pk=payment.pk)
    assert (stored.status, stored.account, stored.suspense_reason) == (
        "transferred",
        desk.account,
        "unknown_account",
    )
    assert [e.kind for e in stored.events.all()] == ["suspense", "transferred"]
    assert stored.events.last().details == {"account": "000101", "was": "unknown_account"}
    assert balance(desk.account) == Decimal("250.00")
    with pytest.raises(ValidationError, match="only a payment in suspense"):
        transfer_from_suspense(stored, desk.account, desk.user)
    # A transferred payment is reversed like any other.
    reverse_payment(stored, "wrong account after all", desk.user)
    assert payment_sum(stored) == 0


def test_a_transfer_keeps_the_split_and_refuses_another_organisations_account(
    make: Any, desk: Desk
) -> None:
    billed(desk)
    payment = post_payment(desk.record("100.00", account_number="nobody")).payment
    stranger = make.account(make.premise(make.building(make.tenant())))
    with pytest.raises(ValidationError, match="another organisation"):
        transfer_from_suspense(payment, stranger, desk.user)
    assert Payment.objects.get(pk=payment.pk).status == "suspense"


def test_a_transfer_to_an_account_nobody_can_be_credited_on_is_refused(
    make: Any, desk: Desk
) -> None:
    payment = post_payment(desk.record("100.00", account_number="nobody")).payment
    empty = make.account(desk.account.premise)
    with pytest.raises(ValidationError, match="no provider"):
        transfer_from_suspense(payment, empty, desk.user)
    assert Payment.objects.get(pk=payment.pk).status == "suspense"


def test_a_payment_in_suspense_is_refunded_only_after_the_waiting_days(desk: Desk) -> None:
    payment = post_payment(desk.record("100.00", account_number="nobody")).payment
    with pytest.raises(ValidationError, match="from 2024-04-04 on"):
        refund_suspense(payment, desk.user, "not ours", today=date(2024, 4, 3))
    refund_suspense(payment, desk.user, "not ours", today=date(2024, 4, 4))
    stored = Payment.objects.get(pk=payment.pk)
    assert stored.status == "refunded"
    assert stored.events.last().reason == "not ours"
    with pytest.raises(ValidationError, match="only a payment in suspense"):
        refund_suspense(stored, desk.user, "again", today=date(2024, 5, 1))
    with pytest.raises(ValidationError, match="reason"):
        refund_suspense(stored, desk.user, "")


# --- refund of an advance -------------------------------------------------------------------


def test_an_advance_is_refunded_up_to_what_it_is(make: Any, desk: Desk) -> None:
    desk.charge("100.00", JAN)
    post_payment(desk.record("250.00", provider_id=desk.water.pk))  # advance 150.00
    entry = refund_advance(desk.account, desk.water, "100.00", desk.user, "moved out")
    assert (entry.kind, entry.rule, entry.amount, entry.service, entry.period) == (
        "transfer",
        "refund",
        Decimal("100.00"),
        None,
        MAR,
    )
    assert balance(desk.account, provider=desk.water) == Decimal("-50.00")
    with pytest.raises(ValidationError, match=r"is 50\.00: 60\.00 cannot be refunded"):
        refund_advance(desk.account, desk.water, "60.00", desk.user, "more")
    with pytest.raises(ValidationError, match=r"is 0\.00"):
        refund_advance(desk.account, desk.heat, "1.00", desk.user, "heat has none")
    with pytest.raises(ValidationError, match="positive"):
        refund_advance(desk.account, desk.water, "0", desk.user, "nothing")
    with pytest.raises(ValidationError, match="reason"):
        refund_advance(desk.account, desk.water, "1.00", desk.user, "")
    stranger = make.provider(make.tenant())
    with pytest.raises(ValidationError, match="another organisation"):
        refund_advance(desk.account, stranger, "1.00", desk.user, "other")
    assert balance_mismatches(desk.tenant) == []

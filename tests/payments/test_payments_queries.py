"""Read-side payment queries: an account's payments, the suspense list, the remittance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from payment_desk import FEB, JAN, Desk, at

from kvit.ledger.actions import reverse_entry
from kvit.ledger.models import LedgerEntry
from kvit.payments.actions import post_payment, reverse_payment
from kvit.payments.queries import payments_of, remittance, suspense

pytestmark = pytest.mark.django_db


def billed(desk: Desk) -> None:
    desk.charge("300.00", JAN)
    desk.charge("200.00", JAN, desk.heat_service)
    desk.charge("150.00", FEB)


def test_an_accounts_payments_latest_first(make: Any, desk: Desk) -> None:
    billed(desk)
    early = post_payment(desk.record("1.00", paid_at=at(date(2024, 3, 1)))).payment
    late = post_payment(desk.record("2.00", paid_at=at(date(2024, 3, 9)))).payment
    post_payment(desk.record("3.00", account_number="nobody"))
    assert list(payments_of(desk.account)) == [late, early]


def test_the_suspense_list_oldest_first(make: Any, desk: Desk) -> None:
    billed(desk)
    post_payment(desk.record("1.00"))
    late = post_payment(desk.record("2.00", account_number="x", paid_at=at(date(2024, 3, 9))))
    early = post_payment(desk.record("3.00", account_number="y", paid_at=at(date(2024, 3, 1))))
    post_payment(desk.record("4.00", account_number="z", tenant_id=make.tenant().pk))
    assert list(suspense(desk.tenant)) == [early.payment, late.payment]


def test_the_remittance_per_provider_adds_up_to_the_payment_entries(desk: Desk) -> None:
    billed(desk)
    # 400.00 with a fee of 5.00: water 240.00, heat 160.00; the fee split 240 : 160.
    post_payment(desk.record("400.00", fee="5.00", paid_at=at(date(2024, 3, 2))))
    # 150.00 with a fee of 1.50, all water (February).
    post_payment(desk.record("250.00", fee="1.50", paid_at=at(date(2024, 3, 3))))
    # Reversed within the range: it and its fee cancel out.
    gone = post_payment(desk.record("100.00", fee="1.00", paid_at=at(date(2024, 3, 4))))
    reverse_payment(gone.payment, "recalled", desk.user, on=date(2024, 3, 6))
    # Outside the range, and in suspense.
    post_payment(desk.record("70.00", fee="0.70", paid_at=at(date(2024, 3, 20))))
    post_payment(desk.record("30.00", fee="0.30", account_number="nobody"))

    report = remittance(desk.tenant, date(2024, 3, 1), date(2024, 3, 10))
    lines = {line.provider: (line.collected, line.fees, line.net) for line in report.lines}
    # The first payment's fee 5.00 is split 240 : 160 → 3.00 and 2.00. The second meets
    # January's remaining 60.00 water and 40.00 heat, then February's 150.00 water: water
    # 210.00, heat 40.00; its fee 1.50 split 210 : 40 → 1.26 and 0.24. The third (an advance
    # of 100.00, water) and its reversal cancel out, fee and all.
    assert lines == {
        "Teplo": (Decimal("200.00"), Decimal("2.24"), Decimal("197.76")),
        "Vodokanal": (Decimal("450.00"), Decimal("4.26"), Decimal("445.74")),
    }
    assert (report.collected, report.fees, report.net) == (
        Decimal("650.00"),
        Decimal("6.50"),
        Decimal("643.50"),
    )
    assert (report.suspense, report.suspense_fees) == (Decimal("30.00"), Decimal("0.30"))
    entries = LedgerEntry.objects.filter(
        source_kind="payment",
        kind__in=["payment", "reversal"],
        posted_on__gte=date(2024, 3, 1),
        posted_on__lte=date(2024, 3, 10),
    ).aggregate(total=Sum("amount"))["total"]
    assert report.collected == -entries


def test_a_reversal_after_the_range_shows_in_the_range_it_was_posted_in(desk: Desk) -> None:
    billed(desk)
    gone = post_payment(desk.record("100.00", fee="1.00", paid_at=at(date(2024, 3, 4))))
    reverse_payment(gone.payment, "recalled", desk.user, on=date(2024, 3, 15))
    first = remittance(desk.tenant, date(2024, 3, 1), date(2024, 3, 10))
    later = remittance(desk.tenant, date(2024, 3, 11), date(2024, 3, 31))
    assert (first.collected, first.fees) == (Decimal("100.00"), Decimal("1.00"))
    assert (later.collected, later.fees) == (Decimal("-100.00"), Decimal("-1.00"))
    assert {line.provider: line.fees for line in later.lines} == {
        "Teplo": Decimal("-0.40"),
        "Vodokanal": Decimal("-0.60"),
    }


def test_a_payment_partly_reversed_by_hand_gives_back_its_share_of_the_fee(desk: Desk) -> None:
    desk.charge("300.00", JAN)
    desk.charge("200.00", JAN, desk.heat_service)
    # 600.00 with a fee of 6.00: water 300.00 + advance 60.00, heat 200.00 + advance 40.00;
    # the fee split 360 : 240 → 3.60 and 2.40.
    post_payment(desk.record("600.00", fee="6.00", paid_at=at(date(2024, 3, 4))))
    advance = LedgerEntry.objects.get(kind="payment", provider=desk.heat, rule="advance")
    reverse_entry(advance, desk.user, "by hand", posted_on=date(2024, 3, 15))
    later = remittance(desk.tenant, date(2024, 3, 11), date(2024, 3, 31))
    # 40.00 of heat's 240.00 comes back, and with it 40/240 of its 2.40 of fee.
    assert [(line.provider, line.collected, line.fees) for line in later.lines] == [
        ("Teplo", Decimal("-40.00"), Decimal("-0.40"))
    ]

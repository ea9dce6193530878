"""`kvit bill_demo`: the seed's months billed in order, the last left open, safe to repeat."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from kvit.billing.models import BillRun
from kvit.controls.models import ToDo
from kvit.ledger.models import BillingPeriod, LedgerEntry


@pytest.mark.usefixtures("seeded")
@pytest.mark.django_db
def test_the_demo_months_are_billed_once() -> None:
    call_command("bill_demo", stdout=StringIO())
    still_open = BillingPeriod.objects.filter(status=BillingPeriod.Status.OPEN)
    assert sorted({p.period for p in still_open}) == [date(2025, 6, 1)]
    assert BillingPeriod.objects.filter(status=BillingPeriod.Status.CLOSED).count() == 2 * 10
    entries, runs = LedgerEntry.objects.count(), BillRun.objects.count()
    assert entries > 0
    assert not ToDo.objects.exists()  # the checks found the demo's books in order
    out = StringIO()
    call_command("bill_demo", stdout=out)
    assert LedgerEntry.objects.count() == entries  # the open month again: nothing new
    assert BillRun.objects.count() == runs + 2
    assert "2025-06…2025-06: 0 entries" in out.getvalue()
    assert out.getvalue().count("reconciled: 0 differences") == 2

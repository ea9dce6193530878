"""`kvit.db.bulk.instance`: a model instance built from values by attribute name, the same
as `Model(**values)` builds it, and saved the same."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db.models.signals import post_init

from kvit.db.bulk import instance
from kvit.payments.models import Payment

VALUES = {
    "source": "bank",
    "external_id": "OP-1",
    "paid_at": datetime(2025, 6, 1, 9, 30, tzinfo=UTC),
    "amount": Decimal("10.00"),
    "fee": Decimal("0.10"),
    "net_amount": Decimal("9.90"),
    "status": Payment.Status.SUSPENSE,
    "suspense_reason": Payment.SuspenseReason.UNKNOWN_ACCOUNT,
    "account_id": None,
}


def fields(payment: Payment) -> dict[str, Any]:
    return {f.attname: getattr(payment, f.attname) for f in Payment._meta.concrete_fields}


def test_the_same_instance_as_the_models_own() -> None:
    built, usual = instance(Payment, VALUES), Payment(**VALUES)
    assert fields(built) == fields(usual)  # the defaults too (blank texts, no period)
    assert fields(built)["account_number"] == "" and fields(built)["id"] is None
    assert (built._state.adding, built._state.db) == (True, None)
    assert set(vars(built)) == set(vars(usual))
    assert instance(Payment, VALUES)._state is not built._state  # each its own


@pytest.mark.django_db
def test_it_saves_and_reads_back(make: Any) -> None:
    tenant = make.tenant()
    built = instance(Payment, {**VALUES, "tenant_id": tenant.pk})
    built.save()
    assert fields(Payment.objects.get(pk=built.pk)) == fields(built)
    assert built._state.adding is False


def test_receivers_of_init_signals_are_called() -> None:
    seen: list[Payment] = []

    def receiver(sender: Any, instance: Payment, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=Payment)
    try:
        built = instance(Payment, VALUES)
    finally:
        post_init.disconnect(receiver, sender=Payment)
    assert seen == [built]

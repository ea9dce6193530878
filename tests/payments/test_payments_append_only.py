"""A payment's split lines and events are never changed nor deleted: the database refuses,
on SQLite and on PostgreSQL (R14, R24). Only the payment's status moves, and each move is a
new event."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, models, transaction
from payment_desk import JAN, Desk

from append_only_checks import raw, refused
from kvit.payments.actions import SplitPart, post_payment
from kvit.payments.models import Payment, PaymentEvent, PaymentSplit

pytestmark = pytest.mark.django_db

MODELS = {
    PaymentSplit: "payments_split_append_only",
    PaymentEvent: "payments_event_append_only",
}


def paid(desk: Desk) -> Payment:
    desk.charge("100.00", JAN)
    split = (SplitPart(desk.water.pk, desk.water_service.pk, "10.00"),)
    return post_payment(desk.record("10.00", split=split)).payment


@pytest.mark.parametrize("model", list(MODELS), ids=lambda m: m.__name__)
def test_changing_or_deleting_a_row_is_refused(desk: Desk, model: type[models.Model]) -> None:
    payment = paid(desk)
    rows: Any = model._default_manager.filter(payment=payment)
    row = rows.get()
    table = model._meta.db_table
    refused(MODELS[model], lambda: rows.update(payment=payment))
    refused(MODELS[model], rows.delete)
    refused(MODELS[model], row.save)
    refused(MODELS[model], raw(f'UPDATE "{table}" SET payment_id = payment_id'))  # noqa: S608
    refused(MODELS[model], raw(f'DELETE FROM "{table}" WHERE id = %s', row.pk))  # noqa: S608
    assert rows.count() == 1


def test_a_payment_with_split_and_events_cannot_be_deleted(desk: Desk) -> None:
    payment = paid(desk)
    with pytest.raises(IntegrityError), transaction.atomic():
        payment.delete()
    assert Payment.objects.filter(pk=payment.pk).exists()

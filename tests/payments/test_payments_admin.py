"""Payments in the back-office: read-only lists (all payments, the suspense list), the
reverse and transfer actions, which ask first."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse
from django.utils import translation
from payment_desk import JAN, Desk

from kvit.ledger.models import LedgerEntry
from kvit.payments.actions import post_payment
from kvit.payments.models import Payment

pytestmark = pytest.mark.django_db

PAYMENTS = reverse("admin:payments_payment_changelist")
SUSPENSE = reverse("admin:payments_suspensepayment_changelist")


def client_of(desk: Desk, role: str = "accountant") -> Client:
    client = Client()
    client.force_login(desk.make.user(desk.tenant, role))
    return client


def act(client: Client, url: str, action: str, *payments: Payment, **data: Any) -> Any:
    posted = {"action": action, ACTION_CHECKBOX_NAME: [p.pk for p in payments], **data}
    return client.post(url, posted, follow="post" in data)


@pytest.fixture
def paid(desk: Desk) -> tuple[Payment, Payment]:
    desk.charge("300.00", JAN)
    posted = post_payment(desk.record("100.00", external_id="OP-POSTED")).payment
    unknown = post_payment(desk.record("50.00", external_id="OP-UNKNOWN", account_number="0101"))
    return posted, unknown.payment


def test_payments_are_listed_and_shown_but_never_added_or_changed(
    desk: Desk, paid: tuple[Payment, Payment]
) -> None:
    posted, _ = paid
    client = client_of(desk)
    page = client.get(PAYMENTS).content.decode()
    assert "OP-POSTED" in page and "OP-UNKNOWN" in page
    assert client.get(f"{PAYMENTS}?status__exact=suspense").content.decode().count("OP-") == 1
    assert client.get(reverse("admin:payments_payment_add")).status_code == 403
    change = reverse("admin:payments_payment_change", args=[posted.pk])
    response = client.get(change)
    assert response.status_code == 200
    assert not response.context["adminform"].form.fields  # read-only: nothing to edit
    assert client.post(change, {"amount": "1"}).status_code == 403
    suspense = client.get(SUSPENSE).content.decode()
    assert "OP-UNKNOWN" in suspense and "OP-POSTED" not in suspense


def test_reversing_asks_for_a_reason_first(desk: Desk, paid: tuple[Payment, Payment]) -> None:
    posted, _ = paid
    client = client_of(desk)
    response = act(client, PAYMENTS, "reverse_payments", posted)
    assert response.status_code == 200
    assert "Reverse these payments?" in response.content.decode()
    assert Payment.objects.get(pk=posted.pk).status == "posted"
    response = act(client, PAYMENTS, "reverse_payments", posted, post="yes", reason="")
    assert response.context["form"].errors == {"reason": ["This field is required."]}
    assert Payment.objects.get(pk=posted.pk).status == "posted"
    response = act(client, PAYMENTS, "reverse_payments", posted, post="yes", reason="recalled")
    assert "is reversed" in response.content.decode()
    assert Payment.objects.get(pk=posted.pk).status == "reversed"
    assert LedgerEntry.objects.filter(kind="reversal").exists()
    response = act(client, PAYMENTS, "reverse_payments", posted, post="yes", reason="again")
    assert "already reversed" in response.content.decode()


def test_transferring_from_suspense_asks_for_the_account(
    desk: Desk, paid: tuple[Payment, Payment]
) -> None:
    _, unknown = paid
    client = client_of(desk)
    response = act(client, SUSPENSE, "transfer_payments", unknown)
    assert "Transfer these payments" in response.content.decode()
    response = act(client, SUSPENSE, "transfer_payments", unknown, post="yes", account_number="x")
    assert response.context["form"].errors == {"account_number": ["There is no account x."]}
    response = act(
        client, SUSPENSE, "transfer_payments", unknown, post="yes", account_number="000101"
    )
    assert "is transferred to account 000101" in response.content.decode()
    stored = Payment.objects.get(pk=unknown.pk)
    assert (stored.status, stored.account) == ("transferred", desk.account)


def test_another_organisations_account_is_not_found(
    make: Any, desk: Desk, paid: tuple[Payment, Payment]
) -> None:
    _, unknown = paid
    make.account(make.premise(make.building(make.tenant())), number="777")
    response = act(
        client_of(desk), SUSPENSE, "transfer_payments", unknown, post="yes", account_number="777"
    )
    assert response.context["form"].errors == {"account_number": ["There is no account 777."]}


@pytest.mark.parametrize("role", ["auditor", "cashier"])
def test_roles_that_may_not_change_payments_get_no_actions(
    desk: Desk, paid: tuple[Payment, Payment], role: str
) -> None:
    posted, unknown = paid
    client = client_of(desk, role)
    assert client.get(PAYMENTS).status_code == 200
    act(client, PAYMENTS, "reverse_payments", posted, post="yes", reason="no")
    act(client, SUSPENSE, "transfer_payments", unknown, post="yes", account_number="000101")
    assert list(Payment.objects.order_by("id").values_list("status", flat=True)) == [
        "posted",
        "suspense",
    ]


def test_the_suspense_list_is_russian(desk: Desk, paid: tuple[Payment, Payment]) -> None:
    with translation.override("en"):  # the request activates Russian; put English back
        page = client_of(desk).get(f"/ru{SUSPENSE}").content.decode()
    assert "Невыясненные платежи" in page
    assert "счёт не найден" in page

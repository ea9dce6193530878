"""The back-office of online payments: a contract's secret is written, never shown back, and
rotated with a window; transactions and requests are read-only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from online_shop import SECRET, Shop

from kvit.online.models import Aggregator

pytestmark = pytest.mark.django_db
NEW = "a-brand-new-secret-for-the-test-bank-42"


def client_of(shop: Shop, role: str) -> Client:
    client = Client()
    client.force_login(shop.make.user(shop.tenant, role))
    return client


def form(shop: Shop, **changes: Any) -> dict[str, Any]:
    return {
        "code": shop.aggregator.code,
        "name": "Test bank",
        "provider": "",
        "tolerance": "300",
        "is_active": "on",
        "new_secret": "",
        "keep_previous_hours": "24",
        **changes,
    }


def change_url(shop: Shop) -> str:
    return reverse("admin:online_aggregator_change", args=[shop.aggregator.pk])


def test_a_new_contract_needs_a_secret_which_is_never_shown_again(shop: Shop) -> None:
    client = client_of(shop, "chairman")
    add = reverse("admin:online_aggregator_add")
    refused = client.post(add, form(shop, code="payme"))
    assert refused.status_code == 200 and "needs its secret" in refused.content.decode()
    response = client.post(add, form(shop, code="payme", new_secret=NEW))
    assert response.status_code == 302
    contract = Aggregator.objects.get(code="payme")
    assert contract.secret == NEW and contract.tenant == shop.tenant
    page = client.get(reverse("admin:online_aggregator_change", args=[contract.pk]))
    assert page.status_code == 200 and NEW not in page.content.decode()
    assert SECRET not in client.get(change_url(shop)).content.decode()


@pytest.mark.parametrize("hours", [24, 0])
def test_a_new_secret_keeps_the_old_one_valid_for_the_window(shop: Shop, hours: int) -> None:
    client = client_of(shop, "chairman")
    response = client.post(
        change_url(shop), form(shop, new_secret=NEW, keep_previous_hours=str(hours))
    )
    assert response.status_code == 302
    contract = Aggregator.objects.get(pk=shop.aggregator.pk)
    assert contract.secret == NEW
    if hours:
        assert contract.previous_secret == SECRET
        assert contract.previous_secret_until is not None
        left = contract.previous_secret_until - timezone.now()
        assert timedelta(hours=23) < left <= timedelta(hours=24)
        assert shop.bank.check("000101").status == 200  # the aggregator may still use it
    else:
        assert (contract.previous_secret, contract.previous_secret_until) == ("", None)
        assert shop.bank.check("000101").status == 401


def test_saving_without_a_new_secret_keeps_the_secret(shop: Shop) -> None:
    response = client_of(shop, "chairman").post(change_url(shop), form(shop, name="Renamed"))
    assert response.status_code == 302
    contract = Aggregator.objects.get(pk=shop.aggregator.pk)
    assert (contract.name, contract.secret, contract.previous_secret) == ("Renamed", SECRET, "")


def test_an_accountant_sees_the_contract_but_cannot_change_it(shop: Shop) -> None:
    client = client_of(shop, "accountant")
    assert client.get(change_url(shop)).status_code == 200
    assert client.post(change_url(shop), form(shop, new_secret=NEW)).status_code == 403
    assert Aggregator.objects.get(pk=shop.aggregator.pk).secret == SECRET


def test_transactions_and_requests_are_listed_read_only(shop: Shop) -> None:
    shop.bank.pay("000101", "10.00", "t-1")
    client = client_of(shop, "chairman")
    transactions = reverse("admin:online_onlinetransaction_changelist")
    page = client.get(transactions, {"state": "performed"})
    assert page.status_code == 200 and "t-1" in page.content.decode()
    requests = client.get(reverse("admin:online_onlineevent_changelist"), {"security": "0"})
    assert requests.status_code == 200 and "performed" in requests.content.decode()
    assert client.get(reverse("admin:online_onlinetransaction_add")).status_code == 403

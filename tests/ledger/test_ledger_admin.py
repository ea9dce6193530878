"""The ledger in the back-office: entries are read-only; periods are opened with the add form
and closed with an action that asks first."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from ledger_books import FEB, JAN, Books

from kvit.ledger.actions import close_period, open_period
from kvit.ledger.models import BillingPeriod, LedgerEntry

pytestmark = pytest.mark.django_db

ENTRIES = reverse("admin:ledger_ledgerentry_changelist")
PERIODS = reverse("admin:ledger_billingperiod_changelist")


def client_of(make: Any, books: Books, role: str) -> Client:
    client = Client()
    client.force_login(make.user(books.tenant, role))
    return client


def close_action(client: Client, *periods: BillingPeriod, confirm: bool) -> Any:
    data = {"action": "close_periods", ACTION_CHECKBOX_NAME: [p.pk for p in periods]}
    if confirm:
        data["post"] = "yes"
    return client.post(PERIODS, data, follow=confirm)


def test_entries_are_listed_and_shown_but_never_added_changed_or_deleted(
    make: Any, books: Books
) -> None:
    entry = books.post()
    client = client_of(make, books, "chairman")
    change = reverse("admin:ledger_ledgerentry_change", args=[entry.pk])
    listing = client.get(ENTRIES)
    assert listing.status_code == 200
    assert change in listing.content.decode()
    assert "delete_selected" not in listing.content.decode()
    page = client.get(change)
    assert page.status_code == 200
    assert page.context["adminform"].form.fields == {}  # every field read-only
    assert client.get(reverse("admin:ledger_ledgerentry_add")).status_code == 403
    assert client.post(change, {"amount": "1.00"}).status_code == 403
    delete = reverse("admin:ledger_ledgerentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.amount == 100


def test_entries_filter_by_kind_and_period(make: Any, books: Books) -> None:
    open_period(books.tenant, FEB)
    january = books.post()
    february = books.post(period=FEB, kind="payment", service=None, amount=-50)
    client = client_of(make, books, "auditor")

    def listed(query: dict[str, str]) -> set[int]:
        response = client.get(ENTRIES, query)
        return {row.pk for row in response.context["cl"].result_list}

    assert listed({}) == {january.pk, february.pk}
    assert listed({"kind": "payment"}) == {february.pk}
    assert listed({"period": "2024-01-01"}) == {january.pk}
    page = client.get(ENTRIES).content.decode()
    assert "2024-02" in page


def test_the_entry_list_costs_the_same_queries_at_any_size(make: Any, books: Books) -> None:
    client = client_of(make, books, "chairman")
    books.post()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(ENTRIES).status_code == 200
        return len(captured)

    before = queries()
    for _ in range(5):
        books.post(provider=books.heat, service=books.heat_service)
    assert queries() == before


def test_a_period_is_opened_with_the_add_form(make: Any, books: Books) -> None:
    client = client_of(make, books, "accountant")
    response = client.post(reverse("admin:ledger_billingperiod_add"), {"period": "2024-02-01"})
    assert response.status_code == 302
    opened = BillingPeriod.objects.get(tenant=books.tenant, period=FEB)
    assert opened.is_open


def test_the_add_form_refuses_a_period_before_a_closed_one(make: Any, books: Books) -> None:
    close_period(books.tenant, JAN, books.user)
    client = client_of(make, books, "accountant")
    response = client.post(reverse("admin:ledger_billingperiod_add"), {"period": "2023-12-01"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "period": ["The period 2023-12 cannot be opened: the later period 2024-01 is closed."]
    }


def test_closing_asks_first_then_closes_in_order(make: Any, books: Books) -> None:
    february = open_period(books.tenant, FEB)
    january = BillingPeriod.objects.get(tenant=books.tenant, period=JAN)
    client = client_of(make, books, "accountant")
    asked = close_action(client, february, january, confirm=False)
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "Close these billing periods?" in page
    assert "2024-01" in page and "2024-02" in page
    assert BillingPeriod.objects.filter(status="closed").count() == 0

    done = close_action(client, february, january, confirm=True)
    assert done.status_code == 200
    assert {p.status for p in BillingPeriod.objects.filter(tenant=books.tenant)} == {"closed"}
    january.refresh_from_db()
    assert january.closed_by is not None and january.closed_by.role == "accountant"
    messages = [str(m) for m in done.context["messages"]]
    assert messages == ["The period 2024-01 is closed.", "The period 2024-02 is closed."]


def test_a_refused_close_is_reported(make: Any, books: Books) -> None:
    february = open_period(books.tenant, FEB)
    client = client_of(make, books, "chairman")
    done = close_action(client, february, confirm=True)
    messages = [str(m) for m in done.context["messages"]]
    assert messages == ["Close the earlier period 2024-01 first: periods are closed in order."]
    february.refresh_from_db()
    assert february.is_open


@pytest.mark.parametrize("role", ["auditor", "cashier", "operator", "engineer"])
def test_only_the_accountant_and_the_chairman_close_periods(
    make: Any, books: Books, role: str
) -> None:
    january = BillingPeriod.objects.get(tenant=books.tenant, period=JAN)
    client = client_of(make, books, role)
    assert "close_periods" not in client.get(PERIODS).content.decode()
    close_action(client, january, confirm=True)
    january.refresh_from_db()
    assert january.is_open
    assert client.get(reverse("admin:ledger_billingperiod_add")).status_code == 403


def test_another_tenants_period_is_not_closed(make: Any, books: Books) -> None:
    stranger = make.billing_period(make.tenant())
    client = client_of(make, books, "chairman")
    close_action(client, stranger, confirm=True)
    stranger.refresh_from_db()
    assert stranger.is_open
    assert LedgerEntry.objects.count() == 0

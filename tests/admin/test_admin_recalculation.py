"""The back-office saves billing inputs through the actions: a page's save is billed at once,
as one change, and the page says what was recalculated."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import admin_factories as factories
import pytest
from admin_factories import add_rows, admin_url, form_data

from kvit.accounts.models import Account
from kvit.ledger.actions import close_period, open_period
from kvit.ledger.models import LedgerEntry
from kvit.metering.models import Meter, Reading
from kvit.people.models import Registration
from kvit.premises.models import MeterImpossibility, Premise
from kvit.tariffs.models import Tariff
from realtime_world import (
    JULY,
    JUNE,
    assert_current,
    billed,
    entries,
    water_by_meter,
    water_by_norm,
)

pytestmark = pytest.mark.django_db


def said(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def billed_account(make: Any, client_as: Any, role: str = "operator") -> tuple[Any, Any]:
    account = water_by_norm(make)
    billed(account.tenant)
    return account, client_as(factories.user(account.tenant, role))


def test_a_resident_added_on_the_account_page_is_billed_at_once(make: Any, client_as: Any) -> None:
    account, client = billed_account(make, client_as)
    newcomer = make.person(account.tenant)
    url = admin_url(Account, "change", account.pk)
    data = add_rows(
        form_data(client.get(url)),
        "registrations",
        {"person": newcomer.pk, "kind": "permanent", "effective_from": "2025-06-16"},
    )
    response = client.post(url, data, follow=True)
    assert "Recalculation for 2025-06, 2025-07: +348.43 RUB, accounts changed: 1." in said(response)
    assert [e[:4] for e in entries(account)] == [
        (JULY.first_day, "recalculation", JUNE.first_day, "residents_changed"),
        (JULY.first_day, "charge", None, "residents_changed"),
    ]
    assert_current(account.tenant)
    again = client.post(url, form_data(client.get(url)), follow=True)  # saved unchanged
    assert not any("Recalculation" in text for text in said(again))
    assert len(entries(account)) == 2


def test_a_move_out_and_a_benefit_in_one_save_are_one_recalculation(
    make: Any, client_as: Any
) -> None:
    account = water_by_norm(make, persons=2)
    billed(account.tenant)
    client = client_as(factories.user(account.tenant, "operator"))
    category = make.benefit_category(account.tenant)
    category.services.set([account.services.get().service])
    url = admin_url(Account, "change", account.pk)
    data = form_data(client.get(url))
    data["registrations-1-effective_to"] = "2025-07-16"
    add_rows(
        data,
        "benefits",
        {
            "person": data["registrations-0-person"],
            "category": category.pk,
            "effective_from": "2025-07-01",
        },
    )
    response = client.post(url, data, follow=True)
    assert len([text for text in said(response) if "Recalculation" in text]) == 1
    # July's charge corrected for both changes at once, the benefit a new line of July
    assert [e[:4] for e in entries(account)] == [
        (JULY.first_day, "charge", None, "recalculated"),
        (JULY.first_day, "benefit", None, ""),
    ]
    assert_current(account.tenant)


def test_account_rows_are_ended_there_not_deleted(make: Any, client_as: Any) -> None:
    account, client = billed_account(make, client_as)
    url = admin_url(Account, "change", account.pk)
    page = client.get(url)
    assert "registrations-0-DELETE" not in page.content.decode()
    data = form_data(page)
    data["registrations-0-DELETE"] = "on"
    assert client.post(url, data).status_code == 302
    assert account.registrations.count() == 1
    assert entries(account) == []


def test_deleting_a_registration_asks_first_and_is_billed(make: Any, client_as: Any) -> None:
    account, client = billed_account(make, client_as)
    registration = account.registrations.get()
    url = admin_url(Registration, "delete", registration.pk)
    page = client.get(url)
    assert page.status_code == 200
    assert any("Deleting this row recalculates" in text for text in said(page))
    response = client.post(url, {"post": "yes"}, follow=True)
    assert not Registration.objects.filter(pk=registration.pk).exists()
    assert "Recalculation for 2025-06, 2025-07: -464.54 RUB, accounts changed: 1." in said(response)
    assert_current(account.tenant)


def test_a_tariff_corrected_on_its_page_is_billed_for_every_account(
    make: Any, client_as: Any
) -> None:
    account, client = billed_account(make, client_as, "accountant")
    water_by_norm(make, account.tenant)  # a second account on the same tariff, not billed yet
    tariff = Tariff.objects.get(tenant=account.tenant)
    url = admin_url(Tariff, "change", tariff.pk)
    data = form_data(client.get(url))
    data["value"] = "50.000000"
    response = client.post(url, data, follow=True)
    # the first account: 2 × 4.98 more; the second, billed for the first time: 2 × 237.25
    assert "Recalculation for 2025-06, 2025-07: +484.46 RUB, accounts changed: 2." in said(response)
    assert_current(account.tenant)


def test_a_change_that_finds_no_open_period_is_refused_and_nothing_saved(
    make: Any, client_as: Any
) -> None:
    account, client = billed_account(make, client_as)
    open_period(account.tenant, factories.date(2025, 8, 1))
    close_period(account.tenant, JULY.first_day, None)
    close_period(account.tenant, factories.date(2025, 8, 1), None)
    url = admin_url(Account, "change", account.pk)
    data = add_rows(
        form_data(client.get(url)),
        "registrations",
        {
            "person": make.person(account.tenant).pk,
            "kind": "permanent",
            "effective_from": "2025-06-16",
        },
    )
    response = client.post(url, data, follow=True)
    assert any("No open period to post the recalculation of 2025-06" in t for t in said(response))
    assert account.registrations.count() == 1
    assert LedgerEntry.objects.filter(account=account, run_id__isnull=True).count() == 0


def test_bulk_deletion_is_not_offered(make: Any, client_as: Any) -> None:
    account, client = billed_account(make, client_as)
    page = client.get(admin_url(Registration, "changelist")).content.decode()
    assert account.registrations.get().person.last_name in page
    assert "delete_selected" not in page
    assert Decimal(0) < sum(LedgerEntry.objects.values_list("amount", flat=True))


def test_accounts_that_cannot_be_recalculated_are_named(make: Any, client_as: Any) -> None:
    account, client = billed_account(make, client_as, "accountant")
    tariff = Tariff.objects.get(tenant=account.tenant)
    response = client.post(admin_url(Tariff, "delete", tariff.pk), {"post": "yes"}, follow=True)
    assert not Tariff.objects.filter(pk=tariff.pk).exists()
    (warning,) = [text for text in said(response) if "not recalculated" in text]
    assert warning.startswith(
        f"Accounts not recalculated (they keep their charges): 1. {account.number}: "
    )
    assert "tariff" in warning
    assert entries(account) == []


# --- readings: entered, corrected and removed on their pages, billed at once ---------------


def metered(make: Any, client_as: Any, role: str = "operator") -> tuple[Any, Any, Any]:
    """An account on a water meter read in May and June; June billed and closed, July billed
    by the average (no reading yet); a client of `role`."""
    account, meter = water_by_meter(make)
    make.reading(meter, taken_on=factories.date(2025, 5, 20), value=Decimal("100.000"))
    make.reading(meter, taken_on=factories.date(2025, 6, 20), value=Decimal("105.000"))
    billed(account.tenant)
    return account, meter, client_as(factories.user(account.tenant, role))


def test_a_reading_added_on_its_page_is_billed_at_once(make: Any, client_as: Any) -> None:
    account, meter, client = metered(make, client_as)
    url = admin_url(Reading, "add")
    data = form_data(client.get(url))
    data.update(meter=meter.pk, taken_on="2025-07-20", value="112.000")
    response = client.post(url, data, follow=True)
    assert meter.readings.filter(value=Decimal("112.000")).exists()
    assert any(text.startswith("Recalculation for 2025-07: ") for text in said(response))
    assert [e[:3] for e in entries(account)] == [(JULY.first_day, "charge", None)]
    assert_current(account.tenant)


def test_a_reading_of_a_closed_period_corrected_on_its_page_is_recalculated(
    make: Any, client_as: Any
) -> None:
    account, meter, client = metered(make, client_as)
    june = meter.readings.get(taken_on=factories.date(2025, 6, 20))
    url = admin_url(Reading, "change", june.pk)
    data = form_data(client.get(url))
    data["value"] = "106.000"
    client.post(url, data, follow=True)
    assert ("recalculation", JUNE.first_day, "late_reading") in {e[1:4] for e in entries(account)}
    assert_current(account.tenant)


def test_a_reading_deleted_on_its_page_is_billed(make: Any, client_as: Any) -> None:
    account, meter, client = metered(make, client_as)
    june = meter.readings.get(taken_on=factories.date(2025, 6, 20))
    response = client.post(admin_url(Reading, "delete", june.pk), {"post": "yes"}, follow=True)
    assert not Reading.objects.filter(pk=june.pk).exists()
    assert any(text.startswith("Recalculation for 2025-06, 2025-07: ") for text in said(response))
    assert_current(account.tenant)


def test_readings_added_on_the_meter_page_are_billed_at_once(make: Any, client_as: Any) -> None:
    account, meter, client = metered(make, client_as, "engineer")
    url = admin_url(Meter, "change", meter.pk)
    data = add_rows(
        form_data(client.get(url)),
        "readings",
        {
            "zone": meter.zone_codes[0],
            "taken_on": "2025-07-20",
            "value": "112.000",
            "source": "operator",
            "kind": "actual",
            "status": "accepted",
        },
    )
    response = client.post(url, data, follow=True)
    assert any(text.startswith("Recalculation for 2025-07: ") for text in said(response))
    assert_current(account.tenant)


def test_a_reading_on_the_meter_page_that_finds_no_open_period_is_refused(
    make: Any, client_as: Any
) -> None:
    account, meter, client = metered(make, client_as, "engineer")
    open_period(account.tenant, factories.date(2025, 8, 1))
    close_period(account.tenant, JULY.first_day, None)
    close_period(account.tenant, factories.date(2025, 8, 1), None)
    url = admin_url(Meter, "change", meter.pk)
    data = form_data(client.get(url))
    assert data["readings-0-taken_on"] == "2025-06-20"
    data["readings-0-value"] = "104.000"  # June's reading corrected: June is closed
    response = client.post(url, data, follow=True)
    assert any("No open period to post the recalculation of 2025-06" in t for t in said(response))
    assert list(meter.readings.order_by("taken_on").values_list("value", flat=True)) == [
        Decimal("100.000"),
        Decimal("105.000"),
    ]


def test_a_premise_area_and_its_impossibility_act_saved_on_its_page_are_billed_at_once(
    make: Any, client_as: Any
) -> None:
    account, client = billed_account(make, client_as, "engineer")
    url = admin_url(Premise, "change", account.premise_id)
    data = add_rows(
        form_data(client.get(url)),
        "meter_impossibilities",
        {"resource": "cold_water", "act_number": "7", "act_on": "2020-01-01"},
    )
    data["area"] = "60.00"
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    assert any(text.startswith("Recalculation for 2025-06, 2025-07") for text in said(response))
    assert Premise.objects.get(pk=account.premise_id).area == Decimal("60.00")
    assert MeterImpossibility.objects.filter(premise_id=account.premise_id).count() == 1
    assert_current(account.tenant)
